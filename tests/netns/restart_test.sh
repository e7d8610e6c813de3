#!/bin/bash
# Sessions rewritten +4 and -4 bytes survive ftpalgd's kill -9, SIGTERM and restart, and no
# rewritten session passes unadjusted while no daemon is bound (root, network namespaces).
#
#   client -- gw (ftpalgd, pinhole mode) -- server (vsftpd); plan: scripts/lib/netns-plan.sh
#
# Session A (+4): the client 198.18.1.2 dials 198.18.100.100 (DNAT to 198.19.1.2) and leaves
#   SNATed as 198.19.100.100: "198,18,1,2" -> "198,19,100,100" in PORT, "198,19,1,2" ->
#   "198,18,100,100" in 227: both directions shift by +4.
# Session B (-4): the client 198.18.100.102 dials 198.18.1.9 (DNAT to 198.19.100.102) and leaves
#   as 198.19.1.1: PORT and 227 both shrink by 4.
# Session C (absence cases only): logged in, nothing announced yet, so nothing rewritten.
#
# Cases: kill9, sigterm (the old sessions send their next command while no daemon is bound),
# restart (SIGTERM and at once a successor); for each, A and B download pub/big.bin passively
# and actively (sha256), the daemon goes, a successor starts and must log that it adopted both,
# then NOOP, SIZE and PWD of the old sessions must be answered exactly and vsftpd must have
# logged them exactly, and a PASV and a PORT download must match again.
# absent-open / absent-closed: queue rules with and without bypass (`ftpalg rules`, which with
# --fail-open queues marked sessions without bypass first); the daemon is killed and stays away
# for a few seconds while A and C send NOOP: A's must not be answered before a successor runs
# (its packets are dropped, not passed unadjusted), C's is answered at once with bypass and
# only after the successor without; vsftpd must never log a command of A it was not sent.
#
# usage: restart_test.sh <ftpalgd> <ftpalg> [case...]
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd> <ftpalg> [case...]}")
FTPALG=$(readlink -f "${2:?usage: $0 <ftpalgd> <ftpalg> [case...]}")
shift 2
CASES=("$@")
[[ ${#CASES[@]} -gt 0 ]] || CASES=(kill9 sigterm restart absent-open absent-closed)
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$here/../.." && pwd)
QUEUE=47
MARK=0xf7a1
SESSION_MARK=0xf7a2

export NETNS_PREFIX="ftrs-$$-"
GW_TEST_TAG=restart
# shellcheck source=tests/netns/lib/gw_test.sh
. "$repo/tests/netns/lib/gw_test.sh"
gw_test_require_root
DAEMON_PID=
# Run by the exit trap before the namespaces go (also on failure or a signal).
# shellcheck disable=SC2317 # called from the trap
cleanup_all() {
  if [[ -n $DAEMON_PID ]]; then kill -9 "$DAEMON_PID" 2>/dev/null || true; fi
  e2e_server_stop
  if [[ $FAILED -ne 0 ]]; then
    log "ftpalgd log (tail):"
    tail -n 40 "$DAEMON_LOG" 2>/dev/null || true
  fi
}
gw_test_tmp restart cleanup_all
STATE=$E2E_TMP/state
RUN=$E2E_TMP/run
DAEMON_LOG=$E2E_TMP/ftpalgd.log

# --- topology: session A as gw_test_shift_topology; session B (-4) beside it -----------------
gw_test_shift_topology "$MARK"
in_ns client ip addr add 198.18.100.102/32 dev veth0
in_ns client ip route add 198.18.1.9/32 via "$NETNS_GW_CLI4"
in_ns gw ip route add 198.18.100.102/32 via "$NETNS_CLIENT4"
in_ns server ip addr add 198.19.100.102/32 dev veth0
in_ns gw ip route add 198.19.100.102/32 via "$NETNS_SERVER4"
in_ns gw nft add rule inet fw pre ip daddr 198.18.1.9 tcp dport 21 dnat ip to 198.19.100.102
in_ns gw nft add rule inet fw post oifname '"srv0"' ip saddr 198.18.100.102 snat ip to "$NETNS_GW_SRV4"

gw_test_serve
VSFTPD_LOG=$E2E_TMP/vsftpd.log

# queue_rules [--fail-open]: replace the gateway's queueing rules with what `ftpalg rules` says.
queue_rules() {
  local ipt
  for ipt in iptables ip6tables; do in_ns gw "$ipt" -t mangle -F FORWARD; done
  "$FTPALG" rules --queue-form iptables --queues "$QUEUE" --session-mark "$SESSION_MARK" "$@" |
    grep -E '^ip6?tables ' >"$E2E_TMP/rules.sh"
  while read -r -a rule; do in_ns gw "${rule[@]}"; done <"$E2E_TMP/rules.sh"
}

daemon_start() {
  local before
  before=$(grep -c 'serving queue' "$DAEMON_LOG" 2>/dev/null || true)
  netns_spawn gw "$FTPALGD" --queues "$QUEUE" --kernel-mode pinhole --mark "$MARK" \
    --session-mark "$SESSION_MARK" --state-dir "$STATE" --events "$E2E_TMP/events.jsonl" \
    --log-level debug 2>>"$DAEMON_LOG"
  DAEMON_PID=$NETNS_LAST_PID
  gw_test_wait_serving "$DAEMON_LOG" "$DAEMON_PID" "${before:-0}"
}

# daemon_stop SIGNAL: signal the daemon and wait until it is gone.
daemon_stop() {
  kill "-$1" "$DAEMON_PID" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
  done
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=
}

# adopted: the session count of the last "adopted N stored sessions" line (0: none).
adopted() {
  local n
  n=$(grep -o 'adopted [0-9]* stored' "$DAEMON_LOG" | tail -n 1 | cut -d' ' -f2) || true
  echo "${n:-0}"
}

# client NAME SOURCE HOST STEPS: one session in the background.
declare -A CLIENT_PID
client() {
  netns_spawn client python3 "$here/restart_client.py" --host "$3" --source "$2" --dir "$RUN" \
    --name "$1" --steps "$4" --sha "$E2E_BIG_SHA" --size "$BIG_SIZE"
  CLIENT_PID[$1]=$NETNS_LAST_PID
}
# wait_file PATH [SECONDS]
wait_file() {
  local i
  for ((i = 0; i < ${2:-60} * 20; i++)); do
    [[ -e $1 ]] && return 0
    sleep 0.05
  done
  return 1
}
# client_done NAME: waits for the session to end; true when every step passed.
client_done() {
  local rc=0
  wait "${CLIENT_PID[$1]}" || rc=$?
  [[ $rc -eq 0 ]]
}
# step_result NAME STEP [N]: "true"/"false" of the Nth (default last) result of STEP, or "none".
step_result() { gw_test_step "$RUN/$1.jsonl" "$2" "${3:-0}"; }
# server_commands ADDR FROM_LINE: the commands vsftpd logged from ADDR since line FROM_LINE.
server_commands() {
  tail -n +"$(($2 + 1))" "$VSFTPD_LOG" | grep -F "FTP command: Client \"::ffff:$1\"" |
    sed 's/.*", "\(.*\)"$/\1/' || true
}
# commands_intact ADDR FROM_LINE: every command vsftpd logged from ADDR is one a client sent.
commands_intact() {
  local bad
  bad=$(server_commands "$1" "$2" | grep -Ev '^(USER anonymous|PASS <password>|TYPE I|PASV|PORT [0-9,]+|RETR pub/big.bin|NOOP|SIZE pub/big.bin|PWD|QUIT)$' || true)
  [[ -z $bad ]] || {
    log "unexpected commands from $1: $(echo "$bad" | tr '\n' '|')"
    return 1
  }
}

A=(A "$NETNS_CLIENT4" 198.18.100.100)
B=(B 198.18.100.102 198.18.1.9)
STEPS_RESTART=login,pasv,port,wait,noop,size,pwd,pasv,port,quit

run_restart_case() {
  local kind=$1 from name
  rm -rf "$RUN"
  mkdir -p "$RUN"
  from=$(wc -l <"$VSFTPD_LOG")
  client "${A[@]}" "$STEPS_RESTART"
  client "${B[@]}" "$STEPS_RESTART"
  for name in A B; do
    wait_file "$RUN/$name.wait-1" 60 || {
      fail "$kind: session $name did not reach its pause"
      return
    }
  done
  for name in A B; do
    [[ $(step_result "$name" pasv) == true && $(step_result "$name" port) == true ]] ||
      fail "$kind: session $name: transfers before"
  done
  local files bytes
  files=$(find "$STATE" -name '*.snap' 2>/dev/null | wc -l) || true
  bytes=$(find "$STATE" -name '*.snap' -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }') || true
  log "$kind: $files session snapshots, $bytes bytes"
  case $kind in
    kill9)
      daemon_stop KILL
      daemon_start
      ;;
    restart)
      daemon_stop TERM
      daemon_start
      ;;
    sigterm)
      daemon_stop TERM
      for name in A B; do touch "$RUN/$name.go-1"; done
      sleep 2  # the next commands go out while no daemon is bound (fail-closed: dropped)
      ;;
  esac
  [[ $kind == sigterm ]] && daemon_start
  log "$kind: $(grep -o 'adopted .*' "$DAEMON_LOG" | tail -n 1)"
  if [[ $(adopted) -ge 2 ]]; then ok "$kind: the successor adopted $(adopted) sessions"; else
    fail "$kind: the successor adopted $(adopted) sessions (want 2)"; fi
  for name in A B; do touch "$RUN/$name.go-1"; done
  for name in A B; do
    if client_done "$name"; then
      ok "$kind: session $name: NOOP, SIZE, PWD intact, PASV and PORT transfers after"
    else
      fail "$kind: session $name: $(tail -n 1 "$RUN/$name.jsonl")"
    fi
  done
  local addr
  for addr in 198.19.100.100 "$NETNS_GW_SRV4"; do
    if [[ $(server_commands "$addr" "$from" | grep -c -E '^(NOOP|SIZE pub/big.bin|PWD)$') -ge 3 ]] &&
      commands_intact "$addr" "$from"; then
      ok "$kind: vsftpd received every command of $addr intact"
    else
      fail "$kind: vsftpd's commands of $addr"
    fi
  done
}

