#!/bin/bash
# A real server announcing another address than its own in 227, through ftpalgd (root,
# network namespaces). vsftpd's pasv_address= makes it name 198.19.2.99 (a host that does not
# exist, on the third link), as a server behind a second NAT or in a container names its
# private address. The client (ftplib, told to trust the 227's address as older clients do)
# downloads pub/big.bin in passive mode (PASV).
#
#   client -- gw (ftpalgd pinhole mode; table inet e2e, forward policy drop) -- server (vsftpd)
#
# Cases (one per run):
#   refuse        default policy: the 227 is refused with reason pasv_address_mismatch (event,
#                 counter), forwarded unchanged; the client cannot open its data connection.
#   rewrite       pasv_address_mismatch = "rewrite_to_peer": the client gets the server's own
#                 address in the 227 and the download passes its SHA-256 check.
#   rewrite_dnat  the same with the server behind DNAT: the client gets the public address it
#                 dialled, the pinhole leads to the server's private one.
#
# In refuse and rewrite, ftpalgd runs as under systemd: a real systemd-journald of the test's
# own (a private mount namespace with its own /run, journal files in $E2E_TMP/journal), stderr
# a journal stream named by $JOURNAL_STREAM (log_target "auto"). The checks then read the event
# as a journal entry: journalctl FTPALG_VERDICT=refuse / admit -o json, its FTPALG_* fields and
# MESSAGE_ID. rewrite_dnat runs without a journal (log lines on stderr).
#
# usage: pasv_mismatch_test.sh <ftpalgd> refuse|rewrite|rewrite_dnat
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd> CASE}")
CASE=${2:?usage: $0 <ftpalgd> CASE}
repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
T=30
WRONG=198.19.2.99

export NETNS_PREFIX="ftpm-$CASE-$$-"
GW_TEST_TAG=pasv_mismatch
# shellcheck disable=SC2034 # read by tests/netns/lib/e2e.sh
E2E_QUEUE=61
# shellcheck disable=SC2034 # read by tests/netns/lib/e2e.sh
E2E_CT_MARK=0xf7a1
# shellcheck source=tests/netns/lib/gw_test.sh
. "$repo/tests/netns/lib/gw_test.sh"
gw_test_require_root
gw_test_require_vsftpd
case $CASE in
  refuse | rewrite) NAT=nonat ;;
  rewrite_dnat) NAT=dnat ;;
  *)
    log "usage: $0 <ftpalgd> refuse|rewrite|rewrite_dnat"
    exit 2
    ;;
esac
gw_test_tmp pasvmm

netns_topology_gw "$NAT"
e2e_gw_setup ftpalgd "$NAT"
e2e_files
# IPv4 listener: on an IPv6 socket vsftpd cannot apply pasv_address (it announces 0.0.0.0).
e2e_vsftpd_conf | sed 's/^listen=NO$/listen=YES/; s/^listen_ipv6=YES$/listen_ipv6=NO/' \
  >"$E2E_TMP/vsftpd.conf"
printf 'pasv_address=%s\npasv_addr_resolve=NO\n' "$WRONG" >>"$E2E_TMP/vsftpd.conf"
gw_test_vsftpd "$E2E_TMP/vsftpd.conf"

: >"$E2E_TMP/ftpalgd.toml"
[[ $CASE == rewrite* ]] && echo 'pasv_address_mismatch = "rewrite_to_peer"' >"$E2E_TMP/ftpalgd.toml"
args=(--config "$E2E_TMP/ftpalgd.toml" --queues "$E2E_QUEUE" --kernel-mode pinhole
  --mark "$E2E_CT_MARK" --events "$E2E_TMP/events.jsonl")
JOURNAL=''
[[ $CASE != rewrite_dnat ]] && command -v systemd-cat >/dev/null &&
  [[ -x /lib/systemd/systemd-journald ]] && JOURNAL=$E2E_TMP/journal
if [[ -n $JOURNAL ]]; then
  mkdir -p "$JOURNAL"
  # The gateway's ftpalgd as systemd starts it, with a journald of its own: a private /run
  # (sockets), journal files bound to $JOURNAL so journalctl -D reads them from outside.
  cat >"$E2E_TMP/gw-journal.sh" <<'SH'
set -u
journal=$1
shift
mount -t tmpfs tmpfs /run
mkdir -p /run/log/journal /run/systemd/journal
# ip netns exec mounts a fresh /sys without cgroups; journald needs them.
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount --bind "$journal" /run/log/journal
/lib/systemd/systemd-journald &
jd=$!
for _ in $(seq 50); do # the socket file exists before journald listens on it
  systemd-cat -t probe true 2>/dev/null && break
  sleep 0.1
done
# StandardError=journal: stderr is a journal stream and $JOURNAL_STREAM names it.
systemd-cat -t ftpalgd bash -c 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"' \
  _ "$@" &
fp=$!
trap 'kill -TERM $fp; wait $fp; sleep 0.3; kill $jd; wait $jd; exit 0' TERM
wait $fp
SH
  netns_spawn gw unshare -m --propagation private bash "$E2E_TMP/gw-journal.sh" "$JOURNAL" \
    "$FTPALGD" "${args[@]}"
  GW_PID=$NETNS_LAST_PID
  gw_test_wait_table "$E2E_QUEUE" "$E2E_TMP/ftpalgd.log"
else
  gw_test_daemon "$E2E_QUEUE" "$E2E_TMP/ftpalgd.log" "${args[@]}"
fi

