#!/usr/bin/env bash
# Installs what ftpalg needs on Debian 12, from Debian's own packages. The only script that
# installs packages: the demo, the tests and the lanes call it with the groups they need (fast
# when everything is present; apt-get update runs first whenever something is missing).
#   install-deps.sh GROUP...
#   build    compilers and libraries to build ftpalg and its unit tests
#   netns    network namespaces: the demo, the kernel adapter tests (ctest -L netns); the
#            metrics test's parsers (python3-prometheus-client, promtool from prometheus)
#   e2e      netns + the end-to-end suite's proftpd, unpacked (not installed) under
#            $E2E_CACHE (default /var/cache/ftpalg-e2e) with the libraries it links installed:
#            vsftpd, proftpd and pure-ftpd all conflict with the virtual package ftp-server
#   bench    netns + matplotlib, perf (scripts/bench-e2e.sh, --profile, and its report)
#   golden   netns + tshark (scripts/record-golden.sh, the golden tests)
#   qemu     the qemu lane's host tools (ctest -L qemu; the lane downloads the kernel package
#            itself, into the build tree's cache: a test artifact, not an installation)
#   ha       netns + keepalived (VRRP) and conntrackd (conntrack state sync) for the
#            high-availability test (ctest -L ha)
#   lint     shellcheck, clang-format and universal-ctags (scripts/lint.sh, tests/lint)
#   fuzz     clang and its libFuzzer runtime
#   package  build + the Debian packaging tools (scripts/build-deb.sh: debhelper, lintian) and
#            the real-systemd lane's host tools (mmdebstrap, systemd-nspawn, qemu)
#   test     all of the above: everything the whole suite runs
set -euo pipefail

declare -A pkgs_of=(
  [build]="build-essential cmake ninja-build pkg-config git
    libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libfmt-dev nlohmann-json3-dev
    libtomlplusplus-dev libpcap-dev libmnl-dev libnetfilter-queue-dev libnetfilter-conntrack-dev
    libnftnl-dev libnetfilter-cthelper-dev libsystemd-dev libseccomp-dev python3 scdoc"
  [netns]="vsftpd lftp curl python3 nftables iptables conntrack tcpdump iproute2 ethtool
    coreutils procps psmisc python3-prometheus-client prometheus"
  [golden]="tshark"
  [bench]="python3-matplotlib linux-perf"
  [ha]="keepalived conntrackd"
  [qemu]="qemu-system-x86 cpio kmod nftables conntrack vsftpd curl iproute2 busybox-static
    netbase apt dpkg xz-utils zstd keepalived conntrackd"
  [lint]="shellcheck clang-format universal-ctags"
  [fuzz]="clang libclang-rt-14-dev"
  [package]="debhelper dpkg-dev devscripts equivs fakeroot lintian scdoc bash-completion
    mmdebstrap systemd-container qemu-system-x86 qemu-utils e2fsprogs kmod"
)
# Groups that include others.
declare -A includes_of=([e2e]="netns" [golden]="netns" [bench]="netns" [test]="build netns e2e golden bench qemu lint fuzz package ha" [package]="build" [ha]="netns")

log() { printf 'install-deps: %s\n' "$*"; }
die() {
  printf 'install-deps: %s\n' "$*" >&2
  exit 1
}

(($#)) || set -- build
declare -A want=()
add_group() {
  local g
  [[ -v "pkgs_of[$1]" || -v "includes_of[$1]" || $1 == e2e ]] ||
    die "unknown group $1 (groups: build netns e2e golden bench qemu lint fuzz package ha test)"
  want[$1]=1
  for g in ${includes_of[$1]:-}; do add_group "$g"; done
}
for g in "$@"; do add_group "$g"; done

# --- Debian packages -----------------------------------------------------------------------------
declare -A seen=()
pkgs=()
for g in "${!want[@]}"; do
  for p in ${pkgs_of[$g]:-}; do
    [[ -n ${seen[$p]:-} ]] || pkgs+=("$p")
    seen[$p]=1
  done
done

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

updated=''
apt_update() {
  [[ -z $updated ]] || return 0
  timeout 600 apt-get update -qq || die "apt-get update failed"
  updated=1
}

# install PKG...: installs the missing ones of PKG (root only).
install() {
  local -a missing=()
  local p
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || die "missing packages (${missing[*]}); run as root"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; the answer does not matter here.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt_update
  timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
}

install "${pkgs[@]}"

# --- proftpd for the end-to-end suite ------------------------------------------------------------
# The proftpd-core package unpacked under $E2E_CACHE/root (its binary runs from there), with
# the libraries it links installed.
unpack_proftpd() {
  local cache=${E2E_CACHE:-/var/cache/ftpalg-e2e}
  local bin=$cache/root/usr/sbin/proftpd deb libs
  [[ -x /usr/sbin/proftpd ]] && return 0
  if [[ ! -x $bin ]]; then
    [[ $(id -u) -eq 0 ]] || die "proftpd is not unpacked in $cache; run as root"
    log "unpacking proftpd-core into $cache"
    mkdir -p "$cache"
    rm -f "$cache"/proftpd-core_*.deb
    (cd "$cache" && timeout 300 apt-get download proftpd-core >/dev/null 2>&1) ||
      { apt_update && (cd "$cache" && timeout 300 apt-get download proftpd-core >/dev/null 2>&1); } ||
      die "apt-get download proftpd-core failed"
    deb=$(find "$cache" -maxdepth 1 -name 'proftpd-core_*.deb' -print -quit)
    dpkg-deb -x "$deb" "$cache/root"
  fi
  if ldd "$bin" | grep -q 'not found'; then
    libs=$(apt-cache depends proftpd-core |
      awk '$1 == "Depends:" && $2 ~ /^lib/ { print $2 }' | sort -u)
    # shellcheck disable=SC2086 # one word per package name
    install $libs
  fi
}
if [[ -n ${want[e2e]:-} ]]; then unpack_proftpd; fi

log "groups ${!want[*]}: ${#pkgs[@]} packages present"
