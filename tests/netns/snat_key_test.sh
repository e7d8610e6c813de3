#!/bin/bash
# A data connection of a NATed session and one of a routed session that share client, server
# and port do not share the NATed one's source NAT (root, network namespaces).
#
#   client -- gw (ftpalgd, pinhole mode) -- server (vsftpd, one passive port: 40000)
#
# The client 198.18.1.2 has two ways to the server 198.19.1.2: dialling 198.18.100.100 (DNAT to
# the server; only such sessions leave SNATed, as 198.19.100.100: `ct status dnat`, as
# tests/netns/lib/ha.sh has it), and routed straight to 198.19.1.2, not rewritten. Session N
# (NATed) downloads once passively and once actively (client data port 50000) and stays
# logged in, so ftpalgd keeps its announcements' elements for the pinhole timeout; then session
# R (routed) does the same with the same server passive port and the same client data port.
# Checked: R's passive download passes (vsftpd refuses a data connection from another address
# than the control connection's: "425 Security: Bad IP connecting.") and R's active data
# connection comes from 198.19.1.2, N's from 198.18.100.100. Both fail when chain post's
# source NAT map is keyed by the tuple after DNAT (client . server . port), which R's data
# connections have too: the failure of the HA test's routed sessions on a gateway that held
# the elements of a NATed session of the same client.
#
# usage: snat_key_test.sh <ftpalgd>
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd>}")
repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
QUEUE=57
MARK=0xf7c1
SESSION_MARK=0xf7c2

export NETNS_PREFIX="ftsk-$$-"
GW_TEST_TAG=snat_key
# shellcheck source=tests/netns/lib/gw_test.sh
. "$repo/tests/netns/lib/gw_test.sh"
gw_test_require_root
gw_test_require_vsftpd
E2E_PASV_RANGE=40000-40000 # every PASV of both sessions gets the same port
DAEMON_PID=
# shellcheck disable=SC2317 # called from the trap
cleanup_all() {
  if [[ -n $DAEMON_PID ]]; then kill -TERM "$DAEMON_PID" 2>/dev/null || true; fi
  e2e_server_stop
  if [[ $FAILED -ne 0 ]]; then
    log "ftpalgd log (tail):"
    tail -n 30 "$E2E_TMP/ftpalgd.log" 2>/dev/null || true
    in_ns gw nft list table inet "ftpalg_q$QUEUE" 2>/dev/null |
      sed -n '/map snat4/,/^\t}/p;/chain post/,/^\t}/p' || true
  fi
}
gw_test_tmp snat-key cleanup_all

gw_test_shift_topology "$MARK" dnat-only
in_ns client ip route add "$NETNS_SERVER4/32" via "$NETNS_GW_CLI4"
gw_test_serve
in_ns gw iptables -t mangle -A FORWARD -p tcp --dport 21 -j NFQUEUE --queue-num "$QUEUE"
in_ns gw iptables -t mangle -A FORWARD -p tcp --sport 21 -j NFQUEUE --queue-num "$QUEUE"
netns_spawn gw "$FTPALGD" --queues "$QUEUE" --kernel-mode pinhole --mark "$MARK" \
  --session-mark "$SESSION_MARK" --state-dir "$E2E_TMP/state" --control-socket \
  "$E2E_TMP/control.sock" --metrics-socket "$E2E_TMP/metrics.sock" --events \
  "$E2E_TMP/events.jsonl" --log-level debug 2>>"$E2E_TMP/ftpalgd.log"
DAEMON_PID=$NETNS_LAST_PID
gw_test_wait_serving "$E2E_TMP/ftpalgd.log" "$DAEMON_PID"

# One line per transfer: "NAME MODE ok|FAIL DETAIL" (active: the data connection's source).
cat >"$E2E_TMP/client.py" <<'PY'
import ftplib, hashlib, socket, sys
src, sha = sys.argv[1], sys.argv[2]
sessions = {}
for name, host in (("N", sys.argv[3]), ("R", sys.argv[4])):
    f = ftplib.FTP(timeout=8, source_address=(src, 0))
    f.connect(host, 21)
    f.login()
    f.voidcmd("TYPE I")
    sessions[name] = f  # N stays logged in: its announcements stay outstanding
    try:
        h = hashlib.sha256()
        f.set_pasv(True)
        f.retrbinary("RETR pub/big.bin", h.update)
        print(name, "pasv", "ok" if h.hexdigest() == sha else "FAIL", "sha", flush=True)
    except (OSError, EOFError, ftplib.Error) as e:
        print(name, "pasv", "FAIL", e, flush=True)
    try:
        lsock = socket.create_server((src, 50000))
        lsock.settimeout(8)
        f.sendport(src, 50000)
        f.sendcmd("RETR pub/big.bin")
        conn, peer = lsock.accept()
        lsock.close()
        h = hashlib.sha256()
        with conn:
            conn.settimeout(8)
            while b := conn.recv(65536):
                h.update(b)
        f.voidresp()
        print(name, "port", "ok" if h.hexdigest() == sha else "FAIL", peer[0], flush=True)
    except (OSError, EOFError, ftplib.Error) as e:
        print(name, "port", "FAIL", e, flush=True)
for f in sessions.values():
    f.quit()
PY
in_ns client python3 "$E2E_TMP/client.py" "$NETNS_CLIENT4" "$E2E_BIG_SHA" "$SHIFT_PUBLIC4" \
  "$NETNS_SERVER4" >"$E2E_TMP/client.out" 2>&1 || true
while read -r line; do log "client: $line"; done <"$E2E_TMP/client.out"
# result NAME MODE [SOURCE]: the transfer passed (its data connection came from SOURCE).
# shellcheck disable=SC2317 # called through check
result() {
  grep -qx "$1 $2 ok ${3:-sha}" "$E2E_TMP/client.out"
}
check "N: passive download through DNAT and SNAT" result N pasv
check "N: active data connection from the public address $SHIFT_PUBLIC4" \
  result N port "$SHIFT_PUBLIC4"
check "R: passive download routed on N's passive port (no '425 Security: Bad IP', no SNAT)" \
  result R pasv
check "R: active data connection from the server's own address $NETNS_SERVER4 on N's data port" \
  result R port "$NETNS_SERVER4"
exit "$FAILED"
