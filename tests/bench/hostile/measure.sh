#!/usr/bin/env bash
# Before/after figures of the hardening findings (docs/hardening.md): each measurement in fresh
# namespaces (tests/netns/hostile/lib.sh), for each daemon given, with that daemon's defaults
# (no configuration file, the default 4096-packet queue). Prints one table row per finding and
# daemon, and the whole table (markdown) at the end; nothing here asserts.
#
# usage: measure.sh [--old FTPALGD] [--new FTPALGD] [--smoke] [--only F1,F2,...]
#   --smoke: the new daemon only, F9 and F11 (about 40 s): what CTest runs (label bench)
# Findings measured (numbers of the hardening issue):
#   F1  time until another host's new control connection is denied under a flood of
#       unanswered payload to port 21 (500 new flows a second), or "never within 30 s"
#   F2  daemon CPU per junk packet to port 21 of an unknown flow, with the gateway's conntrack
#       table empty and filled with 60000 entries (SYN_SENT, forwarded to a sink)
#   F3  time until a new session passes uninspected (its 227 not rewritten) under a SYN flood
#       of 1000 forged SYNs a second to port 21
#   F4  time until a new session is denied with 160 logged-in sessions holding a partial LPRT
#       (one byte per segment), and the most packets waiting in the kernel queue
#   F7  whether a rewritten session (active, 2 bytes shorter per PORT) survives forged RSTs
#       (wrong sequence numbers, both directions); F7S the same with SYNs (another ISN)
#   F9  bytes of events per byte of junk PORT lines (6000 lines after login)
#   F11 --allow-bounce: whether a PORT naming 127.0.0.1, 255.255.255.255 or 224.0.0.1 opens a
#       pinhole
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
hdir=$repo/tests/netns/hostile
old='' new='' smoke=0 only=''
while (($#)); do
  case $1 in
    --old) old=$(readlink -f "$2"); shift 2 ;;
    --new) new=$(readlink -f "$2"); shift 2 ;;
    --smoke) smoke=1; shift ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: see the head of $0" >&2; exit 2 ;;
  esac
done
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root"; exit 77; }
[[ -n $old || -n $new ]] || { echo "--old and/or --new FTPALGD" >&2; exit 2; }
if ((smoke)); then only=F9,F11; old=''; fi

# shellcheck source=scripts/lib/netns.sh
. "$repo/scripts/lib/netns.sh"
# shellcheck source=tests/netns/lib/e2e.sh
. "$repo/tests/netns/lib/e2e.sh"
# shellcheck source=tests/netns/hostile/lib.sh
. "$hdir/lib.sh"
bash "$repo/scripts/install-deps.sh" netns >&2 || e2e_die "scripts/install-deps.sh netns failed"

ROWS=$(mktemp /tmp/ftpalg-measure-rows.XXXXXX)
trap 'rm -f "$ROWS"' EXIT

# row FINDING WHICH TEXT: one result.
row() {
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$ROWS"
  e2e_log "$1 $2: $3"
}

# A fresh world for one measurement, in a subshell: namespaces, vsftpd, the daemon.
# setup DAEMON ARGS...
setup() {
  export NETNS_PREFIX="fthm-$BASHPID-"
  [[ -n ${E2E_TMP:-} ]] || E2E_TMP=$(mktemp -d /tmp/ftpalg-measure.XXXXXX)
  # shellcheck disable=SC2317 # run by the exit trap
  cleanup_tmp() {
    hostile_daemon_stop
    rm -rf "$E2E_TMP"
  }
  NETNS_OWNER_PID=$BASHPID
  NETNS_PIDS=()
  netns_install_trap cleanup_tmp
  hostile_topology
  hostile_vsftpd
  hostile_daemon_start "$@"
}

# probe SECONDS: login + PASV + data connection every 0.5 s from the client until one fails;
# prints the probe's JSON.
probe() {
  netns_exec client timeout $(($1 + 20)) python3 "$hdir/attack.py" probe --host "$NETNS_PUBLIC4" \
    --duration "$1" --interval 0.5 --timeout 3
}

