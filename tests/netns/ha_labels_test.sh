#!/bin/bash
# Pinhole mode's state in conntrack labels (conntrack_state = "labels") on ONE gateway: what a
# backup ftpalgd would find after conntrackd committed the master's entries, here left by a
# predecessor killed with -9, with no state_dir and the pinhole table deleted, so conntrack
# labels are the only place the sessions' state survives (root, network namespaces).
#
#   client -- gw (ftpalgd, pinhole mode) -- server (vsftpd); plan: scripts/lib/netns-plan.sh
#
# Session A (+4): 198.18.1.2 dials 198.18.100.100 (DNAT to 198.19.1.2), leaves SNATed as
#   198.19.100.100: PORT and 227 both grow by 4 bytes. Session B (-4): 198.18.100.102 dials
#   198.18.1.9 (DNAT to 198.19.100.102), leaves as 198.19.1.1: both shrink by 4.
# Session P: like A, sends PASV and pauses before connecting (the 227 was rewritten +4).
# A and B download pub/big.bin passively and actively and pause (settled: every rewritten byte
# acknowledged); `conntrack -L -o labels` shows their records; ftpalgd is killed (-9), the
# pinhole table deleted, a new ftpalgd started: it must log the takeover of P's pinhole; then A
# and B send NOOP, SIZE, PWD (answered exactly, logged exactly by vsftpd) and download again
# passively and actively, and P connects to the endpoint of its 227 (sha256).
#
# HA_LABELS_OFF=1 runs the same without conntrack_state (the test must fail then).
#
# usage: ha_labels_test.sh <ftpalgd> <ftpalg>
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd> <ftpalg>}")
FTPALG=$(readlink -f "${2:?usage: $0 <ftpalgd> <ftpalg>}")
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$here/../.." && pwd)
QUEUE=53
MARK=0xf7a1
SESSION_MARK=0xf7a2
FIRST_BIT=48
FAILED=0

log() { printf '[ha_labels %s] %s\n' "$(date +%T)" "$*"; }
ok() { log "ok   - $*"; }
fail() {
  log "FAIL - $*"
  FAILED=1
}
if [[ $(id -u) -ne 0 ]]; then
  log "SKIP: needs root"
  exit 77
fi

export NETNS_PREFIX="fthl-$$-"
# shellcheck source=scripts/lib/netns.sh
. "$repo/scripts/lib/netns.sh"
# shellcheck source=tests/netns/lib/e2e.sh
. "$repo/tests/netns/lib/e2e.sh"
# shellcheck source=tests/netns/lib/ha.sh
. "$repo/tests/netns/lib/ha.sh"  # ha_unexpected_commands
E2E_TMP=$(mktemp -d /tmp/ftpalg-ha-labels.XXXXXX)
chmod 755 "$E2E_TMP"
RUN=$E2E_TMP/run
DAEMON_LOG=$E2E_TMP/ftpalgd.log
EVENTS=$E2E_TMP/events.jsonl
DAEMON_PID=
# shellcheck disable=SC2317 # called from the trap
cleanup_all() {
  if [[ -n $DAEMON_PID ]]; then kill -9 "$DAEMON_PID" 2>/dev/null || true; fi
  e2e_server_stop
  if [[ $FAILED -ne 0 ]]; then
    log "ftpalgd log (tail):"
    tail -n 40 "$DAEMON_LOG" 2>/dev/null || true
  fi
  [[ -n ${HA_LABELS_KEEP:-} ]] || rm -rf "$E2E_TMP"
}
netns_install_trap cleanup_all

in_ns() {
  local role=$1
  shift
  timeout 20 ip netns exec "$(netns_name "$role")" "$@"
}

# --- topology (as restart_test.sh) -------------------------------------------------------------
netns_topology_gw dnat
in_ns client ip addr add 198.18.100.102/32 dev veth0
in_ns client ip route add 198.18.100.100/32 via "$NETNS_GW_CLI4"
in_ns client ip route add 198.18.1.9/32 via "$NETNS_GW_CLI4"
in_ns gw ip route add 198.18.100.102/32 via "$NETNS_CLIENT4"
in_ns server ip addr add 198.19.100.102/32 dev veth0
in_ns server ip route add 198.19.100.100/32 via "$NETNS_GW_SRV4"
in_ns gw ip route add 198.19.100.102/32 via "$NETNS_SERVER4"
in_ns gw nft -f - <<NFT
table inet fw {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state invalid drop
    ct state established,related accept
    ct mark $MARK accept
    ct state new tcp dport 21 accept
  }
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 198.18.100.100 tcp dport 21 dnat ip to $NETNS_SERVER4
    ip daddr 198.18.1.9 tcp dport 21 dnat ip to 198.19.100.102
  }
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "srv0" ip saddr $NETNS_CLIENT4 snat ip to 198.19.100.100
    oifname "srv0" ip saddr 198.18.100.102 snat ip to $NETNS_GW_SRV4
  }
}
NFT
"$FTPALG" rules --queue-form iptables --queues "$QUEUE" --session-mark "$SESSION_MARK" |
  grep -E '^ip6?tables ' >"$E2E_TMP/rules.sh"
