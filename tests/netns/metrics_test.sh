#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # check() evaluates its single-quoted conditions later
# ftpalgd's metrics endpoint on a live gateway (root, network namespaces).
#
#   client -- gw (masquerade, ftpalgd pinhole mode, metrics on a Unix socket, 127.0.0.1:9477 in
#   the gateway's namespace, and a textfile) -- server (vsftpd), third
#
# Transfers with curl (PASV, EPSV, PORT, EPRT) and an ftplib session that also announces a
# third host (refused: bounce_address). While that session is open the Unix socket is scraped
# (packets > 0, sessions >= 1); after the run the socket and the TCP address are scraped and,
# once ftpalgd stopped, the textfile (written at stop) is read. Each scrape is parsed with the
# Prometheus client library's parser (tests/netns/metrics_scrape.py) and checked with
# `promtool check metrics`; the final one must match the events file: every
# ftpalg_events_total series equals the count of its kind, verdict and reason, and the verdict
# latency histogram counts one verdict per packet.
#
# usage: metrics_test.sh <ftpalgd>
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd>}")
repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
T=30

log() { printf '%s\n' "$*"; }
if [[ $(id -u) -ne 0 ]]; then
  log "SKIP: needs root"
  exit 77
fi
for tool in vsftpd curl python3; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || {
    log "SKIP: $tool missing (scripts/install-deps.sh netns)"
    exit 77
  }
done
# The parser is Debian's package: Debian's python3 (another python3 may come first in PATH).
PYPROM=''
for py in /usr/bin/python3 python3; do
  if "$py" -c 'import prometheus_client' 2>/dev/null; then
    PYPROM=$py
    break
  fi
done
[[ -n $PYPROM ]] || {
  log "SKIP: python3-prometheus-client missing (scripts/install-deps.sh netns)"
  exit 77
}
PROMTOOL=$(command -v promtool || true)

export NETNS_PREFIX="ftmet-$$-"
# shellcheck source=scripts/lib/netns.sh
. "$repo/scripts/lib/netns.sh"
# shellcheck source=tests/netns/lib/e2e.sh
. "$repo/tests/netns/lib/e2e.sh"
E2E_TMP=$(mktemp -d /tmp/ftpalg-metrics.XXXXXX)
E2E_QUEUE=61
# shellcheck disable=SC2317 # run by the exit trap
on_exit() {
  [[ -n ${KEEP_TMP:-} ]] || rm -rf "$E2E_TMP"
}
netns_install_trap on_exit

in_ns() { local role=$1; shift; timeout "$T" ip netns exec "$(netns_name "$role")" "$@"; }

netns_topology_gw masq
e2e_gw_setup ftpalgd masq
e2e_files
e2e_server_start vsftpd

SOCK=$E2E_TMP/metrics.sock
PROM_DIR=$E2E_TMP/textfile
mkdir -p "$PROM_DIR"
chmod 1777 "$PROM_DIR"  # written as the daemon's user after setup
PROM=$PROM_DIR/ftpalg.prom
EVENTS=$E2E_TMP/events.jsonl
netns_spawn gw "$FTPALGD" --queues "$E2E_QUEUE" --kernel-mode pinhole --mark "$E2E_CT_MARK" \
  --events "$EVENTS" --metrics-socket "$SOCK" --metrics-listen 127.0.0.1:9477 \
  --metrics-textfile "$PROM" 2>"$E2E_TMP/ftpalgd.log"
DAEMON=$NETNS_LAST_PID
for _ in $(seq 50); do
  [[ -S $SOCK ]] && in_ns gw nft list table inet "ftpalg_q$E2E_QUEUE" >/dev/null 2>&1 && break
  sleep 0.1
done
[[ -S $SOCK ]] || { cat "$E2E_TMP/ftpalgd.log"; log "FAIL - no metrics socket"; exit 1; }

FAILED=0
check() { if eval "$2"; then log "ok   - $1"; else log "FAIL - $1"; FAILED=1; fi; }

