# shellcheck shell=sh
# Close paths of expectations and the helper policy the kernel enforces, on every kernel:
#  A. the kernel's policy (ct_probe as the helper, no daemon; helper registered with max 2 and
#     timeout 6 s): three PASV on one held control session leave two expectations (the kernel
#     evicts the oldest at max_expected), and an unused expectation is gone once the policy
#     timeout has passed, while its control connection is still open;
#  B. ftpalgd (idle_timeout 10 s, pinhole_timeout 60 s): the outstanding expectation of a
#     control connection is deleted when that connection ends by RST (`ss -K` in the client
#     aborts it) within 2 s, long before the kernel's CLOSE timeout would take it with its
#     master, and when the connection stays idle past idle_timeout (ftpalgd logs
#     "ended (rst)" / "ended (idle)", the expectation deleted by the session's withdrawal or by
#     the end of the connection). The FIN path is 20-nat-matrix's held PASV session.
Q=5
topo_up
ftp_server_start
in_ns gw nft -f - <<EOR || fail "ruleset"
table inet lane {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state related,established accept
    tcp dport 21 ct state new accept
    meta l4proto { icmp, ipv6-icmp } accept
  }
}
EOR
failures=0
bad() {
  failures=$((failures + 1))
  log "FAIL $*"
}
ok() { log "PASS $*"; }
expects() { in_ns gw conntrack -L expect 2>/dev/null | grep -c "helper=ftpalg"; }
# held SECONDS PASVS: a control session from the client that logs in, sends PASVS PASV
# commands 0.4 s apart and stays open SECONDS more (output /tmp/held.out); sets $held.
held() {
  $IP netns exec client sh -c "(printf 'USER anonymous\r\n'; i=0; while [ \$i -lt $2 ]; do
    sleep 0.4; printf 'PASV\r\n'; i=\$((i + 1)); done; sleep $1; printf 'QUIT\r\n') |
    nc $S4 21" >/tmp/held.out 2>&1 &
  held=$!
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
# within T0 LIMIT: true while less than LIMIT seconds have passed since uptime T0.
within() { [ "$(awk -v a="$1" -v b="$(uptime_s)" -v l="$2" 'BEGIN { print (b - a < l) }')" = 1 ]; }
since() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }'; }

# --- A. the kernel's policy --------------------------------------------------------------------
ct_probe helper-add --queue $Q --max 2 --timeout 6 --enable || fail "helper-add"
in_ns gw nft -f - <<EOR || fail "helper ruleset"
table inet lanehelp {
  ct helper ftp-user { type "ftpalg" protocol tcp; }
  chain pre {
    type filter hook prerouting priority 0;
    tcp dport 21 ct state new ct helper set "ftp-user"
  }
}
EOR
$IP netns exec gw ct_probe alg --queue $Q --seconds 40 >/tmp/alg.log 2>&1 &
alg=$!
sleep 0.3
held 10 3
# Until the third 227 (a loaded TCG guest may take seconds), then count at once.
t0=$(uptime_s)
while [ "$(grep -c '^227' /tmp/held.out)" -lt 3 ] && within "$t0" 8; do sleep 0.1; done
t0=$(uptime_s)
n227=$(grep -c '^227' /tmp/held.out)
n=$(expects)
log "A: $n227 PASV answered, expectations listed: $n"
in_ns gw conntrack -L expect 2>&1 | sed 's/^/      /'
if [ "$n227" = 3 ] && [ "$n" = 2 ]; then
  ok "A: max_expected 2: three announcements, two expectations"
else
  bad "A: max_expected 2: $n227 announcements, $n expectations"
fi
while [ "$(expects)" != 0 ] && within "$t0" 9; do sleep 0.2; done
if [ "$(expects)" = 0 ] && kill -0 $held 2>/dev/null; then
  ok "A: timeout 6 s: the expectations were gone $(since "$t0")s after the last 227, the control connection still open"
