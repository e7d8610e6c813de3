#!/usr/bin/env bash
# qemu lane: boots one of Debian's own kernels under qemu-system-x86_64 (TCG, no KVM needed)
# with a small initramfs and runs the scenario scripts of tests/qemu/ in it. This is where
# expectation mode is tested: the kernel has nfnetlink_cthelper, the NFQUEUE conntrack glue and
# the nft queue statement, which the host kernel may lack.
#
#   scripts/qemu-lane.sh [--kernel SPEC] BUILD_DIR [SCENARIO...]
#
# SPEC (also FTPALG_QEMU_KERNEL; default current) names the kernel package, resolved with
# apt-cache at run time:
#   current   the package linux-image-amd64 depends on now
#   6.12      the newest linux-image-6.12.*+deb12-amd64 (Debian 12 ships these through
#             bookworm-security, which the default sources.list names; bookworm-backports has
#             the same series when added to the sources)
#   linux-image-...   that package (for example linux-image-6.1.0-47-amd64)
# BUILD_DIR is a configured and built tree: the kernel packages are cached under
# BUILD_DIR/qemu-lane/cache, the initramfs, console log and result lines of a kernel go to
# BUILD_DIR/qemu-lane/<kernel release>/. Our binaries are taken from BUILD_DIR
# (tests/qemu/ftpalg_ct_probe, src/daemon/ftpalgd when built). SCENARIO names a file
# tests/qemu/scenarios/NAME.sh; default: every scenario there, in one boot, except those with a
# line "# qemu-lane: own test" (a CTest test of their own names them; their results go to
# BUILD_DIR/qemu-lane/<kernel release>-<scenarios>/, apart from the default run's). Missing host tools
# are installed by scripts/install-deps.sh qemu (root); anything that cannot be installed or
# found fails the lane: it never skips. The kernel package is not installed: apt-get download
# fetches it into the build tree's cache, a test artifact. Both package layouts are handled:
# modules under /lib/modules or under a merged /usr/lib/modules, plain or compressed (.ko.xz,
# .ko.zst, .ko.gz: decompressed for busybox insmod); the image is /boot/vmlinuz-<release>.
#
# The host's root file system is shared read-only with the VM over 9p (mount tag hostroot):
# scenario 70-e2e-matrix runs the netns end-to-end suite from it (chroot into an overlay with a
# tmpfs upper layer), with the host's programs and this tree at the same paths.
#
# Environment: FTPALG_QEMU_TIMEOUT (seconds for the VM, default 1000: TCG on a loaded 2-core
# host), FTPALG_QEMU_MEM (MiB, default 1536), FTPALG_QEMU_SMP (default: number of host CPUs, at
# most 2), FTPALG_QEMU_E2E_BLOCKS (the run-block.sh blocks 70-e2e-matrix runs, default all),
# FTPALG_QEMU_E2E_TRACE=1 (70-e2e-matrix leaves a command trace with times per block in
# BUILD_DIR/qemu-lane/<release>.../out/), FTPALG_QEMU_CPU (qemu -cpu, default max),
# FTPALG_QEMU_APPEND (more kernel command line). The guest's writable share (tag laneout) is
# BUILD_DIR/qemu-lane/<release>.../out/: 70-e2e-matrix leaves each block's log there.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
qdir=$here/tests/qemu
die() { printf 'qemu-lane: FAIL: %s\n' "$*" >&2; exit 1; }
say() { printf 'qemu-lane: %s\n' "$*"; }
now_ms() { date +%s%3N; }
elapsed() { printf '%d.%01ds' $(( ($(now_ms) - $1) / 1000 )) $(( ($(now_ms) - $1) % 1000 / 100 )); }

