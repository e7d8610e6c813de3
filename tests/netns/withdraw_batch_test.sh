#!/bin/bash
# shellcheck disable=SC2016 # check() evaluates its single-quoted conditions later
# Withdrawals off the packet path, batched (root, network namespaces): sessions whose
# announcements were used (their pin and single-use mark gone, NAT and source NAT elements
# left) and left unused end; every element is gone shortly after, each withdrawal is counted,
# none fails; the last session ends right before SIGTERM and the table is still empty once the
# daemon has exited (drained at stop).
#
#   client (behind masquerade) -- gw (ftpalgd pinhole mode) -- server (vsftpd)
#
# Cases: destroy (the kernel's NFT_MSG_DESTROYSETELEM where it has it: 6.3 and later) and
# delete (FTPALGD_NFT_DESTROY=off: NFT_MSG_DELSETELEM as on Debian 12's 6.1, where a batch with
# an element gone fails with ENOENT and goes again without it).
#
# usage: withdraw_batch_test.sh <ftpalgd> destroy|delete
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd> destroy|delete}")
CASE=${2:?usage: $0 <ftpalgd> destroy|delete}
repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
MARK=0xf7a1
QUEUE=49
[[ $CASE == delete ]] && QUEUE=50
SESSIONS=6

export NETNS_PREFIX="ftwb-$CASE-$$-"
GW_TEST_TAG=withdraw-batch
# shellcheck source=tests/netns/lib/gw_test.sh
. "$repo/tests/netns/lib/gw_test.sh"
gw_test_require_root
gw_test_require_vsftpd
PYTHON=$(command -v python3)
gw_test_tmp withdraw-batch

netns_topology_gw masq
in_ns gw nft -f - <<NFT
table inet fw {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct mark $MARK accept
    ct state new tcp dport 21 accept
  }
}
table inet nat {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "srv0" masquerade
  }
}
NFT
for dir in --dport --sport; do
  in_ns gw iptables -t mangle -A FORWARD -p tcp "$dir" 21 -j NFQUEUE --queue-num "$QUEUE"
done
gw_test_serve

[[ $CASE == delete ]] && export FTPALGD_NFT_DESTROY=off
gw_test_daemon "$QUEUE" "$E2E_TMP/ftpalgd.log" --queues "$QUEUE" --kernel-mode pinhole \
  --mark "$MARK" --log-level debug
unset FTPALGD_NFT_DESTROY
gw_test_wait_serving "$E2E_TMP/ftpalgd.log" "$GW_PID"

# check NAME CONDITION: gw_test.sh's check with CONDITION evaluated here.
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }
# withdrawals: the withdrawals the daemon reported done (its outcomes reach the log on the queue
# thread's next round, after the kernel's answer).
withdrawals() { grep -c 'withdrew pinhole' "$E2E_TMP/ftpalgd.log" || true; }
# until_withdrawn N: polls (at most 3 s) until N withdrawals are reported; prints the count.
until_withdrawn() {
  local n
  for _ in $(seq 30); do
    n=$(withdrawals)
    ((n >= $1)) && break
    sleep 0.1
  done
  echo "$n"
}

# The elements of the pinhole table's sets and maps.
element_count() {
  {
    local s
    for s in pin4 natuse4; do in_ns gw nft -j list set inet "ftpalg_q$QUEUE" "$s"; done
    for s in nat4 snat4; do in_ns gw nft -j list map inet "ftpalg_q$QUEUE" "$s"; done
  } 2>/dev/null | "$PYTHON" -c '
import json, sys
n = 0
for line in sys.stdin:
    for o in json.loads(line)["nftables"]:
        for k in ("set", "map"):
            if k in o:
                n += len(o[k].get("elem", []))
print(n)'
}
# until_empty SECONDS: polls the element count until 0 (prints the last count).
until_empty() {
  local n
  for _ in $(seq $(($1 * 10))); do
    n=$(element_count)
    ((n == 0)) && break
    sleep 0.1
  done
  echo "$n"
}

# N sessions, each: PASV + RETR (used), PORT + RETR (used), PORT left unused, then QUIT.
# Prints one line per session: the SHA-256 of both downloads.
cat >"$E2E_TMP/client.py" <<'PY'
import ftplib, hashlib, socket, sys

server, src, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

def digest(f, cmd):
    h = hashlib.sha256()
    f.retrbinary(cmd, h.update)
    return h.hexdigest()

for _ in range(n):
    f = ftplib.FTP(timeout=30)
    f.connect(server, 21, source_address=(src, 0))
    f.login()
    f.set_pasv(True)
    a = digest(f, "RETR pub/big.bin")
    f.set_pasv(False)
    b = digest(f, "RETR pub/big.bin")
    lst = socket.socket()
    lst.bind((src, 0))
    lst.listen(1)
    p = lst.getsockname()[1]
    f.sendcmd("PORT %s,%d,%d" % (src.replace(".", ","), p >> 8, p & 255))
    f.quit()
    lst.close()
    print(a, b, flush=True)
PY

mapfile -t out < <(T=120 in_ns client "$PYTHON" "$E2E_TMP/client.py" "$NETNS_SERVER4" \
  "$NETNS_CLIENT4" "$SESSIONS" || true)
intact=0
for line in "${out[@]}"; do
  [[ $line == "$E2E_BIG_SHA $E2E_BIG_SHA" ]] && intact=$((intact + 1))
done
left=$(until_empty 3)
withdrew=$(until_withdrawn $((3 * SESSIONS)))
log "$intact of $SESSIONS sessions with both downloads intact; elements left: $left; $withdrew withdrawals"
grep 'withdrawals off the packet path' "$E2E_TMP/ftpalgd.log" || true
check "every download intact" '((intact == SESSIONS))'
check "no element left once the sessions ended" '((left == 0))'
check "three withdrawals per session, each done" '((withdrew >= 3 * SESSIONS))'
check "no withdrawal failed" '! grep -q "withdrawing pinhole.*failed" "$E2E_TMP/ftpalgd.log"'
if [[ $CASE == delete ]]; then
  check "deleting with NFT_MSG_DELSETELEM" 'grep -q "deleting with NFT_MSG_DELSETELEM" "$E2E_TMP/ftpalgd.log"'
else
  check "deleting with NFT_MSG_DESTROYSETELEM" 'grep -q "deleting with NFT_MSG_DESTROYSETELEM" "$E2E_TMP/ftpalgd.log"'
fi

# The last session ends, and the daemon is stopped at once: its withdrawals are done before it
# exits (the table stays for a successor, empty).
T=60 in_ns client "$PYTHON" "$E2E_TMP/client.py" "$NETNS_SERVER4" "$NETNS_CLIENT4" 1 >/dev/null || true
kill -TERM "$GW_PID"
for _ in $(seq 100); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
left=$(element_count)
withdrew2=$(withdrawals)
log "after the last session and SIGTERM: elements left $left, $((withdrew2 - withdrew)) more withdrawals"
check "the daemon stopped" '! kill -0 "$GW_PID" 2>/dev/null'
check "the last session's elements are gone after the stop" '((left == 0))'
check "the last session's three withdrawals were done" '((withdrew2 - withdrew >= 3))'
if ((FAILED)); then tail -n 40 "$E2E_TMP/ftpalgd.log"; fi
exit $FAILED