HOST=$(e2e_server_addr "$NAT" 4)
cat >"$E2E_TMP/client.py" <<'PY'
import ftplib, hashlib, sys
f = ftplib.FTP(timeout=6)
f.connect(sys.argv[1], 21)
f.login()
f.trust_server_pasv_ipv4_address = True  # use the 227's address, as many clients do
sent = f.sendcmd
replies = []
def record(cmd):
    r = sent(cmd)
    replies.append(r)
    return r
f.sendcmd = record
h = hashlib.sha256()
try:
    f.retrbinary("RETR pub/big.bin", h.update)
    print("sha256", h.hexdigest())
except Exception as e:  # the data connection cannot be opened
    print("failed", type(e).__name__)
for r in replies:
    if r.startswith("227"):
        print("reply", r)
try:
    f.quit()
except Exception:
    pass
PY
t0=$(date +%s.%N)
out=$(in_ns client python3 "$E2E_TMP/client.py" "$HOST" 2>&1) || true
log "client: $out (took $(e2e_elapsed "$t0") s)"
sleep 0.3 # the journal entries leave through the journal sink's writer thread
if [[ -n $JOURNAL ]]; then
  jctl() { timeout 10 journalctl -D "$JOURNAL" --no-pager "$@" 2>/dev/null; }
  jctl FTPALG_VERDICT=refuse -o json >"$E2E_TMP/refuse.json" || true
  jctl FTPALG_VERDICT=admit -o json >"$E2E_TMP/admit.json" || true
fi
kill -TERM "$GW_PID" 2>/dev/null || true
wait "$GW_PID" 2>/dev/null || true
if [[ -n $JOURNAL ]]; then jctl -o cat >"$E2E_TMP/ftpalgd.log" || true; fi
events=$(cat "$E2E_TMP/events.jsonl" 2>/dev/null || true)
counters=$(grep -o 'counters: .*' "$E2E_TMP/ftpalgd.log" || true)

# entries FILE FIELD=VALUE...: ok when an entry of FILE (journalctl -o json, one object a line)
# has every FIELD with a value starting with VALUE.
entries() {
  local out kv
  out=$(cat "$1")
  shift
  for kv in "$@"; do
    out=$(grep -F "\"${kv%%=*}\":\"${kv#*=}" <<<"$out") || return 1
  done
}

# An address as a 227 writes it: "198,19,2,99".
wire() { printf '%s' "${1//./,}"; }
if [[ $CASE == refuse ]]; then
  check "the client got the 227 unchanged (naming $WRONG)" \
    grep -q "reply 227 .*($(wire "$WRONG")," <<<"$out"
  check "the client could not open its data connection" grep -q '^failed' <<<"$out"
  check "event: pasv227 refused, reason pasv_address_mismatch" \
    grep -q '"kind":"pasv227".*"verdict":"refuse".*"reason":"pasv_address_mismatch"' <<<"$events"
  check "counter pasv_address_mismatch=1" grep -q 'pasv_address_mismatch=1' <<<"$counters"
  if [[ -n $JOURNAL ]]; then
    check "journalctl FTPALG_VERDICT=refuse: the entry with its fields and MESSAGE_ID" \
      entries "$E2E_TMP/refuse.json" FTPALG_VERDICT=refuse FTPALG_REASON=pasv_address_mismatch \
      MESSAGE_ID=be36de0065e840d0a9d90e39b45e5e45 PRIORITY=4 FTPALG_KIND=pasv227 \
      "FTPALG_ANNOUNCED=$WRONG:" "FTPALG_CLIENT=$NETNS_CLIENT4:" "FTPALG_SERVER=$HOST:21" \
      "FTPALG_FLOW=$NETNS_CLIENT4:" "FTPALG_QUEUE=$E2E_QUEUE" FTPALG_DIR=s2c \
      "MESSAGE=ftpalgd: warning: queue $E2E_QUEUE: refuse pasv227 $WRONG:"
    check "journalctl FTPALG_VERDICT=refuse selects refusals only" \
      sh -c "! grep -q '\"FTPALG_VERDICT\":\"admit' '$E2E_TMP/refuse.json'"
  fi
else
  check "the client got the 227 naming $HOST" grep -q "reply 227 .*($(wire "$HOST")," <<<"$out"
  check "download through the rewritten 227, sha256 equal" grep -qx "sha256 $E2E_BIG_SHA" <<<"$out"
  check "event: pasv227 admitted, reason rewritten_to_peer" \
    grep -q '"kind":"pasv227".*"verdict":"admit".*"reason":"rewritten_to_peer"' <<<"$events"
  check "counter pasv_address_mismatch=1" grep -q 'pasv_address_mismatch=1' <<<"$counters"
  if [[ -n $JOURNAL ]]; then
    check "journalctl FTPALG_VERDICT=admit: the rewrite entry with its fields and MESSAGE_ID" \
      entries "$E2E_TMP/admit.json" FTPALG_VERDICT=admit FTPALG_REASON=rewritten_to_peer \
      MESSAGE_ID=79a5ca18305f4ee8922ea116815b814c PRIORITY=6 FTPALG_KIND=pasv227 \
      "FTPALG_ANNOUNCED=$WRONG:" "FTPALG_REWRITTEN=$HOST:" "FTPALG_EXPECT_DST=$HOST:" \
      "FTPALG_QUEUE=$E2E_QUEUE"
  fi
fi
if [[ -n $JOURNAL ]]; then
  # journalctl -o cat: every message, the entry's and the stderr stream's lines alike.
  once() { [[ $(grep -c ": queue $E2E_QUEUE: [a-z]* pasv227 " "$E2E_TMP/ftpalgd.log") -eq 1 ]]; }
  check "journal: the event is one entry, not also a stderr line" once
fi
if ((FAILED)); then
  log "events: $events"
  tail -n 20 "$E2E_TMP/ftpalgd.log"
  exit 1
fi
log "PASS"