denied_text() {
  python3 -c 'import json,sys
r = json.loads(sys.stdin.read().strip().splitlines()[-1])
d, ok = r["denied_after"], r["ok"]
within, why = r.get("within"), r.get("why")
print(f"never within {within} s ({ok} probes ok)" if d == "never"
      else f"denied after {d} s ({why})")'
}

m_f1() {
  (
    setup "$1"
    hostile_attack flood junkdata --dst "$HOSTILE_HOLE4" --src-net "$HOSTILE_FORGED_NET" \
      --flows 20000 --segments 1 --rate 500 --duration 35
    sleep 0.5
    probe 30 | denied_text
  )
}

# cpu_per_junk DAEMON_PID: batches of 300 junk packets to unknown flows (200/s), each batch
# waited for until the kernel queue is empty, until the daemon used 0.5 s of CPU or 3000 were
# sent; prints microseconds of daemon CPU per packet it got (sent less what the full queue
# dropped).
cpu_per_junk() {
  local pid=$1 t0 t1 d0 d1 w sent=0 hz
  hz=$(getconf CLK_TCK)
  read -r _ d0 _ < <(hostile_queue_stats)
  t0=$(hostile_cpu_ticks "$pid")
  while ((sent < 3000)); do
    netns_exec atk timeout 60 python3 "$hdir/attack.py" junkdata --dst "$HOSTILE_HOLE4" \
      --src-net 198.18.64.0/18 --flows 300 --segments 1 --rate 200 --duration 20 >/dev/null
    sent=$((sent + 300))
    for _ in $(seq 120); do
      read -r w _ _ < <(hostile_queue_stats)
      ((w == 0)) && break
      sleep 0.5
    done
    t1=$(hostile_cpu_ticks "$pid")
    (((t1 - t0) * 2 >= hz)) && break
  done
  read -r _ d1 _ < <(hostile_queue_stats)
  awk -v c=$((t1 - t0)) -v hz="$hz" -v n=$((sent - (d1 - d0))) \
    'BEGIN { printf "%.0f us (%d packets)\n", c * 1e6 / hz / (n > 0 ? n : 1), n }'
}

m_f2() {
  (
    setup "$1"
    local empty full count
    empty=$(cpu_per_junk "$HOSTILE_DAEMON_PID")
    netns_exec atk timeout 60 python3 "$hdir/attack.py" synflood --dst "$HOSTILE_SINK4" --dport 80 \
      --src-net 198.18.128.0/17 --count 60000 --rate 0 --duration 40 >/dev/null
    count=$(netns_exec gw conntrack -C 2>/dev/null || echo '?')
    full=$(cpu_per_junk "$HOSTILE_DAEMON_PID")
    echo "$empty at 0 entries; $full at $count entries"
  )
}

m_f3() {
  (
    setup "$1"
    hostile_attack flood synflood --dst "$HOSTILE_HOLE4" --src-net "$HOSTILE_FORGED_NET" \
      --count 40000 --rate 1000 --duration 35
    sleep 0.5
    probe 30 | denied_text
  )
}

m_f4() {
  (
    setup "$1"
    hostile_attack hold holders --host "$NETNS_PUBLIC4" --count 160 --verb LPRT --pause 0.05 \
      --stagger 0.01 --duration 40
    (
      peak=0
      for _ in $(seq 80); do
        read -r w _ _ < <(hostile_queue_stats)
        ((w > peak)) && peak=$w && echo "$peak" >"$E2E_TMP/peak"
        sleep 0.5
      done
    ) &
    NETNS_PIDS+=($!)
    sleep 2
    local p
    p=$(probe 30 | denied_text)
    read -r _ dropped _ < <(hostile_queue_stats)
    echo "$p; peak $(cat "$E2E_TMP/peak" 2>/dev/null || echo 0) packets waiting, $dropped dropped"
  )
}

m_f7() { f7_kind "$1" rst; }
m_f7s() { f7_kind "$1" syn; }

