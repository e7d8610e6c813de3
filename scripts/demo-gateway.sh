#!/usr/bin/env bash
# Demo: an FTP client behind a NAT gateway that runs ftpalgd, talking to a vsftpd server.
# Builds three network namespaces (client - gw - server; addresses from 198.18.0.0/15 and
# 2001:db8::/32, no route out), masquerades the client on the gateway, queues the control
# connections to ftpalgd (iptables mangle FORWARD -> NFQUEUE) and lets the gateway's default-
# drop forward chain admit only port 21, established traffic and what ftpalgd marked. Then it
# downloads and uploads in active (PORT/EPRT) and passive (PASV/EPSV) mode over IPv4 and IPv6,
# checks every file by SHA-256, and prints what ftpalgd did: its events, its nft table and the
# conntrack entries of the data connections it admitted.
#
# Usage: sudo scripts/demo-gateway.sh [--ftpalgd PATH] [--kernel-helper] [--keep] [--no-install]
#   --ftpalgd PATH   the daemon (default: the first of build-e2e/, build/release/, build/)
#   --kernel-helper  the same demo with the in-kernel nf_conntrack_ftp/nf_nat_ftp instead
#   --keep           keep the scratch directory (configs, logs, events)
#   --no-install     do not run scripts/install-deps.sh netns (the tools are there already)
# Everything it creates (namespaces, processes, scratch files) is removed on exit, also on
# failure or Ctrl-C. Exit status 0 when every transfer was right.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ftpalgd='' mode=ftpalgd install=1
while (($#)); do
  case $1 in
    --ftpalgd) ftpalgd=$2; shift ;;
    --kernel-helper) mode=kernel-helper ;;
    --keep) export KEEP_TMP=1 ;;
    --no-install) install='' ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) == 0 ]] || { echo "needs root (network namespaces)" >&2; exit 2; }
if [[ $mode == ftpalgd ]]; then
  if [[ -z $ftpalgd ]]; then
    for c in build-e2e/ftpalgd build/release/ftpalgd build/ftpalgd; do
      [[ -x $repo/$c ]] && ftpalgd=$repo/$c && break
    done
  fi
  [[ -x $ftpalgd ]] || {
    echo "no ftpalgd binary: build it (cmake -S . -B build-e2e -G Ninja && ninja -C build-e2e" \
      "ftpalgd), pass --ftpalgd PATH, or run with --kernel-helper" >&2
    exit 2
  }
fi

export NETNS_PREFIX="ftdemo-$$-"
# shellcheck source=scripts/lib/netns.sh
. "$repo/scripts/lib/netns.sh"
# shellcheck source=tests/netns/lib/e2e.sh
. "$repo/tests/netns/lib/e2e.sh"
E2E_MODE=$mode

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [[ -n $install ]]; then bash "$repo/scripts/install-deps.sh" netns; fi
E2E_TMP=$(mktemp -d /tmp/ftpalg-demo.XXXXXX)
daemon_pid=''
# shellcheck disable=SC2317 # run by the exit trap
on_exit() {
  if [[ -n $daemon_pid ]]; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  if [[ -n ${KEEP_TMP:-} ]]; then echo "kept $E2E_TMP" >&2; else rm -rf "$E2E_TMP"; fi
}
netns_install_trap on_exit

say "topology: client $NETNS_CLIENT4 / $NETNS_CLIENT6 -- gw (masquerade as $NETNS_GW_SRV4 / $NETNS_GW_SRV6) -- server $NETNS_SERVER4 / $NETNS_SERVER6"
netns_topology_gw masq
e2e_gw_setup "$mode" masq
events=$E2E_TMP/events.jsonl
if [[ $mode == ftpalgd ]]; then
  netns_spawn gw "$ftpalgd" --queues "$E2E_QUEUE" --kernel-mode pinhole --mark "$E2E_CT_MARK" \
    --events "$events" 2>"$E2E_TMP/ftpalgd.log"
  daemon_pid=$NETNS_LAST_PID
  for _ in $(seq 1 50); do
    netns_exec gw nft list table inet ftpalg_q0 >/dev/null 2>&1 && break
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$E2E_TMP/ftpalgd.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "ftpalgd running in the gateway (pid $daemon_pid), events -> $events"
else
  echo "in-kernel FTP helper attached by table inet e2e (ct helper ftp-std / ftp-std6)"
fi
e2e_files
e2e_server_start vsftpd

failures=0
transfer() { # FAM XMODE
  local fam=$1 xmode=$2 host name pasv=on got url
  host=$(e2e_server_addr masq "$fam")
  name=demo-v$fam-$xmode
  [[ $xmode == active ]] && pasv=off
  url=ftp://$host
  [[ $fam == 6 ]] && url="ftp://[$host]"
  say "IPv$fam $xmode: lftp get + put via $url"
  if netns_exec client timeout 40 lftp -f /dev/stdin <<EOF; then
set cmd:fail-exit yes
set net:max-retries 1
set net:timeout 8
set ftp:ssl-allow no
set ftp:passive-mode $pasv
set ftp:auto-passive-mode no
set ftp:fix-pasv-address no
set xfer:clobber on
debug -o $E2E_TMP/$name.lftp.log 5
open -u anonymous,demo@ftpalg.test $url
get pub/big.bin -o $E2E_TMP/cli/$name.got
put $E2E_TMP/cli/up.bin -o upload/$name.bin
bye
EOF
    got=$(sha256sum <"$E2E_TMP/cli/$name.got" | cut -d' ' -f1)
    if [[ $got == "$E2E_BIG_SHA" ]] &&
      [[ $(sha256sum <"$E2E_TMP/srv/upload/$name.bin" | cut -d' ' -f1) == "$E2E_UP_SHA" ]]; then
      echo "ok: download and upload match by SHA-256"
    else
      echo "FAILED: SHA-256 mismatch"
      failures=$((failures + 1))
    fi
  else
    echo "FAILED: lftp exit status $?"
    failures=$((failures + 1))
  fi
  grep -E -- '---> (PORT|EPRT|PASV|EPSV)|<--- (227|229)' "$E2E_TMP/$name.lftp.log" |
    sed 's/^/  client saw: /' || true
}
transfer 4 active
transfer 4 passive
transfer 6 active
transfer 6 passive

if [[ $mode == ftpalgd ]]; then
  say "what ftpalgd did (events)"
  python3 - "$events" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    x = e.get("expect") or {}
    ann = e.get("announced") or "-"
    print(f"  {e.get('dir','')} {e.get('kind',''):8} announced {ann:28} "
          f"-> {e.get('rewritten') or ann:28} {e.get('verdict','')}/"
          f"{e.get('reason','')}" + (f"  pinhole {x.get('src','')} -> {x.get('dst','')}"
          f" (to {x.get('nat_to','')})" if x else ""))
EOF
  say "table inet ftpalg_q0"
  netns_exec gw nft list table inet ftpalg_q0
else
  say "conntrack entries of the data connections (helper-related, not port 21)"
  netns_exec gw conntrack -L 2>/dev/null | grep -v 'dport=21 ' | sed 's/^/  /' || true
fi
say "gateway forward chain (late data SYNs would be in the drop sets)"
netns_exec gw nft list chain inet e2e forward
read -r late dropped admitted < <(e2e_late_syn)
echo "data SYNs admitted: $admitted, dropped: $dropped, dropped before their pinhole: $late"
say "$( ((failures == 0)) && echo "all transfers ok" || echo "$failures transfer(s) FAILED")"
trap - ERR
exit $((failures == 0 ? 0 : 1))
