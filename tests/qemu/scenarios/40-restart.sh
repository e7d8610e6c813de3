# shellcheck shell=sh
# Expectation mode across restarts of ftpalgd (docs/daemon.md, "Expectation mode across
# restarts"). Gateway with DNAT (198.18.1.10 -> server 198.19.1.2, so every 227 grows by one
# byte: 198,19,1,2 -> 198,18,1,10) and masquerade towards the server, forward policy drop with
# `ct state related` for data. Control sessions are driven line by line by busybox nc through a
# FIFO, so one session spans a restart; every download is sha256-checked (big.bin, 256 KiB,
# before and after each restart; hello.txt otherwise, to keep the lane short).
#  A. SIGTERM mid-session: session 1 transfers (PASV, rewritten +1) and leaves a PASV answered
#     but unused; ftpalgd stops: the helper stays registered (disabled), the table stays, the
#     expectation stays. While no daemon runs: session 1's NOOP passes intact (the kernel still
#     applies seqadj), a new session's control traffic passes but its 227 is not rewritten, no
#     expectation is created and its data connection is dropped by the forward chain. A new
#     ftpalgd adopts the helper; session 1's next command passes intact, the expectation made
#     before the restart carries a transfer, its next PASV and PORT transfers pass.
#  B. kill -9 mid-session and an immediate restart: the same for session 2 (helper adopted while
#     still enabled).
#  C. kill -9 and no restart: the crashed daemon's helper is still enabled, and the kernel's
#     queue bypass then skips seqadj and confirmation (a rewritten session stalls, a new one
#     fails); `ftpalgd --disable-helper` (systemd's ExecStopPost) restores fail-open, the
#     stalled session recovers; a successor adopts it.
#  D. ftpalgd --remove-helper removes the table and the helper; the expectations go with it.
Q=5
t_scenario=$(cut -d' ' -f1 /proc/uptime)
topo_up
ftp_server_start
in_ns gw nft -f - <<EOF || fail "ruleset"
table inet lane {
  counter related { }
  counter dropped { }
  chain dstnat {
    type nat hook prerouting priority dstnat;
    ip daddr $PUB4 tcp dport 21 dnat ip to $S4
  }
  chain srcnat { type nat hook postrouting priority srcnat; oifname "g1" masquerade; }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state related counter name "related" accept
    ct state established accept
    tcp dport 21 ct state new accept
    meta l4proto icmp accept
    counter name "dropped"
  }
}
EOF
failures=0
bad() {
  failures=$((failures + 1))
  log "FAIL $*"
}
ok() { log "PASS $*"; }

# --- the daemon ---------------------------------------------------------------------------------
# daemon_start N: ftpalgd with log /tmp/ftpalgd.N.log; sets $daemon.
daemon_start() {
  $IP netns exec gw ftpalgd --kernel-mode cthelper --queues $Q --install-rules --log-level debug \
    --events "/tmp/events.$1.jsonl" >"/tmp/ftpalgd.$1.log" 2>&1 &
  daemon=$!
  i=0
  while ! grep -q "serving queue" "/tmp/ftpalgd.$1.log"; do
    i=$((i + 1))
    if [ $i -ge 100 ] || ! kill -0 $daemon 2>/dev/null; then
      cat "/tmp/ftpalgd.$1.log"
      fail "ftpalgd $1 did not start"
    fi
    sleep 0.1
  done
}
helper_state() { ct_probe helper-list | grep "helper ftpalg family ipv4" | sed 's/.* status \([a-z]*\).*/\1/'; }

# retr N HOST PORT WHAT [FILE]: downloads FILE (big.bin) over an answered PASV (the data
# connection to HOST:PORT) and checks its sha256.
retr() {
  rm -f "/tmp/data.$1"
  $IP netns exec client nc "$2" "$3" </dev/null >"/tmp/data.$1" 2>/dev/null &
  nc_pid=$!
  if ctl_cmd "$1" "RETR ${5:-big.bin}" 150 && ctl_reply "$1" 226 150 && wait $nc_pid &&
    [ "$(sha256sum <"/tmp/data.$1")" = "$(sha256sum <"/srv/ftp/${5:-big.bin}")" ]; then
    ok "$4: sha256 ok"
  else
    kill $nc_pid 2>/dev/null
    # shellcheck disable=SC2154 # reply: set by ctl_reply (tests/qemu/lib.sh)
    bad "$4: $(wc -c <"/tmp/data.$1") bytes, reply '$reply'"
  fi
}
pasv_retr() {
  if ctl_cmd "$1" PASV 227; then
    case $reply in *"(198,18,1,10,"*) ;; *) bad "$2: 227 not rewritten: $reply" ;; esac
    retr "$1" "$PUB4" "$(pasv_port)" "$2" "$3"
  else
    bad "$2: PASV"
  fi
}
# pasv_retr N WHAT [FILE]: PASV (its 227 must be rewritten) and a download.
# port_retr N DATAPORT WHAT [FILE]: active mode, the client listening on DATAPORT.
port_retr() {
  rm -f "/tmp/data.$1"
  $IP netns exec client nc -l -p "$2" </dev/null >"/tmp/data.$1" 2>/dev/null &
  nc_pid=$!
  # Listening before the PORT (a loaded TCG guest may take a while to start nc).
  i=0
  while ! in_ns client netstat -ltn 2>/dev/null | grep -q ":$2 " && [ $i -lt 50 ]; do
    i=$((i + 1))
    sleep 0.1
  done
  if ctl_cmd "$1" "PORT 198,18,1,2,$(($2 / 256)),$(($2 % 256))" 200 &&
    ctl_cmd "$1" "RETR ${4:-big.bin}" 150 && ctl_reply "$1" 226 150 && wait $nc_pid &&
    [ "$(sha256sum <"/tmp/data.$1")" = "$(sha256sum <"/srv/ftp/${4:-big.bin}")" ]; then
    ok "$3: sha256 ok"
  else
    kill $nc_pid 2>/dev/null
    bad "$3: $(wc -c <"/tmp/data.$1") bytes, reply '$reply'"
  fi
}
expect_listed() { in_ns gw conntrack -L expect 2>/dev/null | grep -q "dport=$1 .*helper=ftpalg\|helper=ftpalg.*dport=$1 "; }

