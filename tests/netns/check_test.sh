#!/bin/bash
# `ftpalg check` against real broken gateways (root, network namespaces).
#
#   client -- gw -- server (masquerade), vsftpd on the server, table inet e2e and the iptables-nft
#   NFQUEUE rules on the gateway (tests/netns/lib/gw_case.sh), ftpalgd serving the queue.
#
# The healthy gateway (what `ftpalg rules` / the e2e suite build) must give no error, also with a
# live control session. Then each broken gateway in turn, each followed by a restore: the
# diagnosis must name its finding id (and, for errors, exit 1).
#
# usage: check_test.sh <ftpalg> <ftpalgd>
set -euo pipefail

FTPALG=$(readlink -f "${1:?usage: $0 <ftpalg> <ftpalgd>}")
FTPALGD=$(readlink -f "${2:?usage: $0 <ftpalg> <ftpalgd>}")
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root"
  exit 77
fi
export E2E_QUEUE=47
export NETNS_PREFIX="ftck-$$-"
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
# shellcheck source=tests/netns/lib/gw_case.sh
. "$here/lib/gw_case.sh"

START=$(date +%s.%N)
FAILED=0
SESSION_PID=''
# shellcheck disable=SC2317 # called by gw_case_cleanup
gw_case_extra_cleanup() {
  if [[ -n $SESSION_PID ]]; then kill "$SESSION_PID" 2>/dev/null || true; fi
}

log() { printf '[check %s] %s\n' "$(date +%T)" "$*"; }
fail() {
  log "FAIL: $*"
  FAILED=1
}

# check ARGS...: runs ftpalg check --json in the gateway; output in $OUT, status in $RC.
check() {
  RC=0
  OUT=$(netns_exec gw timeout 30 "$FTPALG" check --json --events "$E2E_TMP/events.jsonl" \
    --control-socket "$E2E_TMP/control.sock" "$@") || RC=$?
}
# expect NAME ID SEVERITY [ARGS...]: the check reports ID with SEVERITY (error: exit 1).
expect() {
  local name=$1 id=$2 sev=$3
  shift 3
  check "$@"
  if ! grep -q "\"id\":\"$id\",\"severity\":\"$sev\"" <<<"$OUT"; then
    fail "$name: no $sev $id in: $OUT"
  elif [[ $sev == error && $RC -ne 1 ]]; then
    fail "$name: exit $RC, want 1"
  else
    log "ok   $name: $id ($sev, exit $RC; all: $(grep -o '"id":"[a-z_]*"' <<<"$OUT" | cut -d'"' -f4 | xargs))"
  fi
}
# expect_healthy NAME [ARGS...]: no error finding, exit 0.
expect_healthy() {
  local name=$1
  shift
  check "$@"
  if [[ $RC -ne 0 ]] || grep -q '"severity":"error"' <<<"$OUT"; then
    fail "$name: not healthy (exit $RC): $OUT"
  else
    log "ok   $name: healthy (exit 0): $OUT"
  fi
}

# session_flowing: the session answered 3 more NOOPs (it may have reconnected after a rule
# change): the diagnoses that need traffic during their sample then see some. Bounded: 15 s.
session_flowing() {
  local start now
  start=$(cat "$E2E_TMP/noops" 2>/dev/null || echo 0)
  for _ in $(seq 150); do
    now=$(cat "$E2E_TMP/noops" 2>/dev/null || echo 0)
    ((now >= start + 3)) && return 0
    sleep 0.1
  done
  fail "the NOOP session does not flow (NOOPs answered: $start -> $now)"
}
# A logged-in control session that sends NOOP every 0.2 s (through the queue) until killed;
# each answered NOOP is counted in $E2E_TMP/noops.
session_start() {
  ip netns exec "$(netns_name client)" python3 - "$NETNS_SERVER4" "$E2E_TMP/noops" <<'PY' &
import ftplib, os, sys, time
done = 0
while True:
    try:
        f = ftplib.FTP(sys.argv[1], timeout=5)
        f.login("anonymous", "check@ftpalg.test")
        while True:
            f.voidcmd("NOOP")
            done += 1
            with open(sys.argv[2] + ".tmp", "w") as out:
                out.write(f"{done}\n")
            os.replace(sys.argv[2] + ".tmp", sys.argv[2])
            time.sleep(0.2)
    except Exception:
        time.sleep(0.2)
PY
  SESSION_PID=$!
  for _ in $(seq 50); do
    netns_exec gw conntrack -L -p tcp --dport 21 --state ESTABLISHED 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  fail "no control session"
}
session_stop() {
  if [[ -n $SESSION_PID ]]; then kill "$SESSION_PID" 2>/dev/null || true; fi
  wait "$SESSION_PID" 2>/dev/null || true
  SESSION_PID=''
}

