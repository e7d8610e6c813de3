#!/usr/bin/env bash
# The gateway side of the end-to-end benchmark, one step per call (the orchestrator bench.py
# calls it between rounds); the namespaces exist already: NETNS_PREFIX names them.
#   gw.sh rules CONFIG     CONFIG ftpalgd|ftpalgd-2q|null|null-2q|helper|noqueue: table inet e2e
#                          (tests/netns/lib/e2e.sh, routes nonat) and the NFQUEUE rules for it,
#                          conntrack table flushed
# Two queues spread connections, not address pairs (one client address talks to one server
# here): HMARK puts a symmetric hash of the 5-tuple into the packet mark (both directions of a
# connection get the same mark), one NFQUEUE rule per mark value sends it to its queue. Kernels
# with the nft queue statement would say `queue flags bypass to symhash mod 2 offset Q`.
# Needs E2E_QUEUE (the first queue; -2q configurations balance over it and the next one).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$here/../../.." && pwd)
: "${NETNS_PREFIX:?}" "${E2E_QUEUE:?}"
# shellcheck source=scripts/lib/netns.sh
. "$repo/scripts/lib/netns.sh"
# shellcheck source=tests/netns/lib/e2e.sh
. "$repo/tests/netns/lib/e2e.sh"
export E2E_TMP=${E2E_TMP:-/tmp}

# queue_rules add|del SPEC: iptables-nft mangle FORWARD rules queueing both directions of port 21
# (SPEC: --queue-num N or --queue-balance N:M); del ignores rules that are not there.
queue_rules() {
  local op=-A ipt dir
  [[ $1 == del ]] && op=-D
  for ipt in iptables ip6tables; do
    for dir in --dport --sport; do
      # shellcheck disable=SC2086 # SPEC is two words
      netns_exec gw timeout 10 "$ipt" -t mangle "$op" FORWARD -p tcp "$dir" 21 -j NFQUEUE $2 \
        2>/dev/null || [[ $1 == del ]]
    done
  done
}

# spread_rules add|del: both directions of port 21 over queues E2E_QUEUE and E2E_QUEUE+1 by a
# symmetric 5-tuple hash (HMARK into the packet mark, then a mark match per queue).
spread_rules() {
  local op=-A ipt dir q
  [[ $1 == del ]] && op=-D
  for ipt in iptables ip6tables; do
    for dir in --dport --sport; do
      netns_exec gw timeout 10 "$ipt" -t mangle "$op" FORWARD -p tcp "$dir" 21 -j HMARK \
        --hmark-tuple src,dst,sport,dport,proto --hmark-mod 2 --hmark-offset "$E2E_QUEUE" \
        --hmark-rnd 0x5eed 2>/dev/null || [[ $1 == del ]]
      for q in "$E2E_QUEUE" "$((E2E_QUEUE + 1))"; do
        netns_exec gw timeout 10 "$ipt" -t mangle "$op" FORWARD -p tcp "$dir" 21 -m mark \
          --mark "$q" -j NFQUEUE --queue-num "$q" 2>/dev/null || [[ $1 == del ]]
      done
    done
  done
}

rules() {
  local cfg=$1
  queue_rules del "--queue-num $E2E_QUEUE"
  spread_rules del
  netns_exec gw nft delete table inet e2e 2>/dev/null || true
  case $cfg in
    ftpalgd) e2e_gw_setup ftpalgd nonat ;;  # adds the --queue-num rules itself
    ftpalgd-2q)
      e2e_gw_ruleset ftpalgd nonat | netns_exec gw nft -f -
      spread_rules add
      ;;
    helper) e2e_gw_setup kernel-helper nonat ;;
    null) queue_rules add "--queue-num $E2E_QUEUE" ;;
    null-2q) spread_rules add ;;
    noqueue) ;;
    *) e2e_die "unknown configuration $cfg" ;;
  esac
  netns_exec gw conntrack -F >/dev/null 2>&1 || true
}

case ${1:-} in
  rules) rules "${2:?configuration}" ;;
  *) echo "usage: $0 rules CONFIG" >&2; exit 2 ;;
esac
