#!/usr/bin/env bash
# Hostile-load end-to-end test of ftpalgd (pinhole mode), in network namespaces of its own:
#
#   clients behind SNAT, attackers beside them, vsftpd behind DNAT: tests/netns/hostile/lib.sh
#
# While the legitimate clients transfer files (active and passive, every announcement rewritten
# with a length change: 198,18,1,102 -> 198,19,1,1 is 2 bytes shorter, 198,18,1,23 one byte,
# a 227 naming 198,19,1,2 -> 198,18,1,10 one byte longer), the other hosts run at once: a SYN
# flood to port 21, unanswered payload to port 21 (no handshake), logged-in sessions holding a
# partial LPRT sent one byte per segment, junk PORT/EPRT floods after and before login, and
# forged RSTs with wrong sequence numbers (both directions) and SYNs with another ISN at the
# legitimate control connections (tests/netns/hostile/attack.py). The daemon runs with the old defaults'
# sizes (4096 sessions, 512 buffers) so the floods exceed them, and a 1024-packet queue. The
# active clients announce data ports from ranges of their own: a port two clients behind one
# SNAT address both announce, or one announced twice within a pinhole's lifetime, clashes in the
# NAT map, a finding with its own test.
#
# Passes when: every legitimate download and upload has the right SHA-256 and no session failed;
# no pinhole, NAT map element or admitted data connection names an attacker's address (table
# inet $HOSTILE_TABLE sampled every 0.5 s, and conntrack's marked entries at the end); ftpalgd's CPU
# (utime+stime) and peak RSS stay under HOSTILE_CPU_MAX seconds and HOSTILE_RSS_MAX_KB; its
# closing "counters:" line shows every attack; each attacker really sent what it should.
#
# usage: run.sh FTPALGD [--legacy]
#   --legacy: a daemon from before the resource-limit keys (no config file, same sizes by its
#             defaults), to show which checks fail without the defences
# KEEP_TMP=1 keeps the scratch directory. Exit 0 pass, 1 fail, 2 setup error, 77 not root.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
FTPALGD=${1:?usage: $0 FTPALGD [--legacy]}
FTPALGD=$(readlink -f "$FTPALGD")
LEGACY=${2:-}
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root"; exit 77; }
[[ -x $FTPALGD ]] || { echo "not executable: $FTPALGD" >&2; exit 2; }

CPU_MAX=${HOSTILE_CPU_MAX:-25}       # seconds of daemon CPU over the whole run
RSS_MAX_KB=${HOSTILE_RSS_MAX_KB:-262144}
LEGIT_SECONDS=${HOSTILE_LEGIT_SECONDS:-32}
ATTACK_SECONDS=${HOSTILE_ATTACK_SECONDS:-26}
LEGIT_MODES=(active active passive passive)

export NETNS_PREFIX="fthos-$$-"
# shellcheck source=scripts/lib/netns.sh
. "$repo/scripts/lib/netns.sh"
# shellcheck source=tests/netns/lib/e2e.sh
. "$repo/tests/netns/lib/e2e.sh"
# shellcheck source=tests/netns/hostile/lib.sh
. "$here/lib.sh"
bash "$repo/scripts/install-deps.sh" netns >&2 || e2e_die "scripts/install-deps.sh netns failed"

E2E_TMP=$(mktemp -d /tmp/ftpalg-hostile.XXXXXX)
T=$E2E_TMP
DAEMON_PID=''
# shellcheck disable=SC2317 # run by the exit trap
on_exit() {
  if [[ -n $DAEMON_PID ]]; then kill -TERM "$DAEMON_PID" 2>/dev/null || true; fi
  if [[ -n ${KEEP_TMP:-} ]]; then e2e_log "kept $T"; else rm -rf "$T"; fi
}
netns_install_trap on_exit
t_start=$(e2e_now)

# --- topology, server, daemon ---------------------------------------------------------------------
hostile_topology
hostile_vsftpd
cat >"$T/ftpalgd.toml" <<EOF
max_sessions = 4096
max_buffers = 512
half_open_timeout = 10
hold_timeout = 3
EOF
daemon_args=(--queue-maxlen 1024 --events "$T/events.jsonl")
[[ $LEGACY == --legacy ]] || daemon_args+=(--config "$T/ftpalgd.toml")
hostile_daemon_start "$FTPALGD" "${daemon_args[@]}"
DAEMON_PID=$HOSTILE_DAEMON_PID
ticks0=$(hostile_cpu_ticks "$DAEMON_PID")

# Sampler: the pinhole table, the daemon's RSS and the kernel queue, every 0.5 s.
sampler() {
  trap - EXIT INT TERM
  while kill -0 "$DAEMON_PID" 2>/dev/null; do
    ip netns exec "$(netns_name gw)" timeout 5 nft -j list table inet "$HOSTILE_TABLE" >>"$T/tables.jsonl" 2>/dev/null || true
    awk '/VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status" >>"$T/rss.txt" 2>/dev/null || true
    sleep 0.5
  done
}
sampler &
NETNS_PIDS+=($!)
# HOSTILE_TRACE=1 (with KEEP_TMP=1): conntrack's port-21 events and the gateway's port-21
# packets on both links, for a failure's post-mortem.
if [[ -n ${HOSTILE_TRACE:-} ]]; then
  netns_spawn gw conntrack -E -p tcp -o timestamp >"$T/ct-events.txt" 2>/dev/null
  for dev in cli0 srv0; do
    netns_spawn gw tcpdump -i "$dev" -nn -s 96 -w "$T/$dev.pcap" tcp port 21 2>/dev/null
  done
