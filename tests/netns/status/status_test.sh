#!/bin/bash
# `ftpalg status` against a live gateway (root, network namespaces): client - gw - server with
# the server behind DNAT, so each 227 the server (vsftpd) sends grows by one byte when ftpalgd
# rewrites its address to the public one. While a passive download pauses in the middle,
# `ftpalg status --json` shows the session (logged in, one rewrite, a non-zero server-to-client
# offset, the outstanding announcement with its pinhole and timeout), the text form shows its
# line, `--session FLOW` shows its pasv227 event. Access: a member of control_group is
# answered; a user outside it is refused by the file mode and, with the mode opened up, by the
# daemon's SO_PEERCRED check; a missing socket says the daemon is not running. The socket file
# goes away when ftpalgd stops.
#
# usage: status_test.sh <ftpalgd> <ftpalg>
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd> <ftpalg>}")
FTPALG=$(readlink -f "${2:?usage: $0 <ftpalgd> <ftpalg>}")
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root"
  exit 77
fi
command -v setpriv >/dev/null || { echo "SKIP: no setpriv"; exit 77; }
export E2E_QUEUE=61
export NETNS_PREFIX="ftstat-$$-"
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
# shellcheck source=tests/netns/lib/gw_case.sh
. "$here/../lib/gw_case.sh"

fail() {
  echo "FAIL: $*"
  cat "$E2E_TMP/ftpalgd.log"
  exit 1
}

# The control group: nogroup (gid 65534), so `nobody` with its own group is a member and
# nobody with another group is not, without creating accounts.
E2E_TMP=$(mktemp -d /tmp/ftpalg-status.XXXXXX)
chmod 755 "$E2E_TMP"
netns_install_trap gw_case_cleanup
netns_topology_gw dnat
e2e_gw_setup ftpalgd dnat
e2e_files
e2e_server_start vsftpd
sock=$E2E_TMP/control.sock
cat >"$E2E_TMP/ftpalgd.toml" <<CONF
control_socket = "$sock"
control_group = "nogroup"
CONF
start=$(date +%s.%N)
gw_case_start_daemon "$FTPALGD" --config "$E2E_TMP/ftpalgd.toml" --kernel-mode pinhole \
  --queues "$E2E_QUEUE" --state-dir ""
[[ -S $sock ]] || fail "no control socket $sock"
mode=$(stat -c '%a %G' "$sock")
[[ $mode == "660 nogroup" ]] || fail "socket mode/group: $mode"

netns_spawn client python3 "$here/slow_client.py" --server "$NETNS_PUBLIC4" \
  --ready "$E2E_TMP/ready" --go "$E2E_TMP/go" --sha256 "$E2E_BIG_SHA"
client_pid=$NETNS_LAST_PID
for _ in $(seq 200); do [[ -s $E2E_TMP/ready ]] && break; sleep 0.1; done
[[ -s $E2E_TMP/ready ]] || fail "the download did not start"
port=$(cat "$E2E_TMP/ready")

# 1. The live session with its offsets and outstanding announcement.
"$FTPALG" status --json --socket "$sock" >"$E2E_TMP/status.json" || fail "status --json"
flow=$(python3 "$here/check_status.py" "$E2E_TMP/status.json" "$port" "$NETNS_PUBLIC4") ||
  fail "status JSON: $(cat "$E2E_TMP/status.json")"
echo "session $flow"
"$FTPALG" status --socket "$sock" >"$E2E_TMP/status.txt" || fail "status"
cat "$E2E_TMP/status.txt"
grep -E "^ftp q$E2E_QUEUE $NETNS_CLIENT4:$port -> .* login=logged_in mode=pinhole .* rewrites=1 offset=\+0/\+1 .*\[s2c pinhole .*->$NETNS_PUBLIC4:[0-9]+ nat_to=$NETNS_SERVER4:[0-9]+ expires=" \
  "$E2E_TMP/status.txt" >/dev/null || fail "no session line for port $port"
grep -q "^queue $E2E_QUEUE: packets=" "$E2E_TMP/status.txt" || fail "no queue line"

# 2. Its recent events.
"$FTPALG" status --socket "$sock" --session "$flow" >"$E2E_TMP/session.txt" || fail "--session"
cat "$E2E_TMP/session.txt"
grep -q '"kind":"pasv227".*"verdict":"admit","reason":"rewritten"' "$E2E_TMP/session.txt" ||
  fail "no pasv227 event for $flow"
"$FTPALG" status --socket "$sock" --watch 1 --count 2 --json >"$E2E_TMP/watch.json" ||
  fail "--watch"
[[ $(wc -l <"$E2E_TMP/watch.json") -eq 2 ]] || fail "--watch --count 2: $(wc -l <"$E2E_TMP/watch.json") lines"

# 3. Access: a member of the group; not a member (file mode, then SO_PEERCRED).
setpriv --reuid=65534 --regid=65534 --clear-groups "$FTPALG" status --json --socket "$sock" \
  >/dev/null || fail "a member of control_group was refused"
if setpriv --reuid=65534 --regid=1 --clear-groups "$FTPALG" status --socket "$sock" \
  2>"$E2E_TMP/denied.txt"; then
  fail "a user outside control_group was answered"
fi
grep -q 'permission denied' "$E2E_TMP/denied.txt" || fail "refusal: $(cat "$E2E_TMP/denied.txt")"
chmod 0666 "$sock"
if setpriv --reuid=65534 --regid=1 --clear-groups "$FTPALG" status --socket "$sock" \
  2>"$E2E_TMP/denied2.txt"; then
  fail "SO_PEERCRED did not refuse a user outside control_group"
fi
grep -q 'permission denied' "$E2E_TMP/denied2.txt" || fail "refusal: $(cat "$E2E_TMP/denied2.txt")"
grep -q 'control socket: uid 65534 refused' "$E2E_TMP/ftpalgd.log" || fail "refusal not logged"
if "$FTPALG" status --socket "$E2E_TMP/absent.sock" 2>"$E2E_TMP/absent.txt"; then
  fail "status without a daemon succeeded"
fi
grep -q "ftpalgd not running or control socket at $E2E_TMP/absent.sock absent" \
  "$E2E_TMP/absent.txt" || fail "absent socket: $(cat "$E2E_TMP/absent.txt")"

# 4. The download completes; the socket goes with the daemon.
touch "$E2E_TMP/go"
wait "$client_pid" || fail "the paused download failed"
gw_case_stop_daemon || fail "ftpalgd exit status"
[[ ! -e $sock ]] || fail "control socket left behind"
echo "PASS: status test in $(e2e_elapsed "$start") s"
