#!/bin/bash
# The queue rules' ACK bypass (root, network namespaces): ftpalgd --install-rules by default
# lets pure ACKs of control connections without the session mark pass unqueued, and marks a
# connection before the first packet a length-changing rewrite shifted leaves.
#
#   client -- gw (ftpalgd, pinhole mode) -- server (vsftpd); plan: scripts/lib/netns-plan.sh
#
# The client 198.18.1.2 dials 198.18.100.100 (DNAT to 198.19.1.2) and leaves SNATed as
# 198.19.100.100, so every 227 and PORT grows by 4 bytes. Checked:
#  (a) with the bypass, a session with PASV and PORT downloads (sha256) and NOOPs after them,
#      and one whose PORT lines go out one byte per segment (spliced early) with LIST, RETR and
#      STOR (sha256 both ways), work;
#  (b) the daemon's segment counter for a plain session (login, NOOPs, quit) is lower than with
#      --queue-everything (the kernel's queue counter too; both printed), and the pure ACKs were
#      not queued: a chain ahead of the queue rules counts the control packets that cross the
#      gateway and the pure ACKs among them (the bypass rules' conditions); with the bypass the
#      kernel queued exactly the others (at most ACK_SLACK off), at least ACK_MIN_PURE pure ACKs
#      crossed, and with --queue-everything it queued every one (the same bound: so the
#      counting chain sees what the queue sees);
#  (c) no 227 or PORT line leaves the gateway rewritten on a connection without the session
#      mark (an iptables string match after the queue), and some leave with it.
# ACK_BYPASS_SESSIONS=N (default 1) plain sessions per mode; with N >= 50 the daemon's CPU per
# session is printed too (a measurement, not asserted).
#
# usage: ack_bypass_test.sh <ftpalgd> <ftpalg>
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd> <ftpalg>}")
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$here/../.." && pwd)
QUEUE=61
MARK=0xf7c1
SESSION_MARK=0xf7c2
SESSIONS=${ACK_BYPASS_SESSIONS:-1}
NOOPS=10
T=60
# (b)'s bound: packets the kernel's queue counter and the counting chain may differ by (a
# packet between the two reads); and the pure ACKs a plain session must have crossed with (the
# handshake's third packet, the FINs' acknowledgements), more than the bound, so that queueing
# them shows.
ACK_SLACK=1
ACK_MIN_PURE=$((2 * SESSIONS))

export NETNS_PREFIX="ftab-$$-"
GW_TEST_TAG=ack_bypass
# shellcheck source=tests/netns/lib/gw_test.sh
. "$repo/tests/netns/lib/gw_test.sh"
gw_test_require_root
DAEMON_LOG=
DAEMON_PID=
# shellcheck disable=SC2317 # called from the trap
cleanup_all() {
  if [[ -n $DAEMON_PID ]]; then kill -9 "$DAEMON_PID" 2>/dev/null || true; fi
  e2e_server_stop
  if [[ $FAILED -ne 0 && -n $DAEMON_LOG ]]; then
    log "ftpalgd log (tail):"
    tail -n 30 "$DAEMON_LOG" 2>/dev/null || true
    cat "$RUN"/*.jsonl 2>/dev/null || true
  fi
}
gw_test_tmp ack-bypass cleanup_all
RUN=$E2E_TMP/run

gw_test_shift_topology "$MARK"
# (c): rewritten announcements leaving the gateway (filter FORWARD runs after the queue),
# counted by whether their connection carries the session mark.
for m in "!" ""; do
  # shellcheck disable=SC2086 # $m is "!" or nothing
  in_ns gw iptables -A FORWARD -p tcp --sport 21 -m string --algo bm --string "227 Entering" \
    -m connmark $m --mark "$SESSION_MARK"
  # shellcheck disable=SC2086
  in_ns gw iptables -A FORWARD -p tcp --dport 21 -m string --algo bm --string "198,19,100,100" \
    -m connmark $m --mark "$SESSION_MARK"
done
# announced_unmarked / announced_marked: packets counted by the rules above.
announced() {
  in_ns gw iptables -L FORWARD -v -x -n | awk -v want="$1" '
    /STRING match/ { marked = ($0 ~ /mark match ! /) ? "unmarked" : "marked"
                     if (marked == want) n += $1 } END { print n + 0 }'
}

# (b): the control packets that reach the queue chain (priority mangle, -150) and the pure ACKs
# among them, counted in a chain that runs just before it; the conditions are the bypass
# rules' (docs/daemon.md, "ACK bypass"; IPv4 only here).
in_ns gw nft -f - <<'NFT'
table ip ackcount {
  counter control { }
  counter pure { }
  chain forward {
    type filter hook forward priority -160; policy accept;
    tcp dport 21 jump ctl
    tcp sport 21 jump ctl
  }
  chain ctl {
    counter name control
    tcp flags & (fin|syn|rst) == 0 tcp doff 5 ip length 40 counter name pure
    tcp flags & (fin|syn|rst) == 0 tcp doff 8 ip length 52 counter name pure
  }
}
NFT
# crossed NAME: packets counted by counter NAME of table ip ackcount so far.
crossed() {
  in_ns gw nft list counter ip ackcount "$1" | sed -n 's/.*packets \([0-9]*\) .*/\1/p'
}

