#!/usr/bin/env bash
# One block of the ftpalg end-to-end matrix, in its own namespaces (client - gw - server, and
# a third host for the bounce case; see tests/netns/lib/e2e.sh), with the gateway's ALG being
# the in-kernel FTP helper, ftpalgd in pinhole mode, or ftpalgd in expectation mode.
#
# Usage: run-block.sh --mode kernel-helper|ftpalgd|ftpalgd-expect --block BLOCK --results FILE
#                     [--ftpalgd PATH] [--ftpalg PATH]
#   --mode ftpalgd-expect: ftpalgd --kernel-mode cthelper --install-rules (needs a kernel with
#          nfnetlink_cthelper and the NFQUEUE conntrack glue: the qemu lane runs it, scenario
#          70-e2e-matrix); the forward chain admits `ct state related`. Per case the notes say
#          how many packets of data (and other non-control) connections reached ftpalgd's queue
#          (its debug lines "non-control packet (...)"); any makes the case fail, or xfail
#          when E2E_KERNEL_DEFECT names the running kernel's known defect (only data packets).
#   BLOCK: one or several (a quoted list: they share the namespaces, the driver and ftpalgd,
#          negative runs last) of nonat4 nonat6 masq4 masq6 dnat4 dnat6 both4 (positive: vsftpd and proftpd, lftp,
#          curl and Python ftplib, active and passive, listing + download + upload checked by
#          SHA-256), negative (bounce, low port, client 227, unsolicited 227, unannounced port,
#          single use, pinhole timeout, fail-closed, 1-byte segments; IPv4, split also IPv6)
#   --results: JSON lines {case, mode, result, seconds, notes} are appended here
#   --ftpalg: the replay tool; the nonat and masq blocks capture the gateway's control traffic
#             and replay it (in mode ftpalgd the replay's events must equal the daemon's)
# Known differences of a mode are listed in tests/netns/e2e/known-<mode>.txt: a failing case
# listed there is "xfail" and does not fail the block.
# Exit status: 0 all cases pass (or xfail), 1 a case failed, 2 setup error. KEEP_TMP=1 keeps
# the scratch directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
mode='' block='' results='' ftpalgd='' ftpalg=''
while (($#)); do
  case $1 in
    --mode) mode=$2 ;;
    --block) block=$2 ;;
    --results) results=$2 ;;
    --ftpalgd) ftpalgd=$2 ;;
    --ftpalg) ftpalg=$2 ;;
    *) echo "usage: see the head of $0" >&2; exit 2 ;;
  esac
  shift 2
done
[[ $mode == kernel-helper || $mode == ftpalgd || $mode == ftpalgd-expect ]] ||
  { echo "--mode kernel-helper|ftpalgd|ftpalgd-expect" >&2; exit 2; }
[[ -n $block && -n $results ]] || { echo "--block and --results are required" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "needs root" >&2; exit 2; }
if [[ $mode == ftpalgd* ]]; then
  [[ -x $ftpalgd ]] || { echo "mode $mode needs --ftpalgd PATH (got '$ftpalgd')" >&2; exit 2; }
fi
[[ -z $ftpalg || -x $ftpalg ]] || { echo "--ftpalg $ftpalg is not executable" >&2; exit 2; }

# E2E_XTRACE=FILE: a trace of every command with its start time (bash xtrace, PS4 with
# EPOCHREALTIME), to see where a block's time goes.
if [[ -n ${E2E_XTRACE:-} ]]; then
  exec {xtrace_fd}>>"$E2E_XTRACE"
  BASH_XTRACEFD=$xtrace_fd
  PS4='+ ${EPOCHREALTIME} ${FUNCNAME[1]:-main}>${FUNCNAME[0]:-main}:${LINENO} '
  set -x
fi

