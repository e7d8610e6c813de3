#!/bin/bash
# A stale announcement does not divert a published port (root, network namespaces).
#
#   client -- gw -- server, third; addresses from scripts/lib/netns-plan.sh (routes: masq)
#
# The admin publishes gw:8080 (the gateway's server-side address) to the third host with a DNAT
# rule. A client behind the gateway announces that same public address and port (PORT), so
# ftpalg's pinhole table gets a pin and a NAT map element "server -> gw:8080 => client:6000".
# Only one connection from the server may follow that element (single use, like the pin); the
# next ones must reach the published service on the third host.
#
# usage: published_port_test.sh <path to adapter_probe>
set -euo pipefail

PROBE=${1:?usage: $0 <adapter_probe>}
PROBE=$(readlink -f "$PROBE")
repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
MARK=0xf7a1
T=10
FAILED=0

log() { printf '%s\n' "$*"; }
if [[ $(id -u) -ne 0 ]]; then
  log "SKIP: needs root"
  exit 77
fi
PYTHON=$(command -v python3)

export NETNS_PREFIX="ftpp-$$-"
# shellcheck source=scripts/lib/netns.sh
. "$repo/scripts/lib/netns.sh"
netns_install_trap ''

in_ns() { local role=$1; shift; timeout "$T" ip netns exec "$(netns_name "$role")" "$@"; }

netns_topology_gw masq
in_ns gw nft -f - <<NFT
table inet fw {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct mark $MARK accept
    ip daddr $NETNS_THIRD4 tcp dport 8080 accept
  }
}
table inet nat {
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "srv0" ip daddr $NETNS_GW_SRV4 tcp dport 8080 dnat ip to $NETNS_THIRD4:8080
  }
}
NFT

# shellcheck source=tests/netns/lib/listener.sh
. "$repo/tests/netns/lib/listener.sh"

listen client 6000 diverted
listen third 8080 published
for _ in $(seq 50); do
  if in_ns client ss -Hltn 'sport = :6000' | grep -q LISTEN &&
     in_ns third ss -Hltn 'sport = :8080' | grep -q LISTEN; then break; fi
  sleep 0.1
done

[[ $(greeting server "$NETNS_GW_SRV4" 8080) == published ]] || { log "FAIL - published port"; exit 1; }
in_ns gw "$PROBE" --table ftpalg --mark "$MARK" --timeout 30000 install
in_ns gw "$PROBE" --table ftpalg --mark "$MARK" --timeout 30000 admit \
  "$NETNS_SERVER4" "$NETNS_GW_SRV4" 8080 "$NETNS_CLIENT4" 6000 >/dev/null
got=()
for _ in 1 2 3; do got+=("$(greeting server "$NETNS_GW_SRV4" 8080)"); done
diverted=0
for g in "${got[@]}"; do [[ $g == diverted ]] && diverted=$((diverted + 1)); done
log "connections to the published port after the announcement: ${got[*]} ($diverted diverted)"
if [[ ${got[0]} == diverted ]]; then log "ok   - the announced connection is steered"; else
  log "FAIL - the announced connection is steered"; FAILED=1; fi
if [[ ${got[1]} == published && ${got[2]} == published ]]; then
  log "ok   - later connections reach the published port"; else
  log "FAIL - later connections reach the published port"; FAILED=1; fi
exit $FAILED
