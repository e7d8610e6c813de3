#!/usr/bin/env bash
# Real-systemd lane: installs the built Debian package into a minimal Debian 12 system and boots
# it with systemd as PID 1 (systemd-nspawn --boot), where tests/package/systemd_lane/inside.sh
# runs as a unit: install (nothing enabled or started), `systemctl enable --now ftpalgd` after
# editing the one config file, FTP through the gateway (client and server namespaces inside
# the container), `systemctl reload` (a changed policy applies, a broken file is rejected),
# `systemctl restart` mid-transfer, `systemctl stop`, the journal, `systemd-analyze verify` and
# `security`, `apt-get purge`.
#
#   scripts/systemd-lane.sh BUILD_DIR [DEB]
#
# DEB defaults to the newest BUILD_DIR/deb/ftpalg_*.deb (scripts/build-deb.sh BUILD_DIR/deb).
# The Debian root is built once with mmdebstrap from Debian's packages and cached in
# BUILD_DIR/systemd-lane/root; each run boots it with --volatile=overlay, so the cache stays
# clean. Prints each check, the time taken and the unit's exposure figure; exits non-zero when
# a check fails. FTPALG_LANE_TIMEOUT bounds the boot (seconds, default 300).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'systemd-lane: %s\n' "$*"; }
die() {
  printf 'systemd-lane: FAIL: %s\n' "$*" >&2
  exit 1
}
(($# >= 1)) || die "usage: $0 BUILD_DIR [DEB]"
build=$(cd "$1" && pwd) || die "no build directory $1"
deb=${2:-$(find "$build/deb" -maxdepth 1 -name 'ftpalg_*.deb' -printf '%T@ %p\n' 2>/dev/null |
  sort -n | tail -n1 | cut -d' ' -f2-)}
[[ -f $deb ]] || die "no package (run scripts/build-deb.sh $build/deb first)"
[[ $(id -u) -eq 0 ]] || die "needs root (systemd-nspawn)"
for tool in mmdebstrap systemd-nspawn; do
  command -v "$tool" >/dev/null || die "$tool missing: scripts/install-deps.sh package"
done
t0=$(date +%s)
dir=$build/systemd-lane
root=$dir/root
mkdir -p "$dir"

# --- the cached Debian 12 root ---------------------------------------------------------------
# Runtime libraries of the package are included so that dpkg -i needs no network inside.
pkgs=systemd,systemd-sysv,dbus,nftables,iptables,vsftpd,curl,iproute2,procps,kmod,man-db
pkgs+=,libnetfilter-queue1,libnetfilter-conntrack3,libnftnl11,libmnl0,libnetfilter-cthelper0
pkgs+=,libpcap0.8,libfmt9,libtomlplusplus3
stamp="bookworm minbase $pkgs lane-unit-1"
if [[ ! -f $root/.lane-stamp || $(cat "$root/.lane-stamp") != "$stamp" ]]; then
  say "building the Debian 12 root with mmdebstrap (cached in $root)"
  rm -rf "$root" "$root.tmp"
  timeout 900 mmdebstrap --variant=minbase --include="$pkgs" --aptopt='Acquire::Retries "3"' \
    bookworm "$root.tmp" http://deb.debian.org/debian >"$dir/mmdebstrap.log" 2>&1 ||
    { tail -n 20 "$dir/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $dir/mmdebstrap.log)"; }
  # The lane's own unit: runs /lane/inside.sh once the system is up.
  cat >"$root.tmp/etc/systemd/system/ftpalg-lane.service" <<'UNIT'
[Unit]
Description=ftpalg real-systemd lane checks
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/bash /lane/inside.sh
[Install]
WantedBy=multi-user.target
UNIT
  ln -sf /etc/systemd/system/ftpalg-lane.service \
    "$root.tmp/etc/systemd/system/multi-user.target.wants/ftpalg-lane.service"
  # vsftpd runs in the lane's server namespace only.
  rm -f "$root.tmp/etc/systemd/system/multi-user.target.wants/vsftpd.service"
  echo ftpalg-lane >"$root.tmp/etc/hostname"
  printf '%s\n' "$stamp" >"$root.tmp/.lane-stamp"
  mv "$root.tmp" "$root"
  say "root built in $(($(date +%s) - t0))s"
else
  say "using the cached root $root"
fi

# --- boot --------------------------------------------------------------------------------------
lane=$dir/lane
rm -rf "$lane"
mkdir -p "$lane"
cp "$deb" "$lane/ftpalg.deb"
cp "$here/tests/package/systemd_lane/inside.sh" "$lane/inside.sh"
say "booting $(basename "$deb") under systemd-nspawn --boot"
t1=$(date +%s)
# No service manager on the host to register with (--register=no --keep-unit); a private
# network namespace; all capabilities so the container's root can make namespaces.
rc=0
timeout "${FTPALG_LANE_TIMEOUT:-300}" systemd-nspawn -D "$root" --boot --volatile=overlay \
  --bind="$lane:/lane" --private-network --capability=all --register=no --keep-unit \
  --console=pipe -q >"$dir/console.log" 2>&1 || rc=$?
say "container ran $(($(date +%s) - t1))s (exit $rc)"
cat "$lane/result" 2>/dev/null || true
if [[ -f $lane/security.txt ]]; then
  say "systemd-analyze security ftpalgd (exposure $(cat "$lane/exposure" 2>/dev/null)):"
  sed -n '/NAME/,$p' "$lane/security.txt" | grep -E '✗|Overall' | head -n 40 || true
fi
say "total $(($(date +%s) - t0))s (logs: $lane/inside.log, $lane/journal.txt, $dir/console.log)"
grep -qx DONE "$lane/result" 2>/dev/null || die "the checks did not finish (see $lane/inside.log)"
! grep -q '^FAIL' "$lane/result" || die "$(grep -c '^FAIL' "$lane/result") check(s) failed"
say "PASS"
