# shellcheck shell=bash
# The frame of a netns test that runs ftpalgd in the gateway of netns_topology_gw (scripts/lib/
# netns.sh) with vsftpd on the server. Sources scripts/lib/netns.sh and tests/netns/lib/e2e.sh;
# source after setting NETNS_PREFIX (and E2E_QUEUE / E2E_CT_MARK where e2e.sh's gateway rules
# are used) and GW_TEST_TAG (the name on log lines); do not run.
#   log MSG / ok MSG / fail MSG       "[TAG hh:mm:ss] MSG" lines; fail sets FAILED=1
#   check NAME CMD...                 ok NAME when CMD succeeds, else fail NAME
#   gw_test_require_root              exit 77 (skip) unless root
#   gw_test_require_vsftpd            exit 77 (skip) unless vsftpd is installed
#   gw_test_tmp NAME [FUNC]           E2E_TMP=/tmp/ftpalg-NAME.XXXXXX (mode 755) and the exit
#                                     trap: FUNC, then E2E_TMP goes (KEEP_TMP=1 keeps it), then
#                                     the namespaces
#   in_ns ROLE CMD...                 CMD in ROLE's namespace, at most $T seconds (default 20)
#   gw_test_vsftpd CONF               vsftpd with CONF on the server until it listens on port 21
#                                     (SERVER_PID); exit 1 when it does not within 5 s
#   gw_test_daemon QUEUE LOG ARGS...  ftpalgd ARGS in the gateway, stderr to LOG (GW_PID), until
#                                     its table inet ftpalg_qQUEUE exists (gw_test_wait_table)
#   gw_test_wait_table QUEUE LOG      until table inet ftpalg_qQUEUE exists; else LOG, exit 1
#   gw_test_wait_serving LOG PID [N]  until LOG has more than N "serving queue" lines; dies
#                                     (LOG's tail) when PID ends first or after 10 s
#   gw_test_serve                     e2e_files, then vsftpd (e2e.sh's configuration, its log
#                                     $E2E_TMP/vsftpd.log); sets BIG_SIZE
#   gw_test_step FILE STEP [N]        "true"/"false": whether the Nth (default: the last) row of
#                                     STEP in FILE (restart_client.py's JSON lines) passed;
#                                     "none" when there is no such row
#   gw_test_shift_topology MARK [dnat-only]
#                                     netns_topology_gw dnat where every 227 and PORT grows by
#                                     4 bytes: the client dials $SHIFT_PUBLIC4 (DNAT to the
#                                     server) and leaves SNATed as $SHIFT_SNAT4 (dnat-only: only
#                                     connections DNATed, `ct status dnat`); table inet fw
#                                     (chains forward, pre, post; counter invalid) admits
#                                     established traffic, new port 21 and ct mark MARK
# Needs $FTPALGD for gw_test_daemon.

GW_TEST_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck source=scripts/lib/netns.sh
. "$GW_TEST_REPO/scripts/lib/netns.sh"
# shellcheck source=tests/netns/lib/e2e.sh
. "$GW_TEST_REPO/tests/netns/lib/e2e.sh"

GW_TEST_TAG=${GW_TEST_TAG:-gw}
FAILED=0
SHIFT_PUBLIC4=198.18.100.100
SHIFT_SNAT4=198.19.100.100

log() { printf '[%s %s] %s\n' "$GW_TEST_TAG" "$(date +%T)" "$*"; }
ok() { log "ok   - $*"; }
fail() {
  log "FAIL - $*"
  # shellcheck disable=SC2034 # read by the scripts that source this file
  FAILED=1
}
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else fail "$name"; fi
}

gw_test_require_root() {
  if [[ $(id -u) -ne 0 ]]; then
    log "SKIP: needs root"
    exit 77
  fi
}

gw_test_require_vsftpd() {
  if ! command -v vsftpd >/dev/null && [[ ! -x /usr/sbin/vsftpd ]]; then
    log "SKIP: vsftpd missing (scripts/install-deps.sh e2e)"
    exit 77
  fi
}