# --- A. SIGTERM ----------------------------------------------------------------------------------
daemon_start 1
ctl_open 1 "$PUB4"
ctl_login 1 || bad "session 1 login"
pasv_retr 1 "A before SIGTERM: session 1 PASV (227 +1 byte)"
ctl_cmd 1 PASV 227 || bad "A: outstanding PASV"
held_port=$(pasv_port)
expect_listed "$held_port" || bad "A: no expectation for the outstanding PASV (port $held_port)"
t0=$(cut -d' ' -f1 /proc/uptime)
kill -TERM $daemon
wait $daemon
rc=$?
[ $rc -eq 0 ] || bad "A: ftpalgd exit status $rc after SIGTERM"
grep "left registered" /tmp/ftpalgd.1.log | sed 's/^/    ftpalgd 1: /'
[ "$(helper_state)" = disabled ] || bad "A: after SIGTERM the helper is '$(helper_state)', not registered and disabled"
in_ns gw nft list table inet ftpalg_helper >/dev/null 2>&1 || bad "A: SIGTERM removed table ftpalg_helper"
if expect_listed "$held_port"; then ok "A: expectation for port $held_port kept over the stop"; else bad "A: SIGTERM deleted the pending expectation"; fi

# Daemon absent: fail-open.
if ctl_cmd 1 NOOP 200 30; then ok "A, no daemon: session 1 (+1 byte) NOOP passes, seqadj still applied"; else bad "A, no daemon: session 1 NOOP"; fi
ctl_open 3 "$PUB4"
if ctl_login 3 && ctl_cmd 3 PASV 227; then
  ok "A, no daemon: a new control connection passes (login, PASV: $reply)"
  p3=$(pasv_port)
  h3=$(pasv_host)
  [ "$h3" = "$S4" ] || bad "A, no daemon: the 227 was rewritten ($reply): not fail-open?"
  expect_listed "$p3" && bad "A, no daemon: an expectation for port $p3 exists"
  before=$(nft_counter_packets lane dropped)
  if in_ns client nc -w 2 "$h3" "$p3" </dev/null >/dev/null 2>&1; then
    bad "A, no daemon: the data connection to $h3:$p3 was admitted"
  else
    after=$(nft_counter_packets lane dropped)
    if [ "$after" -gt "$before" ]; then
      ok "A, no daemon: no expectation; the data connection to $h3:$p3 was dropped by the forward chain (dropped $before -> $after)"
    else
      bad "A, no daemon: the data connection failed, but not in the forward chain (dropped $before -> $after)"
    fi
  fi
else
  bad "A, no daemon: a new control connection failed: '$reply'"
fi
ctl_send 3 QUIT

daemon_start 2
t1=$(cut -d' ' -f1 /proc/uptime)
log "restart gap (SIGTERM to serving, with the checks above): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
grep -q "adopting the registration" /tmp/ftpalgd.2.log || bad "A: the new ftpalgd did not adopt the helper"
grep "adopting" /tmp/ftpalgd.2.log | sed 's/^/    ftpalgd 2: /'
[ "$(helper_state)" = enabled ] || bad "A: helper not enabled after the restart"
if ctl_cmd 1 "SIZE big.bin" 213 && [ "$reply" = "213 262144" ]; then ok "A after restart: session 1's next command intact ($reply)"; else bad "A after restart: session 1's next command: '$reply'"; fi
grep "seqadj" /tmp/ftpalgd.2.log | head -n 2 | sed 's/^/    ftpalgd 2: /'
retr 1 "$PUB4" "$held_port" "A after restart: the expectation created before SIGTERM carries a transfer" hello.txt
pasv_retr 1 "A after restart: session 1 next PASV (227 +1 byte)"
port_retr 1 45001 "A after restart: session 1 PORT" hello.txt
if ctl_cmd 1 NOOP 200; then ok "A after restart: session 1 still in step"; else bad "A after restart: session 1 NOOP"; fi