# scrape_unix FILE / scrape_tcp FILE: one scrape into FILE (the body; curl fails on non-200).
scrape_unix() { timeout 10 curl -sS --fail --unix-socket "$SOCK" http://localhost/metrics -o "$1"; }
scrape_tcp() { in_ns gw curl -sS --fail http://127.0.0.1:9477/metrics -o "$1"; }
# lint FILE: promtool's check (names, types, HELP), where promtool is installed.
lint() {
  [[ -n $PROMTOOL ]] || return 0
  "$PROMTOOL" check metrics <"$1"
}

URL=ftp://$NETNS_SERVER4/pub/big.bin
fetch() { in_ns client curl -sS --max-time 20 "$@" "$URL" | sha256sum | cut -d' ' -f1; }
t0=$(e2e_now)
check "curl PASV" '[[ $(fetch --disable-epsv) == "$E2E_BIG_SHA" ]]'
check "curl EPSV" '[[ $(fetch) == "$E2E_BIG_SHA" ]]'
check "curl PORT" '[[ $(fetch -P "$NETNS_CLIENT4" --disable-eprt) == "$E2E_BIG_SHA" ]]'
check "curl EPRT" '[[ $(fetch -P "$NETNS_CLIENT4") == "$E2E_BIG_SHA" ]]'

# An ftplib session: a download, a PORT naming the third host, then it waits (open) until the
# file "go" exists.
cat >"$E2E_TMP/session.py" <<'PY'
import ftplib, hashlib, os, sys, time
server, third, go = sys.argv[1], sys.argv[2], sys.argv[3]
f = ftplib.FTP(timeout=20)
f.connect(server, 21)
f.login()
h = hashlib.sha256()
f.retrbinary("RETR pub/big.bin", h.update)
print(h.hexdigest(), flush=True)
try:
    f.sendcmd("PORT %s,%d,%d" % (third.replace(".", ","), 45000 >> 8, 45000 & 255))
except ftplib.Error:
    pass
print("open", flush=True)
for _ in range(200):
    if os.path.exists(go):
        break
    time.sleep(0.1)
f.quit()
PY
in_ns client python3 "$E2E_TMP/session.py" "$NETNS_SERVER4" "$NETNS_THIRD4" "$E2E_TMP/go" \
  >"$E2E_TMP/session.out" 2>"$E2E_TMP/session.err" &
SESSION=$!
for _ in $(seq 100); do grep -q open "$E2E_TMP/session.out" 2>/dev/null && break; sleep 0.1; done
check "ftplib download" '[[ $(head -n1 "$E2E_TMP/session.out") == "$E2E_BIG_SHA" ]]'

# During the run: the session is open.
check "scrape during the run (unix socket)" 'scrape_unix "$E2E_TMP/live.prom"'
read -r live_packets live_sessions < <("$PYPROM" "$repo/tests/netns/metrics_scrape.py" live "$E2E_TMP/live.prom" || echo "0 0")
log "during the run: $live_packets packets, $live_sessions sessions"
check "packets counted during the run" '((live_packets > 0))'
check "the open session is alive in the metrics" '((live_sessions >= 1))'
check "promtool accepts the live scrape" 'lint "$E2E_TMP/live.prom"'
touch "$E2E_TMP/go"
wait "$SESSION" || true
log "transfers took $(e2e_elapsed "$t0") s"

# After the run, before the stop: both endpoints answer; the scrape matches the events once the
# session's end (withdraw events) has been written.
check "scrape after the run (tcp 127.0.0.1:9477 in the gateway)" 'scrape_tcp "$E2E_TMP/tcp.prom"'
check "promtool accepts the tcp scrape" 'lint "$E2E_TMP/tcp.prom"'
matched=0
for _ in $(seq 30); do
  scrape_unix "$E2E_TMP/after.prom" || true
  if "$PYPROM" "$repo/tests/netns/metrics_scrape.py" final "$E2E_TMP/after.prom" "$EVENTS" >/dev/null 2>&1; then
    matched=1
    break
  fi
  sleep 0.2
done
check "a scrape after the run matches the events file" '((matched))'
check "a bad request is refused" '[[ $(timeout 10 curl -s -o /dev/null -w "%{http_code}" --unix-socket "$SOCK" http://localhost/nothing) == 404 ]]'

kill -TERM "$DAEMON"
for _ in $(seq 100); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.1; done
check "ftpalgd stopped" '! kill -0 "$DAEMON" 2>/dev/null'
check "the socket file is removed at stop" '[[ ! -e $SOCK ]]'
log "textfile written at stop, against the events file:"
check "the textfile matches the events file" '"$PYPROM" "$repo/tests/netns/metrics_scrape.py" final "$PROM" "$EVENTS"'
check "promtool accepts the textfile" 'lint "$PROM"'
refused=$(grep -c '"reason":"bounce_address"' "$EVENTS" || true)
admitted=$(grep -c '"verdict":"admit"' "$EVENTS" || true)
log "events: $admitted admitted, $refused refused bounce_address; promtool: ${PROMTOOL:-not installed}"
check "the run had admits and a refusal to count" '((admitted >= 5 && refused >= 1))'
if ((FAILED)); then tail -n 30 "$E2E_TMP/ftpalgd.log"; fi
exit $FAILED