fi

# --- legitimate clients, then the attackers ---------------------------------------------------------
legit_pids=()
for i in "${!HOSTILE_LEGIT_ADDRS[@]}"; do
  netns_spawn client timeout $((LEGIT_SECONDS + 30)) python3 "$here/legit.py" --name "legit$i" \
    --host "$NETNS_PUBLIC4" --source "${HOSTILE_LEGIT_ADDRS[$i]}" --mode "${LEGIT_MODES[$i]}" \
    --get pub/big.bin --sha "$E2E_BIG_SHA" --put "$T/cli/up.bin" --duration "$LEGIT_SECONDS" \
    --data-ports $((50000 + 2000 * i)) >"$T/legit$i.json" 2>"$T/legit$i.err"
  legit_pids+=("$NETNS_LAST_PID")
done
sleep 2
e2e_log "legitimate clients running; attacks start (${ATTACK_SECONDS} s)"
A=$ATTACK_SECONDS
ATTACKS=${HOSTILE_ATTACKS:-synflood junkdata holders junkport junkpre spoof}
# Forged RSTs (2**30 off the real sequence number, both directions) and SYNs (another ISN).
# Conntrack takes such an RST on the liberal entry of a rewritten session and cuts it to the
# CLOSE timeout; the engine refuses it (rst_out_of_window) and ftpalgd puts the entry back
# (docs/hardening.md, F7). HOSTILE_SPOOF_KINDS=syn or rst narrows the attack.
SPOOF_KINDS=${HOSTILE_SPOOF_KINDS:-rst,syn}
atk() {
  [[ " $ATTACKS " == *" $1 "* ]] || return 0
  hostile_attack "$@"
  attack_pids+=("$HOSTILE_ATTACK_PID")
}
attack_pids=()
atk synflood synflood --dst "$HOSTILE_HOLE4" --src-net "$HOSTILE_FORGED_NET" --count 8000 --rate 400 --duration "$A"
atk junkdata junkdata --dst "$HOSTILE_HOLE4" --src-net "$HOSTILE_FORGED_NET" --flows 1500 --segments 2 --rate 200 \
  --duration "$A"
atk holders holders --host "$NETNS_PUBLIC4" --count 64 --verb LPRT --pause 0.05 --duration "$A"
atk junkport junkport --host "$NETNS_PUBLIC4" --sessions 2 --lines 3000
atk junkpre junkport --host "$NETNS_PUBLIC4" --sessions 2 --lines 3000 --before-login
legit_csv=$(IFS=,; echo "${HOSTILE_LEGIT_ADDRS[*]}")
[[ " $ATTACKS " == *" spoof "* ]] && timeout $((A + 40)) python3 "$here/attack.py" spoof --gw-ns "$(netns_name gw)" \
  --watch-ns "$(netns_name client)" --client-forger "$(netns_name atk)" \
  --server-forger "$(netns_name third)" --legit "$legit_csv" --duration "$A" \
  --kinds "$SPOOF_KINDS" >"$T/spoof.json" 2>"$T/spoof.err" &
attack_pids+=($!)
NETNS_PIDS+=($!)

legit_fail=0
for pid in "${legit_pids[@]}"; do wait "$pid" || legit_fail=1; done
for pid in "${attack_pids[@]}"; do wait "$pid" || true; done
e2e_log "clients and attackers done"

# --- what the run left -------------------------------------------------------------------------------
sleep 1
netns_exec gw timeout 5 nft -j list table inet "$HOSTILE_TABLE" >>"$T/tables.jsonl" 2>/dev/null || true
netns_exec gw timeout 10 conntrack -L -m "$HOSTILE_MARK" >"$T/marked.txt" 2>/dev/null || true
netns_exec gw cat /proc/net/netfilter/nfnetlink_queue >"$T/queue.txt" 2>/dev/null || true
alive=1
kill -0 "$DAEMON_PID" 2>/dev/null || alive=0
cpu_s=0 hwm_kb=0
if ((alive)); then
  cpu_s=$(awk -v a="$ticks0" -v b="$(hostile_cpu_ticks "$DAEMON_PID")" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.2f", (b - a) / hz }')
  hwm_kb=$(awk '/VmHWM/ { print $2 }' "/proc/$DAEMON_PID/status")
fi
hostile_daemon_stop
daemon_rc=$HOSTILE_DAEMON_RC
DAEMON_PID=''
netns_exec gw nft list table inet hostile >"$T/hostile-table.txt" 2>/dev/null || true

python3 "$here/check.py" --tmp "$T" --legit "$legit_csv" --legit-fail "$legit_fail" \
  --up-sha "$E2E_UP_SHA" --alive "$alive" --daemon-rc "$daemon_rc" --cpu "$cpu_s" \
  --cpu-max "$CPU_MAX" --hwm-kb "$hwm_kb" --rss-max-kb "$RSS_MAX_KB" \
  --allowed "$legit_csv,$NETNS_SERVER4,$NETNS_PUBLIC4,$NETNS_GW_SRV4" \
  --spoof-kinds "$SPOOF_KINDS" && rc=0 || rc=$?
e2e_log "wall time $(e2e_elapsed "$t_start") s"
if ((rc != 0)); then
  e2e_log "last daemon log lines (without admit, refuse and limit lines):"
  grep -v -e 'resource limits' -e ' admit ' -e ' refuse ' "$T/ftpalgd.log" | tail -n 15 >&2 || true
fi
exit "$rc"