while read -r -a rule; do in_ns gw "${rule[@]}"; done <"$E2E_TMP/rules.sh"

e2e_files
BIG_SIZE=$(stat -c %s "$E2E_TMP/srv/pub/big.bin")
touch "$E2E_TMP/vsftpd.log"
e2e_server_start vsftpd
VSFTPD_LOG=$E2E_TMP/vsftpd.log

STATE_FLAGS=(--conntrack-state labels --conntrack-state-bit "$FIRST_BIT")
[[ ${HA_LABELS_OFF:-0} == 1 ]] && STATE_FLAGS=()
daemon_start() {
  local before
  before=$(grep -c 'serving queue' "$DAEMON_LOG" 2>/dev/null || true)
  netns_spawn gw "$FTPALGD" --queues "$QUEUE" --kernel-mode pinhole --mark "$MARK" \
    --session-mark "$SESSION_MARK" --state-dir '' --events "$EVENTS" --log-level debug \
    --control-socket "$E2E_TMP/control.sock" --metrics-socket '' "${STATE_FLAGS[@]}" \
    2>>"$DAEMON_LOG"
  DAEMON_PID=$NETNS_LAST_PID
  for _ in $(seq 100); do
    [[ $(grep -c 'serving queue' "$DAEMON_LOG" 2>/dev/null || true) -gt ${before:-0} ]] && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
  done
  tail -n 20 "$DAEMON_LOG"
  e2e_die "ftpalgd did not start"
}
daemon_kill() {
  kill -KILL "$DAEMON_PID" 2>/dev/null || true
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=
}

# `conntrack -L -o labels` names label bits from /etc/xtables/connlabel.conf only: a private
# mount namespace lays one naming bit N "bN" over /etc (an overlay; the host's /etc is unchanged).
mkdir -p "$E2E_TMP/etc-up/xtables" "$E2E_TMP/etc-work"
for ((i = 0; i < 128; i++)); do echo "$i b$i"; done >"$E2E_TMP/etc-up/xtables/connlabel.conf"
ct_labels() {
  in_ns gw unshare -m sh -c "mount --make-rprivate / && mount -t overlay overlay -o \
lowerdir=/etc,upperdir=$E2E_TMP/etc-up,workdir=$E2E_TMP/etc-work /etc && conntrack -L -p tcp \
--dport 21 -o labels 2>/dev/null"
}

declare -A CLIENT_PID
client() {
  netns_spawn client python3 "$here/ha_labels_client.py" --host "$3" --source "$2" --dir "$RUN" \
    --name "$1" --steps "$4" --sha "$E2E_BIG_SHA" --size "$BIG_SIZE"
  CLIENT_PID[$1]=$NETNS_LAST_PID
}
wait_file() {
  local i
  for ((i = 0; i < ${2:-60} * 20; i++)); do
    [[ -e $1 ]] && return 0
    sleep 0.05
  done
  return 1
}
client_done() {
  local rc=0
  wait "${CLIENT_PID[$1]}" || rc=$?
  [[ $rc -eq 0 ]]
}
commands_intact() {
  local bad
  bad=$(ha_unexpected_commands "$VSFTPD_LOG" "$1" "$2")
  [[ -z $bad ]] || {
    log "unexpected commands from $1: $(echo "$bad" | tr '\n' '|')"
    return 1
  }
}

# --- the case ----------------------------------------------------------------------------------
mkdir -p "$RUN"
daemon_start
if [[ ${HA_LABELS_OFF:-0} != 1 ]]; then
  table=$(in_ns gw nft list table inet "ftpalg_q$QUEUE" 2>&1 || true)
  if grep -q 'ct label' <<<"$table"; then
    ok "the pinhole table references ct labels: $(grep 'ct label' <<<"$table" | sed 's/^[[:space:]]*//')"
  else
    fail "no ct label rule in table inet ftpalg_q$QUEUE"
    printf '%s\n' "$table" | sed -n '/chain pin/,/}/p'
  fi
