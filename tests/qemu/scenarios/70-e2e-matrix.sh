# shellcheck shell=sh
# lane-limit: 3800
# qemu-lane: own test (qemu_e2e_*, CTest label qemu-e2e; not in the default run)
# The netns end-to-end suite's own case list in expectation mode: tests/netns/e2e/run-block.sh
# --mode ftpalgd-expect (ftpalgd --kernel-mode cthelper --install-rules; the forward chain
# admits `ct state related`), unchanged otherwise: vsftpd and proftpd; lftp, curl, ftplib and
# the 1-byte-split client; IPv4 and IPv6; no NAT, masquerade, DNAT, both; the negative cases;
# sha256-checked transfers; the gateway capture replayed. It needs bash, python3, lftp, proftpd,
# tcpdump, ...: the host's root file system, shared read-only over 9p (scripts/qemu-lane.sh),
# is the lower layer of an overlay with a tmpfs upper one, and the blocks run chrooted into it
# (this tree and its build at the host's paths, /lane/e2e.env). The programs, libraries and
# Python modules the suite runs, and the suite's own scripts as they were at the lane's start,
# are unpacked into the tmpfs upper layer first (scripts/qemu-lane.sh "Hot files": an open()
# over 9p costs ~20 ms under TCG). Blocks: E2E_BLOCKS (all, or a list;
# FTPALG_QEMU_E2E_BLOCKS on the host), all in one run-block.sh call (one topology, driver and
# ftpalgd for all of them). The log is left in the lane's share (out/blocks.log; with
# FTPALG_QEMU_E2E_TRACE=1 also a trace of every command with its time, out/e2e-xtrace). Per case run-block.sh asserts that no packet of a
# data connection (nor any other non-control packet) reached ftpalgd's queue (its debug lines,
# counted in each case's notes); on a kernel with a known defect (lib.sh kernel_defect) such a
# case is xfail with the defect named. The packages were installed on the host before the boot
# (E2E_DEPS_PRESENT: run-block.sh does not check them again, slow under TCG). Every result line goes to the console as
# "LANE-RESULT {json}" (mode ftpalgd-expect, made ftpalgd-expect:<release> by the lane).
# shellcheck source=/dev/null # written by scripts/qemu-lane.sh into the initramfs
. /lane/e2e.env
blocks=$E2E_BLOCKS
[ "$blocks" = all ] && blocks="nonat4 nonat6 masq4 masq6 dnat4 dnat6 both4 negative"
root=/e2e/root
mkdir -p /e2e/host /e2e/rw $root
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /e2e/host ||
  fail "cannot mount the host root (9p tag hostroot)"
mount -t tmpfs -o size=900m tmpfs /e2e/rw
mkdir -p /e2e/rw/upper /e2e/rw/work
# The programs, libraries and Python modules the blocks run, copied into the upper layer: under
# TCG each open() over 9p costs ~20 ms (scripts/qemu-lane.sh, "Hot files").
if [ -n "$E2E_HOT" ]; then
  t0=$(cut -d' ' -f1 /proc/uptime)
  tar -xf "/e2e/host$E2E_HOT" -C /e2e/rw/upper || fail "cannot unpack $E2E_HOT into the upper layer"
  log "hot files unpacked into the upper layer ($(du -sm /e2e/rw/upper | cut -f1) MiB, $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }') s)"
fi
mount -t overlay overlay -o lowerdir=/e2e/host,upperdir=/e2e/rw/upper,workdir=/e2e/rw/work $root ||
  fail "cannot mount the overlay on the host root"
