#!/bin/bash
# Blind RSTs at a rewritten (+4), liberally tracked control connection do not kill it (root,
# network namespaces).
#
#   client -- gw (ftpalgd, pinhole mode) -- server (vsftpd); plan: scripts/lib/netns-plan.sh
#
# The client 198.18.1.2 dials 198.18.100.100 (DNAT to 198.19.1.2) and leaves SNATed as
# 198.19.100.100, so PORT and 227 grow by 4 and ftpalgd marks the entry liberal. Conntrack
# accepts any RST on a liberal entry at PREROUTING and moves it to CLOSE (10 s), before the
# queue sees it; the engine judges such a forged RST out of window, and ftpalgd must put the
# entry back to ESTABLISHED. Checked: the entry is ESTABLISHED within 5 s after forged RSTs from
# both sides (hostile/attack.py spoof, wrong sequence numbers), and 12 s later (past the CLOSE
# timeout) the old session's NOOP, SIZE and PWD get exact replies and a PASV and a PORT
# download are sha256-checked.
#
# usage: spoofed_rst_test.sh <ftpalgd> <ftpalg>
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd> <ftpalg>}")
FTPALG=$(readlink -f "${2:?usage: $0 <ftpalgd> <ftpalg>}")
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$here/../.." && pwd)
QUEUE=53
MARK=0xf7b1
SESSION_MARK=0xf7b2

export NETNS_PREFIX="ftsr-$$-"
GW_TEST_TAG=spoofed_rst
# shellcheck source=tests/netns/lib/gw_test.sh
. "$repo/tests/netns/lib/gw_test.sh"
gw_test_require_root
DAEMON_PID=
CLIENT_PID=
# Run by the exit trap before the namespaces go (also on failure or a signal).
# shellcheck disable=SC2317 # called from the trap
cleanup_all() {
  if [[ -n $CLIENT_PID ]]; then kill -9 "$CLIENT_PID" 2>/dev/null || true; fi
  if [[ -n $DAEMON_PID ]]; then kill -9 "$DAEMON_PID" 2>/dev/null || true; fi
  e2e_server_stop
  if [[ $FAILED -ne 0 ]]; then
    log "ftpalgd log (tail):"
    tail -n 40 "$DAEMON_LOG" 2>/dev/null || true
    log "client steps:"
    cat "$RUN/A.jsonl" 2>/dev/null || true
  fi
}
gw_test_tmp spoofed-rst cleanup_all
RUN=$E2E_TMP/run
DAEMON_LOG=$E2E_TMP/ftpalgd.log

gw_test_shift_topology "$MARK"
gw_test_serve

"$FTPALG" rules --queue-form iptables --queues "$QUEUE" --session-mark "$SESSION_MARK" |
  grep -E '^ip6?tables ' >"$E2E_TMP/rules.sh"
while read -r -a rule; do in_ns gw "${rule[@]}"; done <"$E2E_TMP/rules.sh"

netns_spawn gw "$FTPALGD" --queues "$QUEUE" --kernel-mode pinhole --mark "$MARK" \
  --session-mark "$SESSION_MARK" --events "$E2E_TMP/events.jsonl" --log-level debug \
  2>>"$DAEMON_LOG"
DAEMON_PID=$NETNS_LAST_PID
gw_test_wait_serving "$DAEMON_LOG" "$DAEMON_PID"

# ct_state: "STATE TIMEOUT" of the control connection's entry ("none" when it has none).
ct_state() {
  in_ns gw conntrack -L -p tcp --orig-src "$NETNS_CLIENT4" --orig-port-dst 21 2>/dev/null |
    awk '{ print $4, $3; found = 1 } END { if (!found) print "none" }' | head -n 1
}
# ct_alive: the entry is ESTABLISHED with more than conntrack's CLOSE timeout (10 s) left. A
# blind RST on a liberal entry leaves the state name on some kernels but cuts the timeout to
# the CLOSE one (not the exact sequence number) or moves it to CLOSE: either way it is gone
# 10 s later.
ct_alive() {
  local st
  read -r -a st <<<"$(ct_state)"
  [[ ${st[0]} == ESTABLISHED && ${st[1]:-0} -gt 20 ]]
}
# step_ok STEP [N]: true when the Nth (default last) result of STEP passed.
step_ok() { [[ $(gw_test_step "$RUN/A.jsonl" "$1" "${2:-0}") == true ]]; }

