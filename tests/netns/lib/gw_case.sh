# shellcheck shell=bash
# One gateway case for the overload and privilege tests: client - gw - server (masquerade),
# vsftpd on the server, table inet e2e and the NFQUEUE rules on the gateway (tests/netns/lib/
# e2e.sh), ftpalgd started by hand in the gateway, and a sha256-checked PASV and PORT download.
# Source after setting E2E_QUEUE and NETNS_PREFIX; do not run.
#   gw_case_setup                   topology, rules, files, vsftpd; sets E2E_TMP
#   gw_case_start_daemon ARGS...    ftpalgd in the gateway (log $E2E_TMP/ftpalgd.log); DAEMON_PID
#   gw_case_stop_daemon             SIGTERM, wait; returns its exit status
#   gw_case_transfer MODE NAME      MODE pasv|port: download pub/big.bin, compare its sha256

GW_CASE_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck source=scripts/lib/netns.sh
. "$GW_CASE_REPO/scripts/lib/netns.sh"
# shellcheck source=tests/netns/lib/e2e.sh
. "$GW_CASE_REPO/tests/netns/lib/e2e.sh"

DAEMON_PID=''

gw_case_cleanup() {
  if [[ -n $DAEMON_PID ]]; then
    kill -CONT "$DAEMON_PID" 2>/dev/null || true
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
  fi
  e2e_server_stop
  [[ -n ${E2E_TMP:-} && -d $E2E_TMP ]] && rm -rf "$E2E_TMP"
  if declare -F gw_case_extra_cleanup >/dev/null; then gw_case_extra_cleanup; fi
}

gw_case_setup() {
  E2E_TMP=$(mktemp -d /tmp/ftpalg-gwcase.XXXXXX)
  chmod 755 "$E2E_TMP"
  netns_install_trap gw_case_cleanup
  netns_topology_gw masq
  e2e_gw_setup ftpalgd masq
  e2e_files
  e2e_server_start vsftpd
}

gw_case_start_daemon() {
  ip netns exec "$(netns_name gw)" "$@" >"$E2E_TMP/ftpalgd.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 100); do
    grep -q 'serving queue' "$E2E_TMP/ftpalgd.log" && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$E2E_TMP/ftpalgd.log" >&2
  e2e_die "ftpalgd did not start"
}

gw_case_stop_daemon() {
  local rc=0
  kill -TERM "$DAEMON_PID"
  wait "$DAEMON_PID" || rc=$?
  DAEMON_PID=''
  return "$rc"
}

gw_case_transfer() {
  local mode=$1 name=$2 got
  local -a opt=(-sS --fail --connect-timeout 5 --max-time 15 -u anonymous:e2e@ftpalg.test)
  if [[ $mode == port ]]; then opt+=(--ftp-port - --disable-eprt); else opt+=(--ftp-pasv --disable-epsv); fi
  rm -f "$E2E_TMP/cli/$name.got"
  netns_exec client timeout 30 curl "${opt[@]}" "ftp://$NETNS_SERVER4/pub/big.bin" \
    -o "$E2E_TMP/cli/$name.got" || return 1
  got=$(sha256sum <"$E2E_TMP/cli/$name.got" | cut -d' ' -f1)
  [[ $got == "$E2E_BIG_SHA" ]]
}