# shellcheck disable=SC2317 # run by the exit trap
_gw_test_on_exit() {
  if [[ -n ${GW_TEST_CLEANUP:-} ]]; then "$GW_TEST_CLEANUP" || true; fi
  if [[ -n ${KEEP_TMP:-} ]]; then log "kept $E2E_TMP"; else rm -rf "$E2E_TMP"; fi
}

gw_test_tmp() {
  E2E_TMP=$(mktemp -d "/tmp/ftpalg-$1.XXXXXX")
  chmod 755 "$E2E_TMP"
  GW_TEST_CLEANUP=${2:-}
  netns_install_trap _gw_test_on_exit
}

in_ns() {
  local role=$1
  shift
  timeout "${T:-20}" ip netns exec "$(netns_name "$role")" "$@"
}

gw_test_vsftpd() {
  netns_spawn server "$(command -v vsftpd || echo /usr/sbin/vsftpd)" "$1"
  # shellcheck disable=SC2034 # read by the scripts that source this file
  SERVER_PID=$NETNS_LAST_PID
  for _ in $(seq 50); do
    in_ns server ss -Hltn 'sport = :21' | grep -q LISTEN && return 0
    sleep 0.1
  done
  log "FAIL - vsftpd does not listen"
  exit 1
}

gw_test_wait_table() {
  for _ in $(seq 50); do
    in_ns gw nft list table inet "ftpalg_q$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  in_ns gw nft list table inet "ftpalg_q$1" >/dev/null 2>&1 && return 0
  cat "$2" >&2 || true
  exit 1
}

gw_test_daemon() {
  local queue=$1 daemon_log=$2
  shift 2
  netns_spawn gw "$FTPALGD" "$@" 2>"$daemon_log"
  # shellcheck disable=SC2034 # read by the scripts that source this file
  GW_PID=$NETNS_LAST_PID
  gw_test_wait_table "$queue" "$daemon_log"
}

gw_test_wait_serving() {
  local daemon_log=$1 pid=$2 before=${3:-0}
  for _ in $(seq 200); do
    [[ $(grep -c 'serving queue' "$daemon_log" 2>/dev/null || true) -gt $before ]] && return 0
    kill -0 "$pid" 2>/dev/null || e2e_die "ftpalgd exited: $(tail -n 20 "$daemon_log")"
    sleep 0.05
  done
  e2e_die "ftpalgd did not start: $(tail -n 20 "$daemon_log")"
}

gw_test_serve() {
  e2e_files
  # shellcheck disable=SC2034 # read by the scripts that source this file
  BIG_SIZE=$(stat -c %s "$E2E_TMP/srv/pub/big.bin")
  touch "$E2E_TMP/vsftpd.log"
  e2e_server_start vsftpd
}

gw_test_step() {
  python3 - "$1" "$2" "${3:-0}" <<'PY'
import json, sys
rows = []
try:
    rows = [json.loads(l) for l in open(sys.argv[1])]
except OSError:
    pass
hits = [r for r in rows if r["step"] == sys.argv[2]]
n = int(sys.argv[3])
if not hits or (n and len(hits) < n):
    print("none")
else:
    print("true" if hits[n - 1 if n else -1]["ok"] else "false")
PY
}

gw_test_shift_topology() {
  local only=
  [[ ${2:-} == dnat-only ]] && only="ct status dnat "
  netns_topology_gw dnat
  in_ns client ip route add "$SHIFT_PUBLIC4/32" via "$NETNS_GW_CLI4"
  in_ns server ip route add "$SHIFT_SNAT4/32" via "$NETNS_GW_SRV4"
  in_ns gw nft -f - <<NFT
table inet fw {
  counter invalid { }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state invalid counter name invalid drop
    ct state established,related accept
    ct mark $1 accept
    ct state new tcp dport 21 accept
  }
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $SHIFT_PUBLIC4 tcp dport 21 dnat ip to $NETNS_SERVER4
  }
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "srv0" ip saddr $NETNS_CLIENT4 ${only}snat ip to $SHIFT_SNAT4
  }
}
NFT
}