mount -t proc proc $root/proc
mount -t sysfs sysfs $root/sys
mount -t devtmpfs devtmpfs $root/dev
# What udev would add: bash's process substitution needs /dev/fd.
ln -sf /proc/self/fd $root/dev/fd
for i in 0:stdin 1:stdout 2:stderr; do ln -sf "/proc/self/fd/${i%%:*}" "$root/dev/${i#*:}"; done
mkdir -p $root/dev/pts $root/dev/shm
mount -t devpts devpts $root/dev/pts
mount -t tmpfs tmpfs $root/dev/shm
# This tree and its build may live under /tmp or /run (a CI checkout there): bound from the
# overlay before the tmpfs hides them, and bound back onto the same paths after.
kept=''
for p in "$E2E_HOST_REPO" "$E2E_HOST_BUILD"; do
  case $p in /tmp/* | /run/*) ;; *) continue ;; esac
  case $p in "$E2E_HOST_REPO"/*) [ -n "$kept" ] && continue ;; esac
  k=/e2e/keep/$(echo "$kept" | wc -w)
  mkdir -p "$k"
  mount -o bind "$root$p" "$k" || fail "cannot keep $p visible in the chroot"
  kept="$kept $p"
done
mount -t tmpfs tmpfs $root/tmp
mount -t tmpfs tmpfs $root/run
i=0
for p in $kept; do
  mkdir -p "$root$p"
  mount -o bind "/e2e/keep/$i" "$root$p" || fail "cannot bind $p back into the chroot"
  i=$((i + 1))
done
mkdir -p $root/run/netns
# proftpd resolves the host name ("(none)" in the VM otherwise).
hostname ftpalg-lane
echo "127.0.0.1 ftpalg-lane" >>$root/etc/hosts
run_block="$E2E_HOST_REPO/tests/netns/e2e/run-block.sh"
[ -f "$root$run_block" ] || fail "no $run_block in the shared host root"
[ -x "$root$E2E_HOST_BUILD/src/daemon/ftpalgd" ] || fail "no ftpalgd in $E2E_HOST_BUILD"
defect=$(kernel_defect)
log "blocks: $blocks; kernel $(uname -r) (upstream $(kernel_upstream)); known defect: ${defect:-none}"

# The host's view of the blocks' logs (and traces, E2E_TRACE=1): the lane's writable share.
mkdir -p /e2e/out
mount -t 9p -o trans=virtio,version=9p2000.L laneout /e2e/out || fail "cannot mount the lane's share (9p tag laneout)"
failures=0
t_all=$(cut -d' ' -f1 /proc/uptime)
# All blocks in one run-block.sh call: they share the namespaces, the driver and ftpalgd (each
# block re-routes, replaces the gateway's table and flushes conntrack; negative runs last).
chroot $root /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 E2E_KERNEL_DEFECT="$defect" E2E_DEPS_PRESENT=1 ${E2E_PROFTPD:+E2E_PROFTPD="$E2E_PROFTPD"} \
  E2E_XTRACE="${E2E_TRACE:+/tmp/e2e-xtrace}" timeout 3600 bash "$run_block" --mode ftpalgd-expect --block "$blocks" \
  --results /tmp/e2e-results.jsonl --ftpalgd "$E2E_HOST_BUILD/src/daemon/ftpalgd" \
  --ftpalg "$E2E_HOST_BUILD/src/cli/ftpalg" >/tmp/e2e-block.log 2>&1
rc=$?
grep '^\[e2e ' /tmp/e2e-block.log | sed 's/^/    /'
cp /tmp/e2e-block.log /e2e/out/blocks.log
[ -f "$root/tmp/e2e-xtrace" ] && mv "$root/tmp/e2e-xtrace" /e2e/out/
if [ -s $root/tmp/e2e-results.jsonl ]; then
  sed 's/^/LANE-RESULT /' $root/tmp/e2e-results.jsonl
  cat $root/tmp/e2e-results.jsonl >>/tmp/e2e-all.jsonl
fi
if [ $rc -ne 0 ]; then
  log "FAIL: run-block.sh exit $rc"
  grep -v '^\[e2e ' /tmp/e2e-block.log | tail -n 30 | sed 's/^/      /'
  failures=1
fi
secs=$(awk -v a="$t_all" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }')
log "guest seconds for blocks $blocks: $secs"
[ -s /tmp/e2e-all.jsonl ] || fail "no result lines"
for m in run tmp dev/shm dev/pts dev sys proc; do umount $root/$m 2>/dev/null; done
umount /e2e/out
[ $failures -eq 0 ] || fail "blocks failed"
log "ok"