export NETNS_PREFIX="fte2e-$$-"
# shellcheck source=scripts/lib/netns.sh
. "$repo/scripts/lib/netns.sh"
# shellcheck source=tests/netns/lib/e2e.sh
. "$repo/tests/netns/lib/e2e.sh"
E2E_MODE=$mode
E2E_DIR=$here
E2E_RESULTS=$(realpath -m "$results")
mkdir -p "$(dirname "$E2E_RESULTS")"

e2e_install_deps

E2E_TMP=$(mktemp -d /tmp/ftpalg-e2e.XXXXXX)
# shellcheck disable=SC2317 # run by the exit trap
on_exit() {
  drv_stop
  e2e_daemon_stop
  if [[ -n ${KEEP_TMP:-} ]]; then e2e_log "kept $E2E_TMP"; else rm -rf "$E2E_TMP"; fi
}
netns_install_trap on_exit
trap 'e2e_log "command failed (status $?) at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND"' ERR

failures=0
late_total=0
declare -A known=()
while IFS=$'\t' read -r pat why; do
  [[ -z $pat || $pat == \#* ]] && continue
  known[$pat]=$why
done <"$here/known-$mode.txt"

# queued_since_last: mode ftpalgd-expect, the packets of data connections (QDATA) and of other
# non-control connections (QOTHER) that reached ftpalgd's queue since the previous call, from
# its debug lines (one a packet); QFAIL is set when they could not be counted. Call it directly,
# not in a subshell.
QDATA=0 QOTHER=0 QFAIL='' qdata_seen=0 qother_seen=0
queued_since_last() {
  local d o
  drv_call 30 count --file "$E2E_TMP/ftpalgd.log" 'non-control packet (data connection)' \
    'non-control packet (other)'
  QFAIL=''
  if ((DRV_RC != 0)) || ! read -r d o <<<"$DRV_OUT" || [[ ! $d =~ ^[0-9]+$ || ! $o =~ ^[0-9]+$ ]]; then
    QFAIL="queued packets not counted: $DRV_OUT"
    QDATA=0 QOTHER=0
    return 0
  fi
  QDATA=$((d - qdata_seen)) QOTHER=$((o - qother_seen))
  qdata_seen=$d qother_seen=$o
}

# verdict CASE OK(0/1) SECONDS NOTES: pass/fail/xfail/xpass with the known-differences list.
# Mode ftpalgd-expect: a case whose data packets were queued does not pass (xfail with the
# kernel's defect named when E2E_KERNEL_DEFECT is set and nothing else was queued).
verdict() {
  local name=$1 ok=$2 secs=$3 notes=$4 pat why=''
  for pat in "${!known[@]}"; do
    # shellcheck disable=SC2053
    [[ $name == $pat ]] && why=${known[$pat]} && break
  done
  if [[ $mode == ftpalgd-expect ]]; then
    queued_since_last
    notes="$notes; data-connection packets queued $QDATA (other $QOTHER)"
    if [[ -n $QFAIL ]]; then
      ok=0
      notes="$notes; $QFAIL"
    elif ((ok && QDATA + QOTHER > 0)); then
      ok=0
      if ((QOTHER == 0)) && [[ -n ${E2E_KERNEL_DEFECT:-} && -z $why ]]; then
        why="known defect: $E2E_KERNEL_DEFECT"
      fi
    fi
  fi
  if ((ok)); then
    if [[ -n $why ]]; then
      e2e_result "$name" xpass "$secs" "listed as known difference ($why) but passed; $notes"
    else
      e2e_result "$name" pass "$secs" "$notes"
    fi
  elif [[ -n $why ]]; then
    e2e_result "$name" xfail "$secs" "$why; $notes"
  else
    e2e_result "$name" fail "$secs" "$notes"
    failures=$((failures + 1))
  fi
}

# --- ftpalgd -----------------------------------------------------------------------------------
E2E_DAEMON_PID=''
E2E_EVENTS=''
# e2e_daemon_start [EXTRA ARGS...]: ftpalgd in the gateway, events to $E2E_TMP/events.jsonl;
# returns once its table inet ftpalg_q$E2E_QUEUE exists (mode ftpalgd-expect: once it serves
# the helper's queue).
e2e_daemon_start() {
  E2E_EVENTS=$E2E_TMP/events.jsonl
  if [[ $mode == ftpalgd-expect ]]; then
    e2e_daemon_start_expect "$@"
    return
  fi
  netns_spawn gw "$ftpalgd" --queues "$E2E_QUEUE" --kernel-mode pinhole --mark "$E2E_CT_MARK" \
    --events "$E2E_EVENTS" --log-level debug "$@" 2>>"$E2E_TMP/ftpalgd.log"
  E2E_DAEMON_PID=$NETNS_LAST_PID
  for _ in $(seq 1 50); do
    netns_exec gw nft list table inet "ftpalg_q$E2E_QUEUE" >/dev/null 2>&1 && return 0
    kill -0 "$E2E_DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$E2E_TMP/ftpalgd.log" >&2 || true
  e2e_die "ftpalgd did not install table inet ftpalg_q$E2E_QUEUE"
}
# Expectation mode: registers the userspace helper, adds table inet ftpalg_helper (ct helper set
# on new port-21 connections) and serves its queue; debug level, so each queued non-control
# packet is a log line.
e2e_daemon_start_expect() {
  local before=0
  [[ -f $E2E_TMP/ftpalgd.log ]] && before=$(wc -l <"$E2E_TMP/ftpalgd.log")
  netns_spawn gw "$ftpalgd" --queues "$E2E_QUEUE" --kernel-mode cthelper --install-rules \
    --events "$E2E_EVENTS" --log-level debug "$@" 2>>"$E2E_TMP/ftpalgd.log"
  E2E_DAEMON_PID=$NETNS_LAST_PID
  local i n line serving=''
  for ((i = 0; i < 300; i++)); do
    # The log read by the shell itself (no process per look: each costs dearly under TCG).
    n=0
    while [[ -z $serving ]] && IFS= read -r line; do
      n=$((n + 1))
      ((n > before)) && [[ $line == *'serving queue'* ]] && serving=1
    done <"$E2E_TMP/ftpalgd.log"
    [[ -n $serving ]] && netns_exec gw nft list table inet ftpalg_helper >/dev/null 2>&1 && return 0
    kill -0 "$E2E_DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$E2E_TMP/ftpalgd.log" >&2 || true
  e2e_die "ftpalgd (cthelper) did not start serving the helper's queue"
}
# e2e_daemon_stop [SIGNAL]: SIGTERM (default) or the given signal, then SIGKILL after 5 s.
e2e_daemon_stop() {
  [[ -n $E2E_DAEMON_PID ]] || return 0
  kill "-${1:-TERM}" "$E2E_DAEMON_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$E2E_DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$E2E_DAEMON_PID" 2>/dev/null || true
  wait "$E2E_DAEMON_PID" 2>/dev/null || true
  E2E_DAEMON_PID=''
}

# --- The block's driver ------------------------------------------------------------------------
# One ftp_driver.py serve in the client namespace runs the block's Python clients, negative
# cases and bookkeeping (file checks, queue counts, late SYNs): one interpreter for the block,
# not one per step. Requests and replies go through two FIFOs this shell holds open read-write
# (never blocks, no SIGPIPE when the driver is gone: a reply then times out).
DRV_PID='' DRV_W='' DRV_R='' DRV_N=0
drv_start() {
  DRV_N=$((DRV_N + 1))
  local in=$E2E_TMP/drv.$DRV_N.in out=$E2E_TMP/drv.$DRV_N.out
  mkfifo "$in" "$out"
  exec {DRV_W}<>"$in" {DRV_R}<>"$out"
  # Not netns_spawn: the redirections must be the background job's own (an asynchronous
  # command's stdin is /dev/null otherwise).
  (
    trap - EXIT INT TERM
    exec ip netns exec "$(netns_name client)" python3 "$here/ftp_driver.py" serve
  ) <"$in" >"$out" 2>>"$E2E_TMP/driver.log" &
  DRV_PID=$!
  NETNS_PIDS+=("$DRV_PID")
}
drv_stop() {
  [[ -n $DRV_PID ]] || return 0
  kill -KILL "$DRV_PID" 2>/dev/null || true
  wait "$DRV_PID" 2>/dev/null || true
  exec {DRV_W}>&- {DRV_R}<&-
  DRV_PID=''
}
# drv_call TIMEOUT SUBCOMMAND ARGS...: runs ftp_driver.py SUBCOMMAND ARGS in the driver, bounded
# by TIMEOUT seconds; sets DRV_RC (its exit status; 124 when it overran, 125 when the driver
# did not answer), DRV_NOTES (the "notes" of its JSON result line) and DRV_OUT (its output on
# one line). A driver that overran is replaced by a fresh one at the next call.
drv_call() {
  local timeout=$1 req='' sep='' a j
  shift
  if [[ -z $DRV_PID ]] || ! kill -0 "$DRV_PID" 2>/dev/null; then
    drv_stop
    drv_start
  fi
  for a in "$@"; do
    e2e_json_str_v j "$a"
    req+=$sep$j sep=,
  done
  printf '{"timeout": %s, "argv": [%s]}\n' "$timeout" "$req" >&"$DRV_W"
  # The first call also waits for the interpreter to start.
  if IFS=$'\x1f' read -r -t "$((timeout + 60))" DRV_RC DRV_NOTES DRV_OUT <&"$DRV_R"; then
    if ((DRV_RC == 124)); then drv_stop; fi
    return 0
  fi
  DRV_RC=125 DRV_NOTES='' DRV_OUT="ftp_driver.py serve did not answer within $((timeout + 60)) s ($(tail -c 300 "$E2E_TMP/driver.log" 2>/dev/null | tr '\n' ' '))"
  drv_stop
}

# --- Clients -----------------------------------------------------------------------------------
# client_lftp NAME HOST XMODE / client_curl ... / client_python ...: list pub/ into
# $E2E_TMP/cli/NAME.list, download pub/big.bin to NAME.got, upload up.bin as upload/NAME.bin.
# shellcheck disable=SC2317 # called as client_$client
client_lftp() {
  local name=$1 host=$2 xmode=$3 url pasv=on
  [[ $xmode == active ]] && pasv=off
  url=ftp://$host
  [[ $host == *:* ]] && url="ftp://[$host]"
  netns_exec client timeout 40 lftp -f /dev/stdin <<EOF
set cmd:fail-exit yes
set net:max-retries 1
set net:timeout 5
set net:reconnect-interval-base 1
set ftp:ssl-allow no
set ftp:passive-mode $pasv
set ftp:auto-passive-mode no
set ftp:fix-pasv-address no
set ftp:prefer-epsv no
set xfer:clobber on
open -u anonymous,e2e@ftpalg.test $url
ls pub > $E2E_TMP/cli/$name.list
get pub/big.bin -o $E2E_TMP/cli/$name.got
put $E2E_TMP/cli/up.bin -o upload/$name.bin
bye
EOF
}

# shellcheck disable=SC2317 # called as client_$client
client_curl() {
  local name=$1 host=$2 xmode=$3 url
  local -a opt=(-sS --fail --connect-timeout 5 --max-time 8 -u anonymous:e2e@ftpalg.test)
  [[ $xmode == active ]] && opt+=(--ftp-port -) || opt+=(--ftp-pasv)
  url=ftp://$host
  [[ $host == *:* ]] && url="ftp://[$host]"
  netns_exec client timeout 30 curl "${opt[@]}" "$url/pub/" -o "$E2E_TMP/cli/$name.list" \
    --next "${opt[@]}" "$url/pub/big.bin" -o "$E2E_TMP/cli/$name.got" \
    --next "${opt[@]}" -T "$E2E_TMP/cli/up.bin" "$url/upload/$name.bin"
}

# client_python NAME HOST XMODE [ARGS...]: in the block's driver (not in a subshell); the client's
# status and output are DRV_RC and DRV_OUT.
client_python() {
  local name=$1 host=$2 xmode=$3
  shift 3
  drv_call 40 client --host "$host" \
    --timeout 6 --mode "$xmode" --list-out "$E2E_TMP/cli/$name.list" --get pub/big.bin \
    --get-out "$E2E_TMP/cli/$name.got" --put "$E2E_TMP/cli/up.bin" --put-as "upload/$name.bin" "$@"
}

# check_files NAME: sets BAD to the empty string when listing, download and upload are right,
# else to the reasons (call it directly, not in a subshell).
check_files() {
  local name=$1
  drv_call 30 check-files --list "$E2E_TMP/cli/$name.list" --got "$E2E_TMP/cli/$name.got" \
    --got-sha "$E2E_BIG_SHA" --put "$E2E_TMP/srv/upload/$name.bin" --put-sha "$E2E_UP_SHA"
  BAD=$DRV_OUT
  ((DRV_RC == 0)) || BAD="files not checked (driver exit $DRV_RC): $DRV_OUT; "
}

# late_note: counts the late SYNs since the last call into late_total; sets LAST_LATE and
# LATE_NOTE (call it directly, not in a subshell). When they cannot be counted, LAST_LATE is 1
# (the case fails) and the note says why. The conntrack table is only read when a SYN was
# dropped (with none dropped, none can be late).
late_note() {
  local late dropped admitted
  e2e_late_syn_collect "$E2E_TMP/late" sets
  : >"$E2E_TMP/late.ct"
  drv_call 30 late-syn --nft "$E2E_TMP/late.nft" --conntrack "$E2E_TMP/late.ct"
  if ((DRV_RC == 0)) && read -r late dropped admitted <<<"$DRV_OUT" &&
    [[ $dropped =~ ^[0-9]+$ ]] && ((dropped > 0)); then
    e2e_late_syn_collect "$E2E_TMP/late" conntrack
    drv_call 30 late-syn --nft "$E2E_TMP/late.nft" --conntrack "$E2E_TMP/late.ct"
  fi
  if ((DRV_RC == 0)) && read -r late dropped admitted <<<"$DRV_OUT" && [[ $late =~ ^[0-9]+$ ]]; then
    late_total=$((late_total + late))
    LAST_LATE=$late
    LATE_NOTE="data SYNs: $admitted admitted, $dropped dropped, $late late"
  else
    late_total=$((late_total + 1))
    LAST_LATE=1
    LATE_NOTE="late data SYNs not counted (driver exit $DRV_RC): $DRV_OUT"
  fi
}

# run_case NAT FAM XMODE SERVER CLIENT [CLIENT ARGS...]
run_case() {
  local nat=$1 fam=$2 xmode=$3 server=$4 client=$5
  shift 5
  local name="$nat/v$fam/$xmode/$server/$client" fname host t0 out rc=0 bad late
  [[ ${1:-} == --split ]] && name="$name-split"
  fname=${name//\//-}
  host=$(e2e_server_addr "$nat" "$fam")
  t0=$EPOCHREALTIME
  if [[ $client == python ]]; then
    client_python "$fname" "$host" "$xmode" "$@"
    rc=$DRV_RC out=$DRV_OUT
  else
    out=$("client_$client" "$fname" "$host" "$xmode" "$@" 2>&1) || rc=$?
  fi
  check_files "$fname"
  bad=$BAD
  late_note
  late=$LATE_NOTE
  if ((rc != 0)); then bad="client exit $rc: $(tail -c 300 <<<"$out" | tr '\n' ' ') $bad"; fi
  if ((LAST_LATE > 0)); then bad="$bad late SYNs: $LAST_LATE;"; fi
  if [[ -z $bad ]]; then
    verdict "$name" 1 "$(e2e_elapsed "$t0")" "$late"
  else
    verdict "$name" 0 "$(e2e_elapsed "$t0")" "$bad $late"
  fi
}

# --- Capture and replay ------------------------------------------------------------------------
# capture_start FILE / capture_stop: tcpdump on the gateway's client-side interface, port 21.
capture_start() {
  : >"$E2E_TMP/tcpdump.err"
  netns_spawn gw timeout 120 tcpdump -i cli0 -s 0 -U --immediate-mode -n -Z root -w "$1" \
    'tcp port 21' 2>"$E2E_TMP/tcpdump.err"
  CAP_PID=$NETNS_LAST_PID
  for _ in $(seq 1 50); do
    grep -q 'listening on' "$E2E_TMP/tcpdump.err" && return 0
    sleep 0.1
  done
  e2e_die "tcpdump did not start: $(cat "$E2E_TMP/tcpdump.err")"
}
capture_stop() {
  sleep 0.3
  kill -INT "$CAP_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$CAP_PID" 2>/dev/null || true
}

# replay_case NAT FAM XMODE: one python session captured on gw cli0, replayed with the NAT of
# the scenario. Mode ftpalgd: the replay's announcements and verdicts must equal the daemon's
# events of the same control connection. Mode kernel-helper: the replay must admit every
# announcement of the (successful) session.
replay_case() {
  local nat=$1 fam=$2 xmode=$3 name t0 cap ev host bad='' notes
  name="replay/$nat/v$fam/$xmode"
  t0=$EPOCHREALTIME
  cap=$E2E_TMP/${name//\//-}.pcap
  ev=$E2E_TMP/${name//\//-}.events.jsonl
  host=$(e2e_server_addr "$nat" "$fam")
  local before=0
  [[ -n $E2E_EVENTS && -f $E2E_EVENTS ]] && before=$(wc -l <"$E2E_EVENTS")
  capture_start "$cap"
  client_python "${name//\//-}" "$host" "$xmode"
  printf '%s\n' "$DRV_OUT" >"$E2E_TMP/replay-client.log"
  ((DRV_RC == 0)) || bad="client failed;"
  capture_stop
  late_note
  check_files "${name//\//-}"
  bad="$bad$BAD"
  local -a nat_args=()
  if [[ $nat == masq ]]; then
    [[ $fam == 4 ]] && nat_args=(--snat "$NETNS_CLIENT4=$NETNS_GW_SRV4") || nat_args=(--snat "$NETNS_CLIENT6=$NETNS_GW_SRV6")
  fi
  if ! timeout 30 "$ftpalg" replay --in "$cap" --events "$ev" "${nat_args[@]}" -q \
    >"$E2E_TMP/replay.log" 2>&1; then
    bad="$bad ftpalg replay failed: $(tail -c 200 "$E2E_TMP/replay.log");"
  fi
  local daemon_ev=/dev/null cmp_mode=${mode%-expect}
  if [[ $mode == ftpalgd* ]]; then
    daemon_ev=$E2E_TMP/daemon-slice.jsonl
    tail -n +"$((before + 1))" "$E2E_EVENTS" >"$daemon_ev" 2>/dev/null || : >"$daemon_ev"
  fi
  notes=$(python3 "$here/compare_events.py" --mode "$cmp_mode" --replay "$ev" --daemon "$daemon_ev" 2>&1) ||
    bad="$bad $notes"
  if [[ -z $bad ]]; then
    verdict "$name" 1 "$(e2e_elapsed "$t0")" "$notes"
  else
    verdict "$name" 0 "$(e2e_elapsed "$t0")" "$bad"
  fi
}

# --- Blocks ------------------------------------------------------------------------------------
# block_setup NAT: the topology with the routes of NAT (built by the first block of the call,
# re-routed with the conntrack table flushed by the next ones) and the gateway's table.
block_setup() {
  local nat=$1
  if [[ -z $E2E_TOPO ]]; then
    netns_topology_gw "$nat"
  else
    netns_gw_routes "$E2E_TOPO" "$nat"
    netns_exec gw sh -c 'conntrack -F; conntrack -F -f ipv6; conntrack -F expect' >/dev/null 2>&1 || true
    if [[ $mode == ftpalgd ]]; then e2e_gw_queue_rules del >/dev/null 2>&1 || true; fi
  fi
  E2E_TOPO=$nat
  e2e_gw_setup "$mode" "$nat"
}

positive_block() {
  local nat=$1 fam=$2 server xmode client
  block_setup "$nat"
  if [[ $mode == ftpalgd* && -z $E2E_DAEMON_PID ]]; then e2e_daemon_start; fi
  if [[ -z ${E2E_BIG_SHA:-} ]]; then e2e_files; fi
  for server in vsftpd proftpd; do
    e2e_server_start "$server"
    for xmode in active passive; do
      for client in lftp curl python; do
        run_case "$nat" "$fam" "$xmode" "$server" "$client"
      done
    done
    if [[ $server == vsftpd && -n $ftpalg && ($nat == nonat || $nat == masq) ]]; then
      replay_case "$nat" "$fam" active
      replay_case "$nat" "$fam" passive
    fi
    # The masquerade blocks also send every announcement in 1-byte segments (real servers:
    # a PORT/EPRT that is not rewritten is refused, a 227 that is not is checked by the client).
    if [[ $nat == masq && $server == vsftpd ]]; then
      run_case "$nat" "$fam" active "$server" python --split
      run_case "$nat" "$fam" passive "$server" python --split
    fi
    e2e_server_stop
  done
}

# neg CASE NAME [ARGS...]: one negative case run by ftp_driver.py neg in the client namespace.
neg() {
  local case=$1 name=$2 t0 out rc=0 notes
  shift 2
  t0=$EPOCHREALTIME
  drv_call 60 neg "$case" "$@"
  rc=$DRV_RC notes=$DRV_NOTES
  [[ -z $notes ]] && notes="driver exit $rc: ${DRV_OUT: -300}"
  late_note
  notes="$notes; $LATE_NOTE"
  if [[ $mode == ftpalgd* && -n ${NEG_EVENT:-} ]]; then
    # The refusal must be logged with the named reason.
    if ! grep -q "$NEG_EVENT" "$E2E_EVENTS" 2>/dev/null; then
      rc=1
      notes="$notes; no event matching $NEG_EVENT"
    else
      notes="$notes; event $NEG_EVENT logged"
    fi
  fi
  verdict "$name" "$((rc == 0))" "$(e2e_elapsed "$t0")" "$notes"
}

negative_block() {
  local h4=$NETNS_SERVER4 h6=$NETNS_SERVER6 timeout_s=3
  block_setup nonat
  if [[ $mode == ftpalgd* ]]; then
    e2e_daemon_stop
    e2e_daemon_start --pinhole-timeout "$timeout_s"
  fi
  e2e_server_start fake
  netns_spawn third python3 "$here/ftp_driver.py" listen --addr "$NETNS_THIRD4" --port 50021 \
    --log "$E2E_TMP/third.log"
  netns_exec third timeout 30 bash -c 'until ss -Hltn "sport = :50021" | grep -q .; do sleep 0.1; done'
  NEG_EVENT='"reason":"bounce_address"' neg bounce neg/v4/bounce --host "$h4" --third "$NETNS_THIRD4"
  if [[ -s $E2E_TMP/third.log ]]; then
    verdict neg/v4/bounce-third-host 0 0 "the third host saw: $(head -c 200 "$E2E_TMP/third.log")"
  fi
  NEG_EVENT='"reason":"low_port"' neg lowport neg/v4/low-port --host "$h4"
  NEG_EVENT='"reason":"wrong_direction"' neg client227 neg/v4/client-227 --host "$h4"
  NEG_EVENT='"reason":"unsolicited"' neg unsolicited227 neg/v4/unsolicited-227 --host "$h4"
  NEG_EVENT='' neg unannounced neg/v4/unannounced-port --host "$h4"
  NEG_EVENT='' neg singleuse neg/v4/single-use --host "$h4"
  NEG_EVENT='' neg split neg/v4/split-1-byte --host "$h4"
  NEG_EVENT='' neg split neg/v6/split-1-byte --host "$h6"
  if [[ $mode == ftpalgd* ]]; then
    NEG_EVENT='' neg timeout neg/v4/pinhole-timeout --host "$h4" --wait "$((timeout_s + 2))"
  else
    e2e_result neg/v4/pinhole-timeout skip 0 \
      "in-kernel ftp expectations live 300 s (fixed helper policy); not waited for"
  fi
  # Fail-closed: no ALG on the gateway. Mode ftpalgd: the daemon stopped, first with the queue
  # rules as installed (no bypass: control blocked too), then with --queue-bypass (control
  # passes, data must not). Mode ftpalgd-expect: the daemon stopped with SIGTERM (the helper is
  # disabled: control passes unqueued, no expectation, so no data), then killed with SIGKILL
  # (the helper stays enabled with no reader: new control connections are never confirmed).
  # Mode kernel-helper: the helper rules removed.
  if [[ $mode == ftpalgd-expect ]]; then
    e2e_daemon_stop
    NEG_EVENT='' neg failclosed neg/v4/fail-closed-stopped --host "$h4"
    e2e_daemon_start --pinhole-timeout "$timeout_s"
    e2e_daemon_stop KILL
    NEG_EVENT='' neg failclosed neg/v4/fail-closed-killed --host "$h4"
  elif [[ $mode == ftpalgd ]]; then
    e2e_daemon_stop
    NEG_EVENT='' neg failclosed neg/v4/fail-closed-no-bypass --host "$h4"
    e2e_gw_queue_rules del
    e2e_gw_queue_rules add bypass
    NEG_EVENT='' neg failclosed neg/v4/fail-closed-bypass --host "$h4"
  else
    netns_exec gw timeout 10 nft flush chain inet e2e helper
    NEG_EVENT='' neg failclosed neg/v4/fail-closed --host "$h4"
  fi
}

# Several blocks in one call (--block "nonat4 masq4 ... negative", the qemu lane): one topology,
# one driver and one ftpalgd for all of them, each block re-routing the topology, replacing the
# gateway's table and flushing its conntrack table first (under TCG building the namespaces and
# starting the daemon cost ~40 s a block). The negative block, which stops and kills the daemon,
# runs last. Every block still ends with its own late-syn/BLOCK line.
read -ra blocks <<<"$block"
ordered=()
for b in "${blocks[@]}"; do [[ $b == negative ]] || ordered+=("$b"); done
for b in "${blocks[@]}"; do [[ $b != negative ]] || ordered+=("$b"); done
E2E_TOPO=''
for b in "${ordered[@]}"; do
  case $b in
    nonat4 | nonat6 | masq4 | masq6 | dnat4 | dnat6 | both4 | negative) ;;
    *) e2e_die "unknown block $b" ;;
  esac
done
for block in "${ordered[@]}"; do
  t_block=$EPOCHREALTIME
  late_total=0
  e2e_log "mode $mode, block $block, namespaces $NETNS_PREFIX*, scratch $E2E_TMP"
  case $block in
    nonat4) positive_block nonat 4 ;;
    nonat6) positive_block nonat 6 ;;
    masq4) positive_block masq 4 ;;
    masq6) positive_block masq 6 ;;
    dnat4) positive_block dnat 4 ;;
    dnat6) positive_block dnat 6 ;;
    both4) positive_block both 4 ;;
    negative) negative_block ;;
  esac

  if ((late_total == 0)); then
    e2e_result "late-syn/$block" pass "$(e2e_elapsed "$t_block")" "late data SYNs: 0"
  else
    e2e_result "late-syn/$block" fail "$(e2e_elapsed "$t_block")" "late data SYNs: $late_total"
    failures=$((failures + 1))
  fi
  e2e_log "block $block ($mode): $failures failure(s) so far, late SYNs $late_total, $(e2e_elapsed "$t_block") s"
done
trap - ERR
exit $((failures == 0 ? 0 : 1))