fi
from=$(wc -l <"$VSFTPD_LOG")
client A "$NETNS_CLIENT4" 198.18.100.100 login,pasv,port,wait,noop,size,pwd,pasv,port,quit
client B 198.18.100.102 198.18.1.9 login,pasv,port,wait,noop,size,pwd,pasv,port,quit
client P "$NETNS_CLIENT4" 198.18.100.100 login,announce,wait,connect,quit
for name in A B P; do
  wait_file "$RUN/$name.wait-1" 60 || e2e_die "session $name did not reach its pause"
done
sleep 0.5  # the pure ACKs of the last replies settle the sessions
labels=$(ct_labels || true)
log "conntrack -L -o labels (control connections) before the kill:"
printf '%s\n' "$labels" | sed 's/^/    /'
# A record has bit FIRST_BIT (version 1) set; P's also carries its announcement (bit +34).
n=$(printf '%s\n' "$labels" | grep -c "labels=b$FIRST_BIT," || true)
if [[ $n -ge 3 ]]; then ok "$n control connections carry a record in their labels"; else
  fail "$n control connections carry a record in their labels (want 3)"; fi
if printf '%s\n' "$labels" | grep -q "b$((FIRST_BIT + 34))"; then
  ok "an outstanding announcement is recorded"
else
  fail "no outstanding announcement recorded"
fi

daemon_kill
# As on a backup gateway: no pinhole of the predecessor, no snapshot.
in_ns gw nft delete table inet "ftpalg_q$QUEUE"
t0=$(date +%s%N)
daemon_start
# P's, and within their timeout those A and B used already (a pinhole is single use in the
# kernel; the engine does not learn that its data connection came).
p_port=$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; d=[x["detail"] for x in r if x["step"]=="announce"][0]; n=d[d.index("(")+1:d.index(")")].split(","); print(int(n[4])*256+int(n[5]))' "$RUN/P.jsonl")
log "$(grep -o 'takeover (start).*' "$DAEMON_LOG" | tail -n 1)"
if grep '"kind":"takeover","reason":"start"' "$EVENTS" | grep -q "\"dst\":\"198.18.100.100:$p_port\".*\"verdict\":\"admit\""; then
  ok "the successor re-created P's pinhole (198.18.100.100:$p_port) from the labels ($((($(date +%s%N) - t0) / 1000000)) ms after start)"
else
  fail "the successor did not re-create P's pinhole (198.18.100.100:$p_port)"
fi
if grep -q '"kind":"takeover","reason":"start"' "$EVENTS"; then
  ok "the takeover wrote an event with its reason"
else
  fail "no takeover event"
fi
for name in A B P; do touch "$RUN/$name.go-1"; done
if [[ -n ${HA_LABELS_DEBUG:-} ]]; then
  sleep 3
  in_ns gw iptables -t mangle -L FORWARD -v -n
  in_ns gw nft list table inet "ftpalg_q$QUEUE"
  in_ns gw cat /proc/net/netfilter/nfnetlink_queue
  in_ns gw conntrack -L -p tcp
fi
for name in A B; do
  if client_done "$name"; then
    ok "session $name: NOOP, SIZE, PWD intact, PASV and PORT transfers after the takeover"
  else
    fail "session $name: $(tail -n 1 "$RUN/$name.jsonl")"
  fi
done
if client_done P; then ok "session P: the data connection of the PASV announced before the kill"
else fail "session P: $(tail -n 1 "$RUN/P.jsonl")"; fi
for addr in 198.19.100.100 "$NETNS_GW_SRV4"; do
  if commands_intact "$addr" "$from"; then ok "vsftpd received every command of $addr intact"
  else fail "vsftpd's commands of $addr"; fi
done
# On demand: what a keepalived notify script runs after `conntrackd -c`.
answer=$(in_ns gw "$FTPALG" takeover --socket "$E2E_TMP/control.sock" || true)
log "control socket takeover: $answer"
if [[ ${HA_LABELS_OFF:-0} == 1 || $answer == *'"takeover":{"entries":'* ]]; then
  ok "the control socket answers takeover"
else
  fail "the control socket's takeover answer"
fi
log "$(grep -o 'counters: .*' "$DAEMON_LOG" | tail -n 1)"
daemon_kill
exit $FAILED