else
  bad "A: timeout 6 s: $(expects) expectation(s) left after $(since "$t0")s"
fi
wait $held
kill $alg
wait $alg
log "A: queued control packets: $(grep -c 'alg: queued' /tmp/alg.log)"
in_ns gw nft delete table inet lanehelp
ct_probe helper-del || bad "A: helper-del"

# --- B. ftpalgd: RST and idle ------------------------------------------------------------------
printf 'idle_timeout = 10\npinhole_timeout = 60\n' >/tmp/ftpalgd.close.toml
$IP netns exec gw ftpalgd --config /tmp/ftpalgd.close.toml --kernel-mode cthelper --queues $Q \
  --install-rules --log-level debug --events /tmp/events.close.jsonl >/tmp/ftpalgd.close.log 2>&1 &
daemon=$!
i=0
while ! grep -q "serving queue" /tmp/ftpalgd.close.log; do
  i=$((i + 1))
  if [ $i -ge 100 ] || ! kill -0 $daemon 2>/dev/null; then
    cat /tmp/ftpalgd.close.log
    fail "ftpalgd did not start"
  fi
  sleep 0.1
done

# RST: the client's kernel aborts the control connection (SOCK_DESTROY sends an RST).
held 20 1
t0=$(uptime_s)
while [ "$(expects)" != 1 ] && within "$t0" 8; do sleep 0.1; done
if [ "$(expects)" = 1 ]; then
  in_ns client ss -K dst "$S4" dport = 21 >/dev/null 2>&1 || bad "B: ss -K failed"
  t0=$(uptime_s)
  while [ "$(expects)" != 0 ] && within "$t0" 2; do sleep 0.1; done
  if [ "$(expects)" = 0 ] && grep -q "ended (rst): removed" /tmp/ftpalgd.close.log; then
    ok "B: RST: expectation deleted by ftpalgd $(since "$t0")s after the RST: $(grep 'ended (rst)' /tmp/ftpalgd.close.log | tail -n 1 | sed 's/.*control connection/control connection/')"
  else
    bad "B: RST: $(expects) expectation(s) $(since "$t0")s after the RST"
    in_ns gw conntrack -L 2>/dev/null | grep 'dport=21 ' | sed 's/^/      /'
    tail -n 5 /tmp/ftpalgd.close.log | sed 's/^/      /'
  fi
else
  bad "B: RST: no expectation for the held PASV ($(expects))"
  sed 's/^/      /' /tmp/held.out
fi
kill $held 2>/dev/null
wait $held 2>/dev/null

# Idle: the control connection stays open and silent past idle_timeout.
held 18 1
t0=$(uptime_s)
while [ "$(expects)" != 1 ] && within "$t0" 8; do sleep 0.1; done
t0=$(uptime_s)
[ "$(expects)" = 1 ] || bad "B: idle: no expectation for the held PASV ($(expects))"
sleep 4
[ "$(expects)" = 1 ] || bad "B: idle: the expectation went before idle_timeout"
while [ "$(expects)" != 0 ] && within "$t0" 14; do sleep 0.2; done
if [ "$(expects)" = 0 ] && grep -q "ended (idle): removed" /tmp/ftpalgd.close.log && kill -0 $held 2>/dev/null; then
  ok "B: idle: expectation deleted by ftpalgd about $(since "$t0")s after the last packet (idle_timeout 10 s, policy timeout 60 s), the connection still open"
else
  bad "B: idle: $(expects) expectation(s) after $(since "$t0")s"
  tail -n 5 /tmp/ftpalgd.close.log | sed 's/^/      /'
fi
kill $held 2>/dev/null
wait $held 2>/dev/null

kill -TERM $daemon
wait $daemon
$IP netns exec gw ftpalgd --kernel-mode cthelper --remove-helper >/dev/null 2>&1 || bad "--remove-helper"
in_ns gw nft delete table inet lane
[ $failures -eq 0 ] || fail "$failures check(s) failed"
log "ok"