# The healthy rules: table inet e2e and the queue rules, nothing else (ftpalgd's tables stay).
restore_rules() {
  local ipt t
  for ipt in iptables ip6tables; do netns_exec gw "$ipt" -t mangle -F FORWARD; done
  for t in raw9 helper7; do netns_exec gw nft delete table inet "$t" 2>/dev/null || true; done
  e2e_gw_setup ftpalgd masq
}
wait_table() {
  for _ in $(seq 50); do
    netns_exec gw nft list chain inet ftpalg_q"$E2E_QUEUE" pin 2>/dev/null | grep -q 'ct mark set' && return 0
    sleep 0.1
  done
  fail "ftpalgd did not restore its pinhole table"
}
start_daemon() {
  gw_case_start_daemon "$FTPALGD" --kernel-mode pinhole --queues "$E2E_QUEUE" --queue-maxlen 16 \
    --events "$E2E_TMP/events.jsonl" --state-dir ''
  wait_table
}

gw_case_setup
start_daemon
gw_case_transfer pasv healthy || fail "PASV download through the healthy gateway"
expect_healthy "healthy gateway, no session" --interval 0
session_start
expect_healthy "healthy gateway, live session" --interval 1.5

# (1) no queue rule for the control ports
e2e_gw_queue_rules del
expect "no queue rule" no_queue_rule error --interval 0
restore_rules

# (2) the queue rules never match (another interface) while the session sends NOOPs
for ipt in iptables ip6tables; do netns_exec gw "$ipt" -t mangle -F FORWARD; done
for opt in --dport --sport; do
  netns_exec gw iptables -t mangle -A FORWARD -i nosuch0 -p tcp "$opt" 21 \
    -j NFQUEUE --queue-num "$E2E_QUEUE"
done
session_flowing
expect "queue rule never hit" queue_rule_not_hit error --interval 1.5
restore_rules

# (3) an accept before the queue rule ends the chain first
netns_exec gw iptables -t mangle -I FORWARD 1 -p tcp --dport 21 -m conntrack --ctstate ESTABLISHED -j ACCEPT
expect "queue rule shadowed" queue_rule_shadowed error --interval 0
restore_rules

# (4) the forward chain (policy drop) lacks `ct mark accept`
h=$(netns_exec gw nft -a list chain inet e2e forward | sed -n 's/^\s*ct mark 0x0000f7a1 accept # handle \([0-9]*\)$/\1/p')
[[ -n $h ]] || fail "no ct mark accept rule in table inet e2e"
netns_exec gw nft delete rule inet e2e forward handle "$h"
expect "forward lacks ct mark accept" forward_no_mark_accept error --interval 0
restore_rules

# (6) the kernel's FTP helper attached to the same connections; (7) after destination NAT
netns_exec gw nft -f - <<'NFT'
table inet helper7 {
  ct helper ftp-std { type "ftp" protocol tcp; l3proto ip; }
  chain helper {
    type filter hook prerouting priority 0; policy accept;
    tcp dport 21 ct state new ct helper set "ftp-std"
  }
}
NFT
session_stop
session_start
expect "kernel ftp helper too" kernel_ftp_helper error --interval 0
netns_exec gw nft add rule inet e2e natpre iifname cli0 ip daddr "$NETNS_PUBLIC4" tcp dport 2121 \
  dnat ip to "$NETNS_SERVER4"
expect "helper after dnat" helper_after_dnat warning --interval 0
session_stop
restore_rules
session_start

# (9) conntrack disabled for port 21
netns_exec gw nft -f - <<'NFT'
table inet raw9 {
  chain pre {
    type filter hook prerouting priority raw; policy accept;
    tcp dport 21 notrack
  }
}
NFT
expect "notrack on port 21" notrack_control_port error --interval 0
restore_rules

# (8) the pinhole table missing / emptied while a session is live (daemon stopped, so it
# cannot restore the table before the check looks)
kill -STOP "$DAEMON_PID"
netns_exec gw nft delete table inet ftpalg_q"$E2E_QUEUE"
expect "pinhole table missing" pinhole_table_missing error --interval 0
kill -CONT "$DAEMON_PID"
wait_table
kill -STOP "$DAEMON_PID"
netns_exec gw nft flush chain inet ftpalg_q"$E2E_QUEUE" pin
expect "pinhole table empty" pinhole_table_empty error --interval 0
kill -CONT "$DAEMON_PID"
wait_table