mkdir -p "$RUN"
netns_spawn client python3 "$here/restart_client.py" --host 198.18.100.100 \
  --source "$NETNS_CLIENT4" --dir "$RUN" --name A --sha "$E2E_BIG_SHA" --size "$BIG_SIZE" \
  --steps login,pasv,port,wait,noop,wait,noop,size,pwd,pasv,port,quit
CLIENT_PID=$NETNS_LAST_PID
for _ in $(seq 1200); do
  [[ -e $RUN/A.wait-1 ]] && break
  kill -0 "$CLIENT_PID" 2>/dev/null || break
  sleep 0.05
done
[[ -e $RUN/A.wait-1 ]] || e2e_die "the session did not reach its pause"
if step_ok pasv && step_ok port; then ok "PASV and PORT downloads before the RSTs"; else
  fail "downloads before the RSTs"; fi
log "entry before: $(ct_state)"

# Forged RSTs from both sides, at sequence numbers a quarter of the space off (ahead: conntrack
# accepts them on a liberal entry). The forger learns both sides' sequence numbers from the
# client link, so the session sends one NOOP while it runs: only once the forger says its
# watch is open (a fixed pause lost the race on a loaded machine, and nothing was forged).
timeout 30 python3 "$here/hostile/attack.py" spoof --gw-ns "$(netns_name gw)" \
  --watch-ns "$(netns_name client)" --client-forger "$(netns_name client)" \
  --server-forger "$(netns_name server)" --legit "$NETNS_CLIENT4" --kinds rst \
  --interval 0.3 --duration 4 --ready "$E2E_TMP/spoof.ready" >"$E2E_TMP/spoof.json" &
SPOOF_PID=$!
for _ in $(seq 200); do
  [[ -e $E2E_TMP/spoof.ready ]] && break
  sleep 0.05
done
[[ -e $E2E_TMP/spoof.ready ]] || fail "the forger did not start within 10 s"
touch "$RUN/A.go-1"
for _ in $(seq 200); do
  [[ -e $RUN/A.wait-2 ]] && break
  sleep 0.05
done
wait "$SPOOF_PID" || true
spoof=$(cat "$E2E_TMP/spoof.json")
log "forged: $spoof"
[[ $spoof == *'"rst_c2s": 0,'* || $spoof == *'"rst_s2c": 0,'* || -z $spoof ]] &&
  fail "RSTs not forged in both directions"
# The restore is one ctnetlink UPDATE in the queue thread before the RST's verdict: on a loaded
# machine the queue may still be busy 1 s after the last RST was sent, so wait up to 5 s (well
# inside the 10 s CLOSE timeout: an entry never restored is still caught, and gone later).
for _ in $(seq 10); do
  sleep 0.5
  ct_alive && break
done
if ct_alive; then ok "entry $(ct_state) s after the forged RSTs"; else
  fail "entry $(ct_state) 5 s after the forged RSTs (want ESTABLISHED, over 20 s left)"; fi
sleep 12
if ct_alive; then ok "entry $(ct_state) s 12 s later (past the CLOSE timeout)"; else
  fail "entry $(ct_state) 12 s later (want the same one, ESTABLISHED)"; fi
touch "$RUN/A.go-2"
rc=0
wait "$CLIENT_PID" || rc=$?
CLIENT_PID=
step_ok noop 1 || fail "the NOOP during the RSTs"
for s in noop size pwd; do
  if step_ok "$s"; then ok "$s answered exactly after the RSTs"; else fail "$s after the RSTs"; fi
done
if step_ok pasv 2 && step_ok port 2; then ok "PASV and PORT downloads after the RSTs"; else
  fail "downloads after the RSTs"; fi
[[ $rc -eq 0 ]] || fail "the session failed (exit $rc)"
invalid=$(in_ns gw nft list counter inet fw invalid | grep -o 'packets [0-9]*' | cut -d' ' -f2)
log "conntrack invalid drops on the gateway: ${invalid:-?}"
[[ $FAILED -eq 0 ]] && log "PASS"
exit "$FAILED"
