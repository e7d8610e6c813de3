#!/bin/bash
# A queue flood (root, network namespaces): ftpalgd with queue_maxlen 16 is stopped (SIGSTOP)
# for a second while 400 connection attempts to port 21 cross the gateway, so the kernel's queue
# overflows. Fail-closed: nothing of the flood reaches the server while the daemon is stopped
# and ftpalgd logs the kernel's drops (from /proc/net/netfilter/nfnetlink_queue) once, with
# the count; fail-open: the flood passes uninspected. Either way ftpalgd serves on by itself:
# after the flood a new session downloads with PASV and with PORT (sha256-checked), and at
# SIGTERM it exits 0.
#
# usage: overload_test.sh closed|open <ftpalgd>
set -euo pipefail

MODE=${1:?usage: $0 closed|open <ftpalgd>}
FTPALGD=$(readlink -f "${2:?usage: $0 closed|open <ftpalgd>}")
FLOOD=400
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root"
  exit 77
fi
if [[ $MODE == closed ]]; then E2E_QUEUE=41; else E2E_QUEUE=42; fi
export E2E_QUEUE
export NETNS_PREFIX="ftov$MODE-$$-"
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
# shellcheck source=tests/netns/lib/gw_case.sh
. "$here/lib/gw_case.sh"

fail() {
  echo "FAIL: $*"
  cat "$E2E_TMP/ftpalgd.log"
  exit 1
}

gw_case_setup
# The server counts (and drops) the flood's SYNs: source ports 50000-50999.
netns_exec server nft -f - <<'NFT'
table inet flood {
  counter syns { }
  chain in {
    type filter hook input priority filter; policy accept;
    tcp dport 21 tcp sport 50000-50999 counter name syns drop
  }
}
NFT
server_syns() {
  netns_exec server nft -j list counter inet flood syns |
    python3 -c 'import json,sys; d=json.load(sys.stdin)["nftables"]; print([o["counter"]["packets"] for o in d if "counter" in o][0])'
}

extra=()
[[ $MODE == open ]] && extra=(--fail-open)
gw_case_start_daemon "$FTPALGD" --kernel-mode pinhole --queues "$E2E_QUEUE" --queue-maxlen 16 \
  "${extra[@]}"
gw_case_transfer pasv before || fail "PASV download before the flood"

kill -STOP "$DAEMON_PID"
sent=$E2E_TMP/flood.sent
netns_exec client timeout 30 python3 - "$NETNS_SERVER4" "$FLOOD" "$sent" <<'PY' &
import socket, sys, time
host, n, sent = sys.argv[1], int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 50000 + i))
    s.setblocking(False)
    s.connect_ex((host, 21))
    socks.append(s)
open(sent, "w").close()  # every SYN is out
time.sleep(3)
for s in socks:
    s.close()
PY
flood_pid=$!
for _ in $(seq 200); do [[ -e $sent ]] && break; sleep 0.1; done
[[ -e $sent ]] || fail "the flood did not start"
sleep 0.5 # what passes reaches the server
during=$(server_syns)
kill -CONT "$DAEMON_PID"
wait "$flood_pid" || true
echo "flood: $FLOOD SYNs, $during reached the server while ftpalgd was stopped"

if [[ $MODE == closed ]]; then
  ((during == 0)) || fail "fail-closed: $during flood packets passed while the queue was full"
  for _ in $(seq 50); do
    grep -q "queue $E2E_QUEUE: overload: [0-9]* dropped by the kernel" "$E2E_TMP/ftpalgd.log" && break
    sleep 0.1
  done
  line=$(grep "queue $E2E_QUEUE: overload: " "$E2E_TMP/ftpalgd.log") || fail "no overload line"
  echo "$line"
  [[ $(grep -c "queue $E2E_QUEUE: overload: " "$E2E_TMP/ftpalgd.log") -eq 1 ]] ||
    fail "more than one overload line for one burst"
  n=$(sed -n 's/.*overload: \([0-9]*\) dropped by the kernel.*/\1/p' <<<"$line")
  ((n >= FLOOD / 2)) || fail "the kernel dropped only $n of $FLOOD flood packets?"
else
  ((during >= FLOOD / 2)) || fail "fail-open: only $during of $FLOOD flood packets passed"
fi

# The daemon recovered by itself: a new session, passive and active.
gw_case_transfer pasv after-pasv || fail "PASV download after the flood"
gw_case_transfer port after-port || fail "PORT download after the flood"
sleep 4  # the burst ends (3 s quiet) and is summarised
rc=0
gw_case_stop_daemon || rc=$?
cat "$E2E_TMP/ftpalgd.log"
((rc == 0)) || fail "ftpalgd exited $rc"
if [[ $MODE == closed ]]; then
  grep -q "queue $E2E_QUEUE: overload ended after" "$E2E_TMP/ftpalgd.log" || fail "no end-of-burst line"
fi
grep -q 'seccomp: system call' "$E2E_TMP/ftpalgd.log" && fail "seccomp stopped a system call"
echo "PASS: overload fail-$MODE"