gw_test_serve
# A directory whose STAT listing (a control-connection reply of about 32 KiB, many segments)
# needs the client's ACKs to reach the server in its own numbers once the 227 shifted them.
mkdir -p "$E2E_TMP/srv/pub/many"
for i in $(seq 300); do : >"$E2E_TMP/srv/pub/many/file-$i-with-a-rather-long-name-to-fill-the-reply"; done
chmod -R a+rX "$E2E_TMP/srv/pub/many"
mkdir -p "$RUN"

# queued: packets the gateway's kernel has queued to $QUEUE so far (its id sequence).
queued() {
  # shellcheck disable=SC2016 # an awk program, not a shell expansion
  in_ns gw awk -v q="$QUEUE" '$1 == q { print $8; found = 1 } END { if (!found) print 0 }' \
    /proc/net/netfilter/nfnetlink_queue
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }

daemon_start() {
  DAEMON_LOG=$E2E_TMP/ftpalgd-$1.log
  shift
  netns_spawn gw "$FTPALGD" --queues "$QUEUE" --kernel-mode pinhole --install-rules \
    --mark "$MARK" --session-mark "$SESSION_MARK" --state-dir '' \
    --events "$E2E_TMP/events.jsonl" "$@" 2>>"$DAEMON_LOG"
  DAEMON_PID=$NETNS_LAST_PID
  gw_test_wait_serving "$DAEMON_LOG" "$DAEMON_PID"
}
# daemon_stop: SIGTERM; prints the engine's segment counter from the last log lines.
daemon_stop() {
  kill -TERM "$DAEMON_PID"
  for _ in $(seq 100); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
  done
  DAEMON_PID=
  grep -o 'counters: .*' "$DAEMON_LOG" | tail -n 1 | tr ',' '\n' | sed -n 's/^.* segments=//p'
}

# plain_sessions N: N sessions of login, NOOPs, quit (no announcement: nothing rewritten).
plain_sessions() {
  in_ns client python3 - "$1" "$NOOPS" <<'PY'
import ftplib, sys
for _ in range(int(sys.argv[1])):
    f = ftplib.FTP("198.18.100.100", timeout=10)
    f.login("anonymous", "ack@ftpalg.test")
    for _ in range(int(sys.argv[2])):
        if not f.voidcmd("NOOP").startswith("200"):
            sys.exit(1)
    f.quit()
PY
}

# measure MODE [FLAGS]: one daemon run serving $SESSIONS plain sessions; sets SEG, QUEUED, TICKS,
# CROSSED (control packets through the gateway) and PURE (the pure ACKs among them).
measure() {
  local mode=$1 q0 t0 c0 p0
  shift
  daemon_start "$mode" "$@"
  q0=$(queued)
  c0=$(crossed control)
  p0=$(crossed pure)
  t0=$(cpu_ticks)
  plain_sessions "$SESSIONS" || fail "$mode: plain sessions failed"
  TICKS=$(($(cpu_ticks) - t0))
  sleep 0.5 # the last FIN's acknowledgement crosses after the client has returned
  QUEUED=$(($(queued) - q0))
  CROSSED=$(($(crossed control) - c0))
  PURE=$(($(crossed pure) - p0))
  SEG=$(daemon_stop)
  log "$mode: $SESSIONS plain session(s): engine segments ${SEG:-?}, kernel queued $QUEUED" \
    "($((QUEUED / SESSIONS)) per session) of $CROSSED control packets crossing, $PURE of them" \
    "pure ACKs; daemon CPU $TICKS ticks"
}
# within A B: |A - B| <= ACK_SLACK.
within() { (($1 - $2 <= ACK_SLACK && $2 - $1 <= ACK_SLACK)); }

# --- (b) plain sessions: ACK bypass against queue-everything -----------------------------------
measure bypass
SEG_BYPASS=${SEG:-0} QUEUED_BYPASS=$QUEUED TICKS_BYPASS=$TICKS
CROSSED_BYPASS=$CROSSED PURE_BYPASS=$PURE
measure everything --queue-everything
SEG_ALL=${SEG:-0} QUEUED_ALL=$QUEUED TICKS_ALL=$TICKS
if [[ $PURE_BYPASS -ge $ACK_MIN_PURE ]] &&
  within "$QUEUED_BYPASS" $((CROSSED_BYPASS - PURE_BYPASS)); then
  ok "plain session: no pure ACK queued with the bypass (kernel queued $QUEUED_BYPASS of" \
    "$CROSSED_BYPASS control packets, $PURE_BYPASS pure ACKs passed; bound $ACK_SLACK)"
else
  fail "plain session with the bypass: kernel queued $QUEUED_BYPASS of $CROSSED_BYPASS control" \
    "packets with $PURE_BYPASS pure ACKs among them (want $((CROSSED_BYPASS - PURE_BYPASS))" \
    "± $ACK_SLACK queued, at least $ACK_MIN_PURE pure ACKs): pure ACKs were queued"