# --- B. kill -9, immediate restart ------------------------------------------------------------
ctl_open 2 "$PUB4"
ctl_login 2 || bad "session 2 login"
pasv_retr 2 "B before kill -9: session 2 PASV (227 +1 byte)" hello.txt
ctl_cmd 2 PASV 227 || bad "B: outstanding PASV"
held_port=$(pasv_port)
kill -KILL $daemon
wait $daemon 2>/dev/null
daemon_start 3
grep -q "adopting the registration.*enabled" /tmp/ftpalgd.3.log || bad "B: the new ftpalgd did not adopt the enabled helper"
if ctl_cmd 2 "SIZE big.bin" 213 && [ "$reply" = "213 262144" ]; then ok "B after kill -9: session 2's next command intact ($reply)"; else bad "B after kill -9: session 2's next command: '$reply'"; fi
retr 2 "$PUB4" "$held_port" "B after kill -9: the expectation created before the crash carries a transfer" hello.txt
pasv_retr 2 "B after kill -9: session 2 next PASV (227 +1 byte)" hello.txt
port_retr 2 45002 "B after kill -9: session 2 PORT"
if ctl_cmd 1 NOOP 200; then ok "B: session 1 survived a second restart"; else bad "B: session 1 NOOP"; fi

# --- C. kill -9, no restart -------------------------------------------------------------------
# The crashed daemon's helper is still enabled: the kernel queues with bypass and, finding no
# process on the queue, lets the packet skip the rest of the conntrack confirm step, seqadj and
# confirmation included (docs/daemon.md). Checked as documented: a rewritten session stalls, a
# new control connection is never confirmed; a successor recovers the stalled session.
kill -KILL $daemon
wait $daemon 2>/dev/null
log "C, crashed daemon (helper $(helper_state), no process on queue $Q):"
if ctl_cmd 2 NOOP 200 20; then
  bad "C: session 2 (+1 byte) NOOP passed without seqadj?"
else
  ok "C: session 2 (+1 byte) stalls: no reply to NOOP in 2 s"
fi
if in_ns client curl -sS --max-time 3 -o /dev/null "ftp://$PUB4/hello.txt" --ftp-pasv --disable-epsv >/tmp/curl.c.log 2>&1; then
  bad "C: a new session passed while the crashed daemon's helper was enabled"
else
  ok "C: a new control connection is not confirmed: $(tail -n 1 /tmp/curl.c.log)"
fi
# What systemd's ExecStopPost does after a crash: disable the helper. Then as after a stop.
$IP netns exec gw ftpalgd --kernel-mode cthelper --disable-helper >/tmp/ftpalgd.dis.log 2>&1 ||
  bad "C: --disable-helper failed: $(cat /tmp/ftpalgd.dis.log)"
sed 's/^/    ftpalgd --disable-helper: /' /tmp/ftpalgd.dis.log
[ "$(helper_state)" = disabled ] || bad "C: --disable-helper left the helper '$(helper_state)'"
# The NOOP was retransmitted with exponential backoff while the crashed helper stalled it: the
# next retransmission may come several seconds later (longer on a loaded TCG guest), so wait
# up to 30 s.
if ctl_reply 2 200 300; then ok "C after --disable-helper: session 2's retransmitted NOOP answered ($reply)"; else bad "C after --disable-helper: session 2 NOOP: '$reply'"; fi
ctl_open 4 "$PUB4"
if ctl_login 4; then ok "C after --disable-helper: a new control connection works"; else bad "C after --disable-helper: a new control connection: '$reply'"; fi
ctl_send 4 QUIT
daemon_start 4
if ctl_cmd 2 "SIZE hello.txt" 213; then ok "C after a restart: session 2 in step ($reply)"; else bad "C after a restart: session 2: '$reply'"; fi
# --- D. explicit cleanup -----------------------------------------------------------------------
kill -TERM $daemon
wait $daemon
$IP netns exec gw ftpalgd --kernel-mode cthelper --remove-helper >/tmp/ftpalgd.rm.log 2>&1 || bad "D: --remove-helper failed: $(cat /tmp/ftpalgd.rm.log)"
ct_probe helper-list | grep -q "helper ftpalg " && bad "D: --remove-helper left the helper registered"
in_ns gw nft list table inet ftpalg_helper >/dev/null 2>&1 && bad "D: --remove-helper left table ftpalg_helper"
in_ns gw conntrack -L expect 2>/dev/null | grep -q "helper=ftpalg" && bad "D: expectations of the removed helper remain"
sed 's/^/    ftpalgd --remove-helper: /' /tmp/ftpalgd.rm.log
grep -hE "error" /tmp/ftpalgd.[1-4].log | head -n 5 | sed 's/^/    ftpalgd: /'
in_ns gw nft delete table inet lane
log "scenario time: $(awk -v a="$t_scenario" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }') s"
[ $failures -eq 0 ] || fail "$failures check(s) failed"
log "ok"
