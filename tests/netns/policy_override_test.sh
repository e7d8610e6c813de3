#!/bin/bash
# Per-network policy overrides through ftpalgd (root, network namespaces): FXP between two
# server networks. The client tells the server (vsftpd, port_promiscuous=YES) with PORT to send
# pub/big.bin to a listener on the third host (198.19.2.3): a bounce for the default policy.
#
#   client -- gw (ftpalgd pinhole mode; table inet e2e, forward policy drop) -- server, third
#
# Cases (one per run):
#   bounce    no override: the PORT is refused (bounce_address), the third host gets nothing.
#   override  [[policy.override]] networks = ["198.19.0.0/16"] (the server's and the third
#             host's), allow_bounce = true: admitted, the third host receives the file intact
#             (SHA-256), a PORT naming a host outside the networks is still refused.
#
# usage: policy_override_test.sh <ftpalgd> bounce|override
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd> CASE}")
CASE=${2:?usage: $0 <ftpalgd> CASE}
repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
T=30
DATA_PORT=47001

export NETNS_PREFIX="ftpo-$CASE-$$-"
GW_TEST_TAG=policy_override
# shellcheck disable=SC2034 # read by tests/netns/lib/e2e.sh
E2E_QUEUE=62
# shellcheck disable=SC2034 # read by tests/netns/lib/e2e.sh
E2E_CT_MARK=0xf7a1
# shellcheck source=tests/netns/lib/gw_test.sh
. "$repo/tests/netns/lib/gw_test.sh"
gw_test_require_root
gw_test_require_vsftpd
[[ $CASE == bounce || $CASE == override ]] || {
  log "usage: $0 <ftpalgd> bounce|override"
  exit 2
}
gw_test_tmp override

netns_topology_gw nonat
e2e_gw_setup ftpalgd nonat
e2e_files
# port_promiscuous: vsftpd itself would refuse a PORT naming another host than the client.
{
  e2e_vsftpd_conf
  echo port_promiscuous=YES
  echo connect_timeout=3 # a refused PORT: the 425 comes after 3 s
} >"$E2E_TMP/vsftpd.conf"
gw_test_vsftpd "$E2E_TMP/vsftpd.conf"

: >"$E2E_TMP/ftpalgd.toml"
if [[ $CASE == override ]]; then
  cat >"$E2E_TMP/ftpalgd.toml" <<TOML
[[policy.override]]
networks = ["$NETNS_SERVER_SIDE4"]
allow_bounce = true
TOML
fi
gw_test_daemon "$E2E_QUEUE" "$E2E_TMP/ftpalgd.log" --config "$E2E_TMP/ftpalgd.toml" \
  --queues "$E2E_QUEUE" --kernel-mode pinhole --mark "$E2E_CT_MARK" \
  --events "$E2E_TMP/events.jsonl"

# The second server: one connection on DATA_PORT, prints the SHA-256 of what it received.
cat >"$E2E_TMP/sink.py" <<'PY'
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
s.settimeout(12)
try:
    c, _ = s.accept()
except OSError:
    print("nothing")
    sys.exit(0)
h = hashlib.sha256()
while True:
    b = c.recv(65536)
    if not b:
        break
    h.update(b)
print("sha256", h.hexdigest())
PY
in_ns third python3 "$E2E_TMP/sink.py" "$NETNS_THIRD4" "$DATA_PORT" >"$E2E_TMP/sink.out" &
SINK=$!
for _ in $(seq 50); do
  in_ns third ss -Hltn "sport = :$DATA_PORT" | grep -q LISTEN && break
  sleep 0.1
done
cat >"$E2E_TMP/client.py" <<'PY'
import ftplib, sys
host, third, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
f = ftplib.FTP(timeout=15)
f.connect(host, 21)
f.login()
def port_line(addr, p):
    return "PORT %s,%d,%d" % (addr.replace(".", ","), p >> 8, p & 255)
try:
    print("PORT", f.sendcmd(port_line(third, port)))
    f.voidcmd("TYPE I")
    print("RETR", f.sendcmd("RETR pub/big.bin"))  # 150, then 226 once sent
    print("RETR", f.voidresp())
except ftplib.Error as e:
    print("error", str(e)[:60])
try:
    print("outside", f.sendcmd(port_line("198.18.1.99", port)))  # not in the networks
except ftplib.Error as e:
    print("outside error", str(e)[:60])
f.quit()
PY
out=$(in_ns client python3 "$E2E_TMP/client.py" "$NETNS_SERVER4" "$NETNS_THIRD4" "$DATA_PORT" \
  2>&1) || true
for _ in $(seq 30); do # the file is complete at 226; the sink prints at end of stream
  kill -0 "$SINK" 2>/dev/null || break
  sleep 0.1
done
kill "$SINK" 2>/dev/null || true
wait "$SINK" 2>/dev/null || true
sink=$(cat "$E2E_TMP/sink.out")
log "client: $out"
log "third host: $sink"
kill -TERM "$GW_PID" 2>/dev/null || true
wait "$GW_PID" 2>/dev/null || true
events=$(cat "$E2E_TMP/events.jsonl" 2>/dev/null || true)
refused() { grep -q "\"announced\":\"$1:[0-9]*\".*\"verdict\":\"refuse\".*\"reason\":\"bounce_address\"" <<<"$events"; }

if [[ $CASE == bounce ]]; then
  nothing() { ! grep -q sha256 <<<"$sink"; }
  check "the third host received nothing" nothing
  check "event: the PORT to the other server refused, bounce_address" refused "$NETNS_THIRD4"
else
  check "the other server received the file intact (sha256)" grep -qx "sha256 $E2E_BIG_SHA" <<<"$sink"
  check "event: the PORT to the other server admitted" \
    grep -q "\"kind\":\"port\",\"announced\":\"$NETNS_THIRD4:$DATA_PORT\".*\"verdict\":\"admit\"" \
    <<<"$events"
  check "a PORT naming a host outside the networks is still refused" refused 198.18.1.99
fi
if ((FAILED)); then
  log "events: $events"
  tail -n 20 "$E2E_TMP/ftpalgd.log"
  exit 1
fi
log "PASS"