# f7_kind DAEMON rst|syn
f7_kind() {
  (
    setup "$1"
    netns_spawn client timeout 60 python3 "$hdir/legit.py" --name f7 --host "$NETNS_PUBLIC4" \
      --source 198.18.1.102 --mode active --get pub/big.bin --sha "$E2E_BIG_SHA" \
      --put "$E2E_TMP/cli/up.bin" --transfers 4 --pause 0.3 --duration 10 --data-ports 50000 \
      >"$E2E_TMP/f7.json"
    local lp=$NETNS_LAST_PID
    sleep 1
    timeout 40 python3 "$hdir/attack.py" spoof --gw-ns "$(netns_name gw)" \
      --watch-ns "$(netns_name client)" --client-forger "$(netns_name atk)" \
      --server-forger "$(netns_name third)" --legit 198.18.1.102 --duration 12 --kinds "$2" >"$E2E_TMP/sp.json"
    wait "$lp" || true
    python3 -c 'import json,sys
r = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
state = "broken" if r["failures"] else "intact"
dl, bad, rst, syn = r["downloads"], len(r["failures"]), s["rst_c2s"] + s["rst_s2c"], s["syn"]
why = r["failures"][0][:140] if r["failures"] else ""
print(f"{state}: {dl} downloads, {bad} failed sessions ({rst} RSTs, {syn} SYNs forged) {why}")' "$E2E_TMP/f7.json" "$E2E_TMP/sp.json"
  )
}

m_f9() {
  (
    E2E_TMP=$(mktemp -d /tmp/ftpalg-measure.XXXXXX)
    setup "$1" --events "$E2E_TMP/events.jsonl"
    netns_exec atk timeout 60 python3 "$hdir/attack.py" junkport --host "$NETNS_PUBLIC4" \
      --sessions 2 --lines 3000 >"$E2E_TMP/jp.json"
    sleep 2
    hostile_daemon_stop
    python3 -c 'import json,os,sys
j = json.load(open(sys.argv[1])); ev = os.path.getsize(sys.argv[2]); lb = j["line_bytes"]
print(f"{ev / lb:.2f} bytes per junk byte ({ev} bytes for {lb})")' \
      "$E2E_TMP/jp.json" "$E2E_TMP/events.jsonl"
  )
}

m_f11() {
  (
    E2E_TMP=$(mktemp -d /tmp/ftpalg-measure.XXXXXX)
    setup "$1" --allow-bounce --events "$E2E_TMP/events.jsonl"
    netns_exec atk timeout 30 python3 "$hdir/attack.py" junkport --host "$NETNS_PUBLIC4" \
      --sessions 1 --lines 9 >/dev/null
    sleep 1
    hostile_daemon_stop
    python3 -c 'import json,sys
special = ("127.0.0.1", "255.255.255.255", "224.0.0.1")
adm = ref = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if any(s in json.dumps(e.get("announced", "")) for s in special):
        adm += e.get("verdict") == "admit"
        ref += e.get("verdict") == "refuse"
print(("fail: " if adm else "pass: ") + f"{adm} admitted, {ref} refused of 3 special addresses")' \
      "$E2E_TMP/events.jsonl"
  )
}

measure() {
  local f=$1 which=$2 bin=$3 out
  [[ -z $only || ",$only," == *",$f,"* ]] || return 0
  out=$("m_${f,,}" "$bin" 2>"$E2E_TMP_LOG") || out="error: $(tail -c 200 "$E2E_TMP_LOG" | tr '\n' ' ')"
  row "$f" "$which" "$(tail -n 1 <<<"$out")"
}

E2E_TMP_LOG=$(mktemp /tmp/ftpalg-measure-log.XXXXXX)
t0=$(e2e_now)
for f in F1 F2 F3 F4 F7 F7S F9 F11; do
  [[ -z $old ]] || measure "$f" before "$old"
  [[ -z $new ]] || measure "$f" after "$new"
done
rm -f "$E2E_TMP_LOG"

echo
echo "| finding | before | after |"
echo "|---|---|---|"
python3 - "$ROWS" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    f, which, text = line.rstrip("\n").split("\t", 2)
    rows.setdefault(f, {})[which] = text
for f, r in rows.items():
    print(f"| {f} | {r.get('before', '-')} | {r.get('after', '-')} |")
PY
echo
echo "measured $(date -u +%F) on $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg);" \
  "$(e2e_elapsed "$t0") s"