run_absent_case() {
  local kind=$1 from c_gap
  rm -rf "$RUN"
  mkdir -p "$RUN"
  from=$(wc -l <"$VSFTPD_LOG")
  client "${A[@]}" login,pasv,port,wait,noop,size,pasv,port,quit
  client C 198.18.100.102 198.18.1.9 login,wait,noop,quit
  for name in A C; do
    wait_file "$RUN/$name.wait-1" 60 || {
      fail "$kind: session $name did not reach its pause"
      return
    }
  done
  # What of the rewritten session reaches the server while no daemon is bound: must be nothing
  # (a segment passed unadjusted lands 4 bytes off in the server's stream).
  local pcap=$E2E_TMP/$kind.pcap cap_pid seen
  netns_spawn server tcpdump -i veth0 -nn -U -w "$pcap" \
    "src host 198.19.100.100 and tcp dst port 21 and (ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2)) != 0"
  cap_pid=$NETNS_LAST_PID
  wait_file "$pcap" 10 || fail "$kind: tcpdump did not start"
  sleep 0.5
  daemon_stop KILL
  for name in A C; do touch "$RUN/$name.go-1"; done
  sleep 4
  kill -INT "$cap_pid" 2>/dev/null || true
  wait "$cap_pid" 2>/dev/null || true
  seen=$(tcpdump -r "$pcap" -nn 2>/dev/null | wc -l) || true
  if [[ $seen -eq 0 ]]; then ok "$kind: no segment of the rewritten session reached the server"
  else fail "$kind: $seen segments of the rewritten session reached the server unadjusted"; fi
  # A was rewritten: its NOOP must not have been answered (nor reached vsftpd unadjusted).
  if [[ $(step_result A noop) == none ]]; then ok "$kind: rewritten session held while absent"; else
    fail "$kind: rewritten session answered while absent ($(step_result A noop))"; fi
  c_gap=$(step_result C noop)
  if [[ $kind == absent-open ]]; then
    if [[ $c_gap == true ]]; then ok "$kind: unrewritten session passes (bypass)"; else
      fail "$kind: unrewritten session while absent: $c_gap"; fi
  else
    if [[ $c_gap == none ]]; then ok "$kind: unrewritten session dropped (no bypass)"; else
      fail "$kind: unrewritten session while absent: $c_gap"; fi
  fi
  if commands_intact 198.19.100.100 "$from" &&
    [[ $(server_commands 198.19.100.100 "$from" | grep -c '^NOOP$') -eq 0 ]]; then
    ok "$kind: vsftpd got nothing of the rewritten session while absent"
  else
    fail "$kind: vsftpd got commands of the rewritten session while absent"
  fi
  daemon_start
  for name in A C; do
    if client_done "$name"; then ok "$kind: session $name completes after the successor started"
    else fail "$kind: session $name: $(tail -n 1 "$RUN/$name.jsonl")"; fi
  done
  if commands_intact 198.19.100.100 "$from"; then
    ok "$kind: vsftpd received every command of the rewritten session intact"
  else
    fail "$kind: vsftpd's commands of the rewritten session"
  fi
}

