#!/bin/sh
# /init of the qemu lane's initramfs (busybox sh). Mounts the pseudo file systems, loads the
# kernel modules, runs each scenario of /lane/scenarios in a subshell with a time limit, prints
# one line per scenario and a final LANE RESULT line, then reports through the isa-debug-exit
# port: byte 0 = every scenario passed, 1 = something failed (qemu exits 1 or 3).
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/netns /var/run/vsftpd/empty

# Writes the result byte to I/O port 0xf4 (offset 244 of /dev/port) and powers off as a
# fallback (then qemu exits 0, which the lane reads as "no result").
report() {
  # shellcheck disable=SC2059 # the format is the octal escape of the byte, built on purpose
  printf "\\$(printf '%03o' "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  sleep 1
  poweroff -f
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }
echo "LANE boot: /init at $(uptime_s)s, kernel $(uname -r)"

fail=0
while read -r m; do
  if ! out=$(insmod "/lib/modules/$m" 2>&1); then
    case $out in
      *"File exists"*) ;;
      *) echo "LANE insmod $m: $out" ;;
    esac
  fi
done </lib/modules/load.order
while read -r m; do
  if [ ! -d "/sys/module/$m" ]; then
    echo "LANE module $m is not loaded"
    fail=1
  fi
done </lib/modules/wanted
echo "LANE modules loaded at $(uptime_s)s"
ip link set lo up

if [ "$fail" -ne 0 ]; then
  echo "LANE RESULT FAIL (modules)"
  report 1
fi

while read -r s; do
  start=$(uptime_s)
  echo "=== SCENARIO $s"
  # Each scenario runs in its own shell; its background jobs must write to files, or the
  # console stays open. 400 s is a guard (a loaded TCG guest is slow) well above any scenario's expected time;
  # a scenario may set its own with a line "# lane-limit: SECONDS".
  limit=$(sed -n 's/^# lane-limit: *\([0-9][0-9]*\).*/\1/p' "/lane/$s.sh" | head -n 1)
  timeout -s KILL "${limit:-400}" sh -c ". /lane/lib.sh; . /lane/$s.sh" </dev/null
  rc=$?
  end=$(uptime_s)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  if [ "$rc" -eq 0 ]; then
    echo "=== SCENARIO $s PASS (${secs}s)"
  else
    echo "=== SCENARIO $s FAIL rc=$rc (${secs}s)"
    fail=1
  fi
  # Whatever the scenario left behind (namespaces, helpers) must not leak into the next one.
  sh -c ". /lane/lib.sh; lane_cleanup" >/dev/null 2>&1
done </lane/scenarios

if [ "$fail" -eq 0 ]; then
  echo "LANE RESULT PASS at $(uptime_s)s"
  report 0
fi
echo "LANE RESULT FAIL at $(uptime_s)s"
report 1