kspec=${FTPALG_QEMU_KERNEL:-current}
if [[ ${1:-} == --kernel ]]; then
  (($# >= 2)) || die "--kernel needs a value"
  kspec=$2
  shift 2
fi
(($# >= 1)) || die "usage: $0 [--kernel current|6.12|linux-image-...] BUILD_DIR [SCENARIO...]"
build=$(cd "$1" && pwd) || die "no build directory $1"
shift
scenarios=("$@")
lane_tag=
if ((${#scenarios[@]} == 0)); then
  for f in "$qdir"/scenarios/*.sh; do
    grep -q '^# qemu-lane: own test' "$f" && continue
    scenarios+=("$(basename "$f" .sh)")
  done
else
  lane_tag=-$(IFS=+; echo "${scenarios[*]}")
fi
for s in "${scenarios[@]}"; do
  [[ -f $qdir/scenarios/$s.sh ]] || die "no scenario $qdir/scenarios/$s.sh"
done
[[ $(id -u) -eq 0 ]] || die "needs root (install-deps, kernel package extraction with device nodes)"

lane_root=$build/qemu-lane
cache=$lane_root/cache
mkdir -p "$cache"
t_all=$(now_ms)

# --- 1. Host tools ------------------------------------------------------------------------------
# command -> Debian package. busybox must be the static one: it is the VM's /bin/sh.
declare -A need=(
  [qemu-system-x86_64]=qemu-system-x86 [cpio]=cpio [depmod]=kmod [modprobe]=kmod
  [nft]=nftables [ss]=iproute2 [conntrack]=conntrack [vsftpd]=vsftpd [curl]=curl
  [apt-get]=apt [dpkg-deb]=dpkg [xz]=xz-utils [zstd]=zstd
  [keepalived]=keepalived [conntrackd]=conntrackd
)
# e2e: what 70-e2e-matrix runs from the shared host root (lftp, python3, proftpd unpacked, ...).
bash "$here/scripts/install-deps.sh" qemu e2e || die "scripts/install-deps.sh qemu e2e failed"
static_busybox() { [[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1; }
[[ -x /usr/bin/ip || -x /bin/ip ]] || die "ip missing after installing iproute2"
for c in "${!need[@]}"; do
  command -v "$c" >/dev/null 2>&1 || die "$c still missing after installing ${need[$c]}"
done
static_busybox || die "/bin/busybox is not busybox-static"

# --- 2. Kernel package -------------------------------------------------------------------------
t0=$(now_ms)
case $kspec in
  current)
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
      awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    [[ -n $kpkg ]] || die "cannot resolve the kernel package linux-image-amd64 depends on (apt-get update?)"
    ;;
  6.12)
    kpkg=$(apt-cache pkgnames linux-image-6.12. 2>/dev/null |
      grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' | sort -V | tail -n1)
    [[ -n $kpkg ]] || die "no linux-image-6.12.*+deb12-amd64 known to apt (bookworm-security in the sources? apt-get update?)"
    ;;
  linux-image-*) kpkg=$kspec ;;
  *) die "unknown kernel $kspec (current, 6.12 or a linux-image-... package)" ;;
esac
kver=${kpkg#linux-image-}
lane=$lane_root/$kver$lane_tag
mkdir -p "$lane"
deb=$(find "$cache" -maxdepth 1 -name "${kpkg}_*.deb" | sort -V | tail -n1)
if [[ -z $deb ]]; then
  say "downloading $kpkg"
  # apt drops privileges to _apt for downloads; give it a directory it may write.
  dl=$(mktemp -d)
  chmod 0777 "$dl"
  (cd "$dl" && apt-get download -q "$kpkg" >/dev/null 2>&1) ||
    { rm -rf "$dl"; die "apt-get download $kpkg failed"; }
  mv "$dl"/*.deb "$cache/" && rm -rf "$dl"
  deb=$(find "$cache" -maxdepth 1 -name "${kpkg}_*.deb" | sort -V | tail -n1)
fi
kroot=$cache/$kpkg
# The marker holds the layout version of what is extracted (2: with the 9p, overlay and virtio
# modules); another version is extracted again.
layout=2
if [[ ! -f $kroot/.extracted || $kroot/.extracted -ot $deb || $(cat "$kroot/.extracted") != "$layout" ]]; then
  say "extracting $(basename "$deb")"
  rm -rf "$kroot"
  mkdir -p "$kroot"
  # The module tree is ./lib/modules/<release> or, merged /usr, ./usr/lib/modules/<release>.
  mdir=$(dpkg-deb -c "$deb" | awk -v v="$kver" '{ p = $NF }
    index(p, "./lib/modules/" v "/modules.") == 1 || index(p, "./usr/lib/modules/" v "/modules.") == 1 {
      if (!found) { sub("/modules\\.[^/]*$", "", p); found = p } }
    END { print found }')
  [[ -n $mdir ]] || die "$deb has no modules.* under ./lib/modules/$kver or ./usr/lib/modules/$kver"
  # Only what the VM can need: the image, the module subtrees netfilter depends on, and the
  # file systems of the shared host root (9p over virtio, overlay), where the package has them
  # as modules (6.12 builds virtio_pci and fscache in).
  extra=()
  listing=$(dpkg-deb -c "$deb" | awk '{ print $NF }')
  for d in fs/9p fs/netfs fs/fscache fs/overlayfs drivers/virtio; do
    if grep -q "^$mdir/kernel/$d/" <<<"$listing"; then
      extra+=("$mdir/kernel/$d/*")
    fi
  done
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kroot" --wildcards \
    "./boot/vmlinuz-$kver" "$mdir/modules.*" \
    "$mdir/kernel/net/*" "$mdir/kernel/lib/*" \
    "$mdir/kernel/crypto/*" "$mdir/kernel/arch/*" \
    "$mdir/kernel/drivers/net/veth.ko*" "${extra[@]}" ||
    die "extracting $deb failed"
  # depmod and modprobe look under BASE/lib/modules.
  if [[ $mdir == ./usr/* && ! -e $kroot/lib ]]; then
    ln -s usr/lib "$kroot/lib"
  fi
  depmod -b "$kroot" "$kver" || die "depmod for $kver failed"
  echo "$layout" >"$kroot/.extracted"
fi
vmlinuz=$kroot/boot/vmlinuz-$kver
[[ -f $vmlinuz ]] || die "no kernel image in $deb"
say "kernel $kver from $(basename "$deb") ($(elapsed "$t0"))"

# --- 3. Initramfs ------------------------------------------------------------------------------
t0=$(now_ms)
stage=$lane/root
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib/modules,etc,proc,sys,dev,tmp,run,var/run,srv/ftp,root,lane}
cp /bin/busybox "$stage/bin/busybox"
for applet in $(/bin/busybox --list); do
  [[ -e $stage/bin/$applet ]] || ln -s busybox "$stage/bin/$applet"
done

# Copies a dynamically linked program and every library ldd names (real paths, plus the
# loader). Fails the lane when ldd cannot resolve a library.
copy_elf() {
  local src=$1 dst=$2 lib
  mkdir -p "$stage$(dirname "$dst")"
  cp -L "$src" "$stage$dst"
  if ldd "$src" | grep -q 'not found'; then
    die "$src: unresolved libraries: $(ldd "$src" | grep 'not found' | tr -s ' \t' ' ')"
  fi
  for lib in $(ldd "$src" | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
    if [[ ! -e $stage$lib ]]; then
      mkdir -p "$stage$(dirname "$lib")"
      cp -L "$lib" "$stage$lib"
    fi
  done
}
# Programs of the VM. iproute2's ip goes to /usr/sbin/ip: scenarios call it by full path,
# because busybox's own ip applet (no netns support) wins otherwise.
ip_bin=$(readlink -f /usr/bin/ip 2>/dev/null || readlink -f /bin/ip)
copy_elf "$ip_bin" /usr/sbin/ip
copy_elf "$(command -v nft)" /usr/sbin/nft
copy_elf "$(command -v conntrack)" /usr/sbin/conntrack
copy_elf "$(command -v vsftpd)" /usr/sbin/vsftpd
copy_elf "$(command -v curl)" /usr/bin/curl
# ss -K (SOCK_DESTROY) aborts a control connection with an RST (50-close-paths).
copy_elf "$(command -v ss)" /usr/sbin/ss
# High availability (60-ha): VRRP and conntrack state replication.
copy_elf "$(command -v keepalived)" /usr/sbin/keepalived
copy_elf "$(command -v conntrackd)" /usr/sbin/conntrackd
# glibc's dlopen()ed pieces some of them want (name service, iconv) are not needed: the VM has
# files-only passwd/group, which glibc 2.34+ reads without libnss_files.

# Our binaries from the build tree. The probe is required; the daemon when it exists.
probe=$build/tests/qemu/ftpalg_ct_probe
[[ -x $probe ]] || die "$probe missing: build the tree first (cmake --build $build)"
copy_elf "$probe" /usr/local/bin/ct_probe
daemon=$build/src/daemon/ftpalgd
if [[ -x $daemon ]]; then
  copy_elf "$daemon" /usr/local/bin/ftpalgd
fi

# Modules: every listed one plus its dependencies, in load order, flat in /lib/modules.
: >"$stage/lib/modules/load.order"
declare -A seen=()
while read -r mod flag _; do
  [[ -z $mod || $mod == \#* ]] && continue
  if ! deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$mod" 2>&1); then
    if [[ $flag == optional && $deps == *"not found"* ]]; then
      say "module $mod: not in $kver (optional)"
      continue
    fi
    die "module $mod: $deps"
  fi
  while read -r kind path _; do
    case $kind in
      insmod)
        name=$(basename "$path")
        if [[ -z ${seen[$name]:-} ]]; then
          seen[$name]=1
          # busybox insmod loads plain ELF only.
          case $name in
            *.ko.xz) name=${name%.xz}; xz -dc "$path" >"$stage/lib/modules/$name" ;;
            *.ko.zst) name=${name%.zst}; zstd -qdc "$path" >"$stage/lib/modules/$name" ;;
            *.ko.gz) name=${name%.gz}; gzip -dc "$path" >"$stage/lib/modules/$name" ;;
            *) cp "$path" "$stage/lib/modules/$name" ;;
          esac ||
            die "module $path: cannot decompress"
          echo "$name" >>"$stage/lib/modules/load.order"
        fi
        ;;
      builtin) ;;
      *) die "module $mod: unexpected modprobe output: $kind $path" ;;
    esac
  done <<<"$deps"
  echo "$mod" >>"$stage/lib/modules/wanted"
done <"$qdir/modules.list"

# Scripts, users, scenario selection.
cp "$qdir/init.sh" "$stage/init"
cp "$qdir/lib.sh" "$stage/lane/lib.sh"
cp "$here/scripts/lib/netns-plan.sh" "$stage/lane/netns-plan.sh"
for s in "${scenarios[@]}"; do
  cp "$qdir/scenarios/$s.sh" "$stage/lane/$s.sh"
done
printf '%s\n' "${scenarios[@]}" >"$stage/lane/scenarios"
# Where 70-e2e-matrix finds this tree and the build in the shared host root.
printf 'E2E_HOST_REPO=%q\nE2E_HOST_BUILD=%q\nE2E_BLOCKS=%q\nE2E_TRACE=%q\n' "$here" "$build" \
  "${FTPALG_QEMU_E2E_BLOCKS:-all}" "${FTPALG_QEMU_E2E_TRACE:-}" >"$stage/lane/e2e.env"
chmod 0755 "$stage/init"
cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
ftp:x:100:101:ftp:/srv/ftp:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$stage/etc/group" <<'EOF'
root:x:0:
ftp:x:101:
nogroup:x:65534:
EOF
printf 'hosts: files\npasswd: files\ngroup: files\n' >"$stage/etc/nsswitch.conf"
# nft resolves protocol and service names through these (Debian's netbase).
for f in /etc/protocols /etc/services; do
  [[ -f $f ]] || die "$f missing (install netbase)"
  cp "$f" "$stage$f"
done
: >"$stage/etc/hosts"

initrd=$lane/initramfs.cpio.gz
(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet | gzip -1) \
  >"$initrd" || die "building the initramfs failed"
say "initramfs $(du -h "$initrd" | cut -f1) with $(wc -l <"$stage/lib/modules/load.order") modules ($(elapsed "$t0"))"

# --- 3b. Hot files of 70-e2e-matrix -------------------------------------------------------------
# Under TCG every open() over 9p costs ~20 ms (measured: 500 opens of one cached file 10.5 s over
# 9p, 1.1 s on tmpfs; a curl start 2.2 s, python3 with ftplib and json 4.6 s): the programs the
# end-to-end suite runs, their libraries and the Python modules of its driver go into one tar
# (read by the guest in one sequential pass) that the guest unpacks into the overlay's tmpfs
# upper layer, so they are opened from RAM. Paths are the real ones (merged /usr: /lib is a
# symlink the upper layer must not shadow). A file left out is read from the host, only slower.
hot_tar=
if [[ " ${scenarios[*]} " == *" 70-e2e-matrix "* ]]; then
  t0=$(now_ms)
  hot_tar=$lane/hot.tar
  hot_list=$lane/hot.list
  {
    for c in bash sh env timeout ip nft conntrack ss sysctl ethtool tcpdump vsftpd lftp curl \
      python3 sha256sum cut grep sed awk head tail wc seq sleep date mktemp realpath dirname \
      basename cat rm mkdir chmod chown tr sort id ldd mkfifo uname tee kill ps mv cp ln; do
      p=$(command -v "$c" 2>/dev/null) || continue
      if [[ $p == /* ]]; then echo "$p"; fi
    done
    for p in "$build/src/daemon/ftpalgd" "$build/src/cli/ftpalg" \
      /var/cache/ftpalg-e2e/root/usr/sbin/proftpd /usr/sbin/proftpd; do
      if [[ -x $p ]]; then echo "$p"; fi
    done
  } | sort -u >"$hot_list.bin"
  {
    while read -r p; do
      readlink -f "$p"
      ldd "$p" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }' | xargs -r readlink -f || true
    done <"$hot_list.bin"
    # The driver's Python modules (Debian's interpreter, the one the guest runs) and their
    # compiled forms.
    /usr/bin/python3 - "$here/tests/netns/e2e" <<'PY' 2>/dev/null || true
import importlib.util, os, sys
sys.path.insert(0, sys.argv[1])
import ftp_driver, compare_events  # noqa: F401
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None)
    if not f or not os.path.isfile(f):
        continue
    print(os.path.realpath(f))
    if f.endswith(".py"):
        try:
            c = importlib.util.cache_from_source(f)
        except (NotImplementedError, ValueError):
            continue
        if os.path.isfile(c):
            print(os.path.realpath(c))
PY
    find /usr/lib/locale/C.utf8 -type f 2>/dev/null
    echo /etc/ld.so.cache
    # The suite itself: the guest runs the tree as it was when the lane started.
    find "$here/tests/netns/e2e" "$here/tests/netns/lib" "$here/scripts/lib" -maxdepth 1 -type f \
      \( -name '*.sh' -o -name '*.py' -o -name '*.txt' \)
  } | grep "^/" | sort -u >"$hot_list"
  tar -cf "$hot_tar" -C / --no-recursion -T <(sed 's|^/||' "$hot_list") 2>/dev/null ||
    die "building $hot_tar failed"
  say "hot files for the guest: $(wc -l <"$hot_list") files, $(du -h "$hot_tar" | cut -f1) ($(elapsed "$t0"))"
fi
# The runnable proftpd (tests/netns/lib/e2e.sh e2e_proftpd_bin), checked here, not by ldd in the
# guest for every block.
proftpd_bin=
for p in /usr/sbin/proftpd /var/cache/ftpalg-e2e/root/usr/sbin/proftpd; do
  if [[ -x $p ]] && ! ldd "$p" 2>/dev/null | grep -q 'not found'; then
    proftpd_bin=$p
    break
  fi
done
printf 'E2E_HOT=%q\nE2E_PROFTPD=%q\n' "$hot_tar" "$proftpd_bin" >>"$stage/lane/e2e.env"

# --- 4. Boot -----------------------------------------------------------------------------------
t0=$(now_ms)
timeout_s=${FTPALG_QEMU_TIMEOUT:-1000}
mem=${FTPALG_QEMU_MEM:-1536}
smp=${FTPALG_QEMU_SMP:-$(($(nproc) > 2 ? 2 : $(nproc)))}
log=$lane/console.log
cpu=${FTPALG_QEMU_CPU:-max}
# no_timer_check: on a loaded host the TCG guest is too slow for the kernel's IO-APIC timer check,
# which then panics at boot ("IO-APIC + timer doesn't work", seen once on 6.12).
append="console=ttyS0 panic=-1 oops=panic loglevel=4 rdinit=/init no_timer_check ${FTPALG_QEMU_APPEND:-}"
# The guest's writable share (mount tag laneout): what a scenario leaves for the host to read
# (70-e2e-matrix: the blocks' logs).
rm -rf "$lane/out"
mkdir -p "$lane/out"
say "booting (timeout ${timeout_s}s, ${smp} CPU, ${mem} MiB): ${scenarios[*]}"
set +e
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
  -machine q35 -accel tcg,thread=multi -cpu "$cpu" -smp "$smp" -m "$mem" \
  -kernel "$vmlinuz" -initrd "$initrd" \
  -append "$append" \
  -nographic -nic none -no-reboot \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$lane/out",mount_tag=laneout,security_model=none \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
  </dev/null 2>&1 | tr -d '\r' | tee "$log"
rc=${PIPESTATUS[0]}
set -e
say "VM ran $(elapsed "$t0"), qemu exit $rc, total $(elapsed "$t_all"), log $log"

# /init writes 0 (all scenarios passed) or 1 to the isa-debug-exit port: qemu exits with
# (value << 1) | 1. 0 means the VM powered off or panicked without reporting; 124 a timeout.
# Result lines of the scenarios (docs/interop.md, scripts/interop-table.py format).
# The mode names the kernel: one column per kernel in docs/interop.md.
sed -n 's/^LANE-RESULT //p' "$log" |
  sed "s/\"mode\": *\"\(ftpalgd-expect[a-z-]*\)\"/\"mode\": \"\1:$kver\"/" >"$lane/results.jsonl"
say "kernel $kver: $(grep -c '"result": *"pass"' "$lane/results.jsonl") case(s) passed, $(grep -vc '"result": *"pass"' "$lane/results.jsonl") not; results $lane/results.jsonl"
case $rc in
  1) grep -q '^LANE RESULT PASS' "$log" || die "exit code says pass but no PASS line in $log"
     say "PASS" ;;
  3) die "scenario failures (see $log)" ;;
  124 | 137) die "VM timed out after ${timeout_s}s" ;;
  0) die "VM stopped without reporting a result (panic or power-off)" ;;
  *) die "qemu exit status $rc" ;;
esac