# A snapshot of a session that ended while no daemon ran (here: of another network namespace,
# the fuzz corpus's) has no conntrack entry: it is removed, not adopted.
# The daemon keeps its snapshots per network namespace: DIR/net-<netns inode>/queue-N.
QDIR=$STATE/net-$(netns_exec gw stat -L -c %i /proc/self/ns/net)/queue-$QUEUE
mkdir -p "$QDIR"
cp "$repo/tests/fuzz/session_codec_corpus/ipv4-grown" "$QDIR/4-stale.snap"
queue_rules
daemon_start
if grep -q 'adopted 0 stored sessions .*(0 refused, 1 without a conntrack entry)' "$DAEMON_LOG" &&
  [[ ! -e $QDIR/4-stale.snap ]]; then
  ok "a stale snapshot (no conntrack entry) is removed, not adopted"
else
  fail "a stale snapshot: $(grep -o 'adopted .*' "$DAEMON_LOG" | tail -n 1)"
fi
for c in "${CASES[@]}"; do
  case $c in
    kill9 | sigterm | restart)
      queue_rules
      run_restart_case "$c"
      ;;
    absent-open)
      queue_rules --fail-open
      run_absent_case "$c"
      ;;
    absent-closed)
      queue_rules
      run_absent_case "$c"
      ;;
    *) e2e_die "unknown case $c" ;;
  esac
done
invalid=$(in_ns gw nft list counter inet fw invalid | grep -o 'packets [0-9]*' | cut -d' ' -f2)
log "conntrack invalid drops on the gateway: ${invalid:-?}"
daemon_stop TERM
exit $FAILED
