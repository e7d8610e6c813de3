#!/bin/bash
# Privileges after setup (root, network namespaces): ftpalgd started by hand as root with
# `--user ftpalgtest` (a system user created here if absent and removed afterwards) binds its
# queue and installs its table, then runs as that user: /proc/<pid>/status of every thread
# shows a non-zero Uid/Gid, CapEff and CapPrm at most CAP_NET_ADMIN (the main thread exactly),
# CapBnd = CAP_NET_ADMIN, NoNewPrivs 1, Seccomp 2, while a PASV and a PORT download pass
# (sha256-checked). The events file is created 0640 and owned by the user; SIGTERM still
# removes the table (netlink with CAP_NET_ADMIN) and exits 0.
#
# usage: privileges_test.sh <ftpalgd>
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd>}")
TEST_USER=ftpalgtest
CAP_NET_ADMIN_ONLY=0000000000001000
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root"
  exit 77
fi
export E2E_QUEUE=43
export NETNS_PREFIX="ftpriv-$$-"
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
# shellcheck source=tests/netns/lib/gw_case.sh
. "$here/lib/gw_case.sh"

created_user=''
gw_case_extra_cleanup() {
  if [[ -n $created_user ]]; then userdel "$TEST_USER" 2>/dev/null || true; fi
}
fail() {
  echo "FAIL: $*"
  cat "$E2E_TMP/ftpalgd.log"
  exit 1
}

gw_case_setup
if ! id "$TEST_USER" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    --user-group "$TEST_USER"
  created_user=1
fi
uid=$(id -u "$TEST_USER")
gid=$(id -g "$TEST_USER")
events=$E2E_TMP/events.jsonl

gw_case_start_daemon "$FTPALGD" --kernel-mode pinhole --queues "$E2E_QUEUE" \
  --user "$TEST_USER" --events "$events"
grep 'privileges:' "$E2E_TMP/ftpalgd.log"

# field NAME FILE: the value of NAME in a /proc status file, blanks squeezed to one space.
field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$2"; }
check_task() {
  local st=$1 main=$2 eff
  [[ $(field Uid "$st") == "$uid $uid $uid $uid" ]] || fail "$st: Uid $(field Uid "$st")"
  [[ $(field Gid "$st") == "$gid $gid $gid $gid" ]] || fail "$st: Gid $(field Gid "$st")"
  ((uid != 0 && gid != 0)) || fail "uid/gid 0"
  [[ -z $(field Groups "$st") ]] || fail "$st: supplementary groups $(field Groups "$st")"
  eff=$(field CapEff "$st")
  if [[ $main == 1 ]]; then
    [[ $eff == "$CAP_NET_ADMIN_ONLY" ]] || fail "$st: CapEff $eff"
  else
    # A thread started before the drop (the events writer) lost every capability with the uid.
    [[ $eff == "$CAP_NET_ADMIN_ONLY" || $eff == 0000000000000000 ]] || fail "$st: CapEff $eff"
  fi
  [[ $(field CapPrm "$st") == "$eff" ]] || fail "$st: CapPrm $(field CapPrm "$st")"
  [[ $(field CapInh "$st") == 0000000000000000 ]] || fail "$st: CapInh"
  [[ $(field CapAmb "$st") == 0000000000000000 ]] || fail "$st: CapAmb"
  [[ $(field NoNewPrivs "$st") == 1 ]] || fail "$st: NoNewPrivs $(field NoNewPrivs "$st")"
  [[ $(field Seccomp "$st") == 2 ]] || fail "$st: Seccomp $(field Seccomp "$st")"
}
check_all() {
  local t n=0
  check_task "/proc/$DAEMON_PID/status" 1
  [[ $(field CapBnd "/proc/$DAEMON_PID/status") == "$CAP_NET_ADMIN_ONLY" ]] || fail "CapBnd"
  for t in /proc/"$DAEMON_PID"/task/*; do
    check_task "$t/status" 0
    n=$((n + 1))
  done
  echo "checked $n threads of ftpalgd: uid $uid gid $gid, CapEff <= $CAP_NET_ADMIN_ONLY, NoNewPrivs 1, Seccomp 2"
}

check_all
gw_case_transfer pasv pasv || fail "PASV download"
gw_case_transfer port port || fail "PORT download"
check_all

[[ $(stat -c %a "$events") == 640 ]] || fail "events file mode $(stat -c %a "$events")"
[[ $(stat -c %u "$events") == "$uid" ]] || fail "events file owner $(stat -c %u "$events")"
grep -q '"kind":"admit"' "$events" 2>/dev/null || grep -q 'admit' "$events" || fail "no admit events"

rc=0
gw_case_stop_daemon || rc=$?
cat "$E2E_TMP/ftpalgd.log"
((rc == 0)) || fail "ftpalgd exited $rc"
grep -q 'seccomp: system call' "$E2E_TMP/ftpalgd.log" && fail "seccomp stopped a system call"
# A stop leaves the pinhole table for a successor (docs/daemon.md, "Kernel objects across
# restarts"), also when the daemon ran without root's privileges.
ip netns exec "$(netns_name gw)" nft list table inet "ftpalg_q$E2E_QUEUE" >/dev/null 2>&1 ||
  fail "the pinhole table did not outlive the stop"
echo "PASS: privileges"