# (11) queue drops growing: daemon stopped, a SYN flood beyond queue_maxlen 16; the sockets stay
# open so that the dropped SYNs are retransmitted (1 s, 3 s later) into the sample.
kill -STOP "$DAEMON_PID"
sent=$E2E_TMP/flood.sent
netns_exec client timeout 15 python3 - "$NETNS_SERVER4" "$sent" <<'PY' &
import socket, sys, time
socks = []
for i in range(64):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((sys.argv[1], 21))
    socks.append(s)
open(sys.argv[2], "w").close()
time.sleep(6)
PY
flood_pid=$!
for _ in $(seq 100); do [[ -e $sent ]] && break; sleep 0.1; done
expect "queue drops" queue_drops warning --interval 2
kill "$flood_pid" 2>/dev/null || true
wait "$flood_pid" || true
kill -CONT "$DAEMON_PID"

# (5) ftpalgd not running: nothing bound to the queue the rules use
session_stop
gw_case_stop_daemon || true
expect "daemon not running" daemon_not_bound error --interval 0
start_daemon

# Spread over queues 47-48 (spread_connections): the HMARK rules `ftpalg rules
# --spread-connections` prints for the iptables form, then ftpalgd's own (--install-rules, a
# symhash per queue): healthy with a live session; each with the daemon gone names both queues
# in daemon_not_bound (ftpalgd's own rules stay only when it is killed).
spread_expect() {
  local name=$1
  session_stop
  session_start
  session_flowing
  expect_healthy "$name, live session" --interval 1.5
  session_stop
  kill -KILL "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=''
  expect "$name, daemon killed" daemon_not_bound error --interval 0
  grep -q 'queue 47,48 that' <<<"$OUT" || fail "$name: daemon_not_bound does not name 47,48: $OUT"
}
gw_case_stop_daemon || true
for ipt in iptables ip6tables; do netns_exec gw "$ipt" -t mangle -F FORWARD; done
"$FTPALG" rules --queues 47-48 --spread-connections --queue-form iptables >"$E2E_TMP/spread.rules"
grep -c -- '-j HMARK' "$E2E_TMP/spread.rules" >/dev/null || fail "no HMARK rule printed"
while read -r line; do
  read -ra cmd <<<"$line"
  netns_exec gw timeout 10 "${cmd[@]}" || fail "spread rule refused: $line"
done < <(grep -E '^ip6?tables ' "$E2E_TMP/spread.rules")
gw_case_start_daemon "$FTPALGD" --kernel-mode pinhole --queues 47-48 \
  --events "$E2E_TMP/events.jsonl" --state-dir ''
wait_table
spread_expect "spread (HMARK rules)"
for ipt in iptables ip6tables; do netns_exec gw "$ipt" -t mangle -F FORWARD; done
gw_case_start_daemon "$FTPALGD" --kernel-mode pinhole --queues 47-48 --spread-connections \
  --install-rules --events "$E2E_TMP/events.jsonl" --state-dir ''
wait_table
spread_expect "spread (ftpalgd's rules)"
for fam in ip ip6; do netns_exec gw nft delete table "$fam" ftpalg_queue; done
e2e_gw_queue_rules add
start_daemon

# (10) the server announces an address that is neither its own nor its public one
e2e_server_stop
# (IPv4 listener: vsftpd's IPv6 listener announces 0.0.0.0 with pasv_address.)
{
  e2e_vsftpd_conf | sed 's/^listen=NO/listen=YES/; s/^listen_ipv6=YES/listen_ipv6=NO/'
  echo "pasv_address=$NETNS_THIRD4"
} >"$E2E_TMP/vsftpd.conf"
netns_spawn server "$(command -v vsftpd || echo /usr/sbin/vsftpd)" "$E2E_TMP/vsftpd.conf"
E2E_SERVER_PID=$NETNS_LAST_PID
for _ in $(seq 50); do netns_exec server ss -Hltn 'sport = :21' | grep -q . && break; sleep 0.1; done
netns_exec server ss -Hltn 'sport = :21' | grep -q . || fail "vsftpd (pasv_address) does not listen"
netns_exec client timeout 10 python3 - "$NETNS_SERVER4" <<'PY' || fail "PASV session"
import ftplib, sys
f = ftplib.FTP(sys.argv[1], timeout=5)
f.login("anonymous", "check@ftpalg.test")
print(f.sendcmd("PASV"))
f.quit()
PY
grep -q '"kind":"pasv227".*"reason":"pasv_address_mismatch"' "$E2E_TMP/events.jsonl" ||
  fail "no pasv_address_mismatch refusal in the events: $(tail -3 "$E2E_TMP/events.jsonl")"
expect "server announces a foreign address" server_foreign_address error --interval 0

log "seconds: $(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
if [[ $FAILED -eq 0 ]]; then log "PASS"; else log "FAILED"; fi
exit "$FAILED"
