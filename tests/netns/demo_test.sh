#!/bin/bash
# The main job, scripts/demo.sh, against the built tree (root, network namespaces): it must
# show what it claims (README, "Quick start"):
#   - four transfers (IPv4 and IPv6, active and passive), each download and upload SHA-256
#     equal, "all transfers ok", exit status 0;
#   - ftpalgd's events: the announcements of each of PORT, EPRT, 227 and 229 admitted with a
#     pinhole, and none refused;
#   - the pinhole table inet ftpalg_q0 and the data SYNs: at least 8 admitted (a download and an
#     upload per transfer), none dropped before its pinhole;
#   - `ftpalg replay` of tests/data/sample-ftp.pcap: events whose announcements the SNAT
#     rewrote to 198.51.100.7;
#   - cleanup: within the time bound, and afterwards no namespace, daemon or scratch directory
#     of the demo is left (also when it failed or ran out of time).
# The demo neither installs nor builds here (demo.sh --ftpalgd PATH --ftpalg PATH).
#
# usage: demo_test.sh <ftpalgd> <ftpalg>
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd> <ftpalg>}")
FTPALG=$(readlink -f "${2:?usage: $0 <ftpalgd> <ftpalg>}")
repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
LIMIT=${DEMO_TEST_SECONDS:-240}

# The frame of the gateway tests for log/ok/fail and the root check (the demo builds its own
# gateway, namespaces ftdemo-*, so nothing else of the frame is used).
GW_TEST_TAG=demo
# shellcheck source=tests/netns/lib/gw_test.sh
. "$repo/tests/netns/lib/gw_test.sh"
gw_test_require_root
for tool in vsftpd lftp nft iptables conntrack; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || {
    log "SKIP: $tool missing (scripts/install-deps.sh netns)"
    exit 77
  }
done

demo_namespaces() { ip netns list 2>/dev/null | awk '$1 ~ /^ftdemo-/ { print $1 }' | sort; }
demo_dirs() { find /tmp -maxdepth 1 -name 'ftpalg-demo.*' 2>/dev/null | sort; }
NS_BEFORE=$(demo_namespaces)
DIRS_BEFORE=$(demo_dirs)
OUT=$(mktemp /tmp/ftpalg-demo-test.XXXXXX)
# What the demo left (none when it cleaned up): namespaces and scratch directories that were
# not there before it ran.
leftover() { comm -13 <(printf '%s\n' "$1") <(printf '%s\n' "$2") | sed '/^$/d'; }
# shellcheck disable=SC2317 # run by the exit trap
on_exit() {
  local ns
  for ns in $(leftover "$NS_BEFORE" "$(demo_namespaces)"); do ip netns del "$ns" || true; done
  rm -f "$OUT"
}
trap on_exit EXIT

start=$(date +%s)
rc=0
timeout -k 10 "$LIMIT" bash "$repo/scripts/demo.sh" --ftpalgd "$FTPALGD" --ftpalg "$FTPALG" \
  </dev/null >"$OUT" 2>&1 || rc=$?
secs=$(($(date +%s) - start))
sed 's/^/  | /' "$OUT"
log "demo.sh: exit status $rc after $secs s (bound $LIMIT s)"

if [[ $rc -eq 0 ]]; then ok "exit status 0"; else fail "exit status $rc (124: out of time)"; fi
n=$(grep -c '^ok: download and upload match by SHA-256$' "$OUT" || true)
if [[ $n -eq 4 ]]; then ok "four transfers, each SHA-256 equal both ways"; else
  fail "$n of 4 transfers SHA-256 equal"; fi
if grep -q 'all transfers ok' "$OUT" && ! grep -q 'FAILED' "$OUT"; then
  ok "all transfers ok, nothing FAILED"
else
  fail "the demo reports a failed transfer"
fi

# The event lines the demo prints: "  DIR KIND announced A -> B VERDICT/REASON  pinhole ...".
for kind in port eprt pasv227 epsv229; do
  if grep -Eq "^  [a-z0-9]+ $kind +announced .* admit/[a-z_]+  pinhole " "$OUT"; then
    ok "event: $kind admitted with a pinhole"
  else
    fail "no $kind event admitted with a pinhole"
  fi
done
if grep -Eq '^  [a-z0-9]+ [a-z0-9]+ +announced .* refuse/' "$OUT"; then
  fail "an announcement was refused: $(grep -E ' refuse/' "$OUT" | head -n 3)"
else
  ok "no announcement refused"
fi
if grep -q '^table inet ftpalg_q0 {' "$OUT"; then ok "the pinhole table is shown"; else
  fail "no pinhole table in the output"; fi
read -r admitted dropped late < <(sed -n \
  's/^data SYNs admitted: \([0-9]*\), dropped: \([0-9]*\), dropped before their pinhole: \([0-9]*\)$/\1 \2 \3/p' \
  "$OUT") || true
log "data SYNs: ${admitted:-?} admitted, ${dropped:-?} dropped, ${late:-?} before their pinhole"
if [[ ${admitted:-0} -ge 8 && ${late:-x} == 0 ]]; then
  ok "at least 8 data connections admitted, none dropped before its pinhole"
else
  fail "data SYNs: admitted ${admitted:-?} (want >= 8), late ${late:-?} (want 0)"
fi

# The replay: JSON event lines after its heading, announcements rewritten to the SNAT address.
replay=$(sed -n '/^== ftpalg replay /,$p' "$OUT" | grep '^{' || true)
rewritten=$(grep -c '"rewritten":"198.51.100.7:' <<<"$replay" || true)
log "replay: $(grep -c . <<<"$replay" || true) event lines, $rewritten rewritten to 198.51.100.7"
if [[ $rewritten -ge 1 ]]; then ok "replay: announcements rewritten for the SNAT address"; else
  fail "replay: no announcement rewritten to 198.51.100.7"; fi

# A demo ended by the time bound cleans up in its exit trap still: give that up to 10 s.
for _ in $(seq 20); do
  [[ -z $(leftover "$NS_BEFORE" "$(demo_namespaces)") ]] && break
  sleep 0.5
done
left_ns=$(leftover "$NS_BEFORE" "$(demo_namespaces)")
left_dirs=$(leftover "$DIRS_BEFORE" "$(demo_dirs)")
daemon_pid=$(sed -n 's/^ftpalgd running in the gateway (pid \([0-9]*\)).*/\1/p' "$OUT")
if [[ -z $left_ns && -z $left_dirs ]]; then ok "no namespace or scratch directory left"; else
  fail "left behind: $left_ns $left_dirs"
  for d in $left_dirs; do rm -rf "$d"; done
fi
if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
  fail "ftpalgd (pid $daemon_pid) still runs"
  kill -KILL "$daemon_pid" 2>/dev/null || true
elif [[ -n $daemon_pid ]]; then
  ok "ftpalgd (pid $daemon_pid) ended"
else
  fail "the demo did not say which ftpalgd it started"
fi

((FAILED == 0)) && log "PASS"
exit "$FAILED"