fi
if within "$QUEUED_ALL" "$CROSSED"; then
  ok "queueing everything: kernel queued $QUEUED_ALL of $CROSSED control packets ($PURE pure ACKs)"
else
  fail "queueing everything: kernel queued $QUEUED_ALL of $CROSSED control packets (bound" \
    "$ACK_SLACK): the counting chain does not see what the queue sees"
fi
if [[ $SEG_BYPASS -gt 0 && $SEG_BYPASS -lt $SEG_ALL && $QUEUED_BYPASS -lt $QUEUED_ALL ]]; then
  ok "plain session: engine saw $SEG_BYPASS segments with the bypass, $SEG_ALL queueing" \
    "everything (kernel queued $QUEUED_BYPASS vs $QUEUED_ALL)"
else
  fail "plain session: engine segments $SEG_BYPASS (bypass) vs $SEG_ALL, kernel queued" \
    "$QUEUED_BYPASS vs $QUEUED_ALL: the bypass queued no fewer"
fi
if [[ $SESSIONS -ge 50 ]]; then
  hz=$(getconf CLK_TCK)
  log "CPU per plain session: $((TICKS_BYPASS * 1000000 / hz / SESSIONS)) us with the bypass," \
    "$((TICKS_ALL * 1000000 / hz / SESSIONS)) us queueing everything"
fi

# --- (a) and (c): rewritten sessions with the bypass -------------------------------------------
daemon_start nat
in_ns client python3 "$here/restart_client.py" --host 198.18.100.100 \
  --source "$NETNS_CLIENT4" --dir "$RUN" --name A --sha "$E2E_BIG_SHA" --size "$BIG_SIZE" \
  --steps login,pasv,noop,port,noop,size,pwd,pasv,quit >/dev/null 2>&1 ||
  fail "PASV/PORT session (see $RUN/A.jsonl)"
if python3 - "$RUN/A.jsonl" <<'PY'; then
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
bad = [r for r in rows if not r["ok"]]
sys.exit(1 if bad or len(rows) < 9 else 0)
PY
  ok "PASV and PORT downloads (sha256) and exact replies after each shift"
else
  fail "PASV/PORT session steps: $(cat "$RUN/A.jsonl")"
fi
# After a shifting 227, a reply of many segments: the client's pure ACKs must be queued and
# mapped, or the server (which ignores acknowledgements of bytes it never sent) stalls.
if in_ns client python3 - <<'PY'; then
import ftplib, sys, time
f = ftplib.FTP("198.18.100.100", timeout=10)
f.login("anonymous", "ack@ftpalg.test")
f.makepasv()
for _ in range(2):
    t = time.monotonic()
    r = f.sendcmd("STAT pub/many")
    if r.count("with-a-rather-long-name") != 300:
        sys.exit(f"STAT listed {r.count('with-a-rather-long-name')} of 300 files")
    print(f"STAT reply of {len(r)} bytes in {time.monotonic() - t:.3f} s", file=sys.stderr)
f.voidcmd("NOOP")
f.quit()
PY
  ok "a 300-line STAT reply (many segments) after the shift, twice"
else
  fail "STAT reply after the shift"
fi
ct_mark=$(in_ns gw conntrack -L -p tcp --orig-src "$NETNS_CLIENT4" --orig-port-dst 21 \
  --mark "$SESSION_MARK" 2>/dev/null | grep -c . || true)
log "control entries carrying the session mark: $ct_mark"
if in_ns client python3 "$repo/tests/netns/e2e/ftp_driver.py" client --host 198.18.100.100 \
  --mode active --split --get pub/big.bin --get-out "$E2E_TMP/split.bin" \
  --list-out "$E2E_TMP/split.list" --put "$E2E_TMP/cli/up.bin" --put-as upload/split.bin \
  2>"$E2E_TMP/split.err"; then
  got=$(sha256sum <"$E2E_TMP/split.bin" | cut -d' ' -f1)
  up=$(sha256sum <"$E2E_TMP/srv/upload/split.bin" | cut -d' ' -f1)
  if [[ $got == "$E2E_BIG_SHA" && $up == "$E2E_UP_SHA" ]]; then
    ok "PORT one byte per segment (spliced early): LIST, RETR and STOR sha256-exact"
  else
    fail "split PORT session: sha256 mismatch (get $got, put $up)"
  fi
else
  fail "split PORT session: $(tail -n 3 "$E2E_TMP/split.err")"
fi
unmarked=$(announced unmarked)
marked=$(announced marked)
if [[ $unmarked -eq 0 && $marked -ge 4 ]]; then
  ok "rewritten 227/PORT lines left only on marked connections ($marked packets, 0 unmarked)"
else
  fail "rewritten 227/PORT lines: $unmarked on unmarked connections, $marked on marked ones"
fi
seg=$(daemon_stop)
log "rewritten sessions: engine segments ${seg:-?}"
in_ns gw nft list table ip ftpalg_queue >/dev/null 2>&1 && fail "queue rules left behind"

[[ $FAILED -eq 0 ]] && log "PASS"
exit "$FAILED"
