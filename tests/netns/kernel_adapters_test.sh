#!/bin/bash
# Kernel adapter tests in network namespaces (root): PinholeTable (nftables) and Conntrack.
#
#   client -- gw -- server (+ third, unused), addresses and routes from scripts/lib/netns.sh
#   (netns_topology_gw nonat: client and server route to each other through gw)
#
# The gateway forwards with a default-drop forward chain in its own table that accepts only
# established traffic, ftpalg's conntrack mark and the test's "control" port 2121. It
# masquerades what leaves towards the server. No route leaves the namespaces.
#
# usage: kernel_adapters_test.sh <path to adapter_probe>
set -euo pipefail

PROBE=${1:?usage: $0 <adapter_probe>}
PROBE=$(readlink -f "$PROBE")
repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
MARK=0xf7a1
TABLE=ftpalg
T=10  # seconds for one step
FAILED=0
PASSED=0

log() { printf '%s\n' "$*"; }
ok() { PASSED=$((PASSED + 1)); log "ok   - $1"; }
bad() { FAILED=$((FAILED + 1)); log "FAIL - $1"; }

if [[ $(id -u) -ne 0 ]]; then
  log "SKIP: needs root"
  exit 77
fi
bash "$repo/scripts/install-deps.sh" netns
PYTHON=$(command -v python3)

export NETNS_PREFIX="ftka-$$-"
# shellcheck source=scripts/lib/netns.sh
. "$repo/scripts/lib/netns.sh"
netns_install_trap ''  # nothing to clean up beyond the namespaces and their processes

# in_ns ROLE CMD...: CMD in ROLE's namespace, bounded by $T seconds.
in_ns() { local role=$1; shift; timeout "$T" ip netns exec "$(netns_name "$role")" "$@"; }
probe() { in_ns gw "$PROBE" --table "$TABLE" --mark "$MARK" "$@"; }

# --- Topology ---------------------------------------------------------------------------------
setup() {
  netns_topology_gw nonat
  in_ns gw nft -f - <<NFT
table inet fw {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct mark $MARK accept
    tcp dport 2121 accept
  }
}
table inet nat {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "srv0" tcp sport != 2121 masquerade
  }
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "srv0" ip daddr $NETNS_GW_SRV4 tcp dport 8021 dnat ip to $NETNS_CLIENT4:2121
    iifname "srv0" ip6 daddr $NETNS_GW_SRV6 tcp dport 8021 dnat ip6 to [$NETNS_CLIENT6]:2121
  }
}
NFT
}

# A listener on every address of a namespace: accepts forever, answers each connection with
# "hello <peer address>\n" and keeps it open for a few seconds (conntrack tests).
listen() {
  local ns=$1 port=$2
  ip netns exec "$(netns_name "$ns")" "$PYTHON" - "$port" <<'PY' &
import socket, sys, threading, time
port = int(sys.argv[1])
srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
srv.bind(("::", port))
srv.listen(64)
def serve(c, peer):
    host = peer[0].removeprefix("::ffff:")
    c.sendall(("hello %s\n" % host).encode())
    time.sleep(6)
    c.close()
while True:
    c, peer = srv.accept()
    threading.Thread(target=serve, args=(c, peer), daemon=True).start()
PY
  NETNS_PIDS+=($!)
}

# connect NS ADDR PORT [SRCPORT] [HOLD]: prints the greeting; exit 1 when no connection within
# 1.5 s. HOLD seconds keeps the connection open before closing (in the background).
connect() {
  local ns=$1 addr=$2 port=$3 sport=${4:-0} hold=${5:-0}
  in_ns "$ns" "$PYTHON" - "$addr" "$port" "$sport" "$hold" <<'PY'
import socket, sys, time
addr, port, sport, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if sport:
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport))
s.settimeout(1.5)
try:
    s.connect((addr, port))
    print(s.recv(100).decode().strip(), flush=True)
except OSError as e:
    print("no connection: %s" % e, file=sys.stderr)
    sys.exit(1)
time.sleep(hold)
PY
}

wait_listening() {
  local ns=$1 port=$2
  for _ in $(seq 50); do
    if in_ns "$ns" ss -Hltn "sport = :$port" | grep -q LISTEN; then return 0; fi
    sleep 0.1
  done
  return 1
}

expect_blocked() {  # name ns addr port
  if connect "$2" "$3" "$4" >/dev/null 2>&1; then bad "$1"; else ok "$1"; fi
}
expect_reaches() {  # name ns addr port expected-greeting
  local got
  if got=$(connect "$2" "$3" "$4" 2>/dev/null) && [[ $got == "$5" ]]; then
    ok "$1"
  else
    bad "$1 (got '${got:-nothing}', want '$5')"
  fi
}

# --- (a) PinholeTable ---------------------------------------------------------------------------
test_pinholes() {
  if probe --timeout 5000 install; then ok "install"; else bad "install"; return; fi
  if probe --timeout 5000 install; then ok "install replaces a stale table"; else bad "reinstall"; fi
  local live described
  live=$(in_ns gw nft list table inet "$TABLE" | sed -E 's/ packets [0-9]+ bytes [0-9]+//')
  described=$(probe --timeout 5000 describe)
  if [[ $live == "$described" ]]; then ok "describe() equals nft list"; else
    bad "describe() differs from nft list"; diff <(echo "$live") <(echo "$described") || true
  fi
  if in_ns gw nft -c -f - <<<"$described"; then ok "describe() is valid nft -f input"; else
    bad "describe() is not valid nft -f input"; fi

  local fam src dst pub cli
  for fam in 4 6; do
    if [[ $fam == 4 ]]; then src=$NETNS_CLIENT4 dst=$NETNS_SERVER4 pub=$NETNS_GW_SRV4 cli=$NETNS_CLIENT4
    else src=$NETNS_CLIENT6 dst=$NETNS_SERVER6 pub=$NETNS_GW_SRV6 cli=$NETNS_CLIENT6; fi
    expect_blocked "ipv$fam: data port blocked before admit" client "$dst" 5000
    local out
    if out=$(probe --timeout 5000 admit "$src" "$dst" 5000); then ok "ipv$fam: admit ($out)"; else
      bad "ipv$fam: admit"; fi
    # Masquerade on the way out: the server sees the gateway.
    expect_reaches "ipv$fam: admitted connection passes" client "$dst" 5000 "hello $pub"
    expect_blocked "ipv$fam: second connection blocked (single use)" client "$dst" 5000
    probe --timeout 1000 admit "$src" "$dst" 5000 >/dev/null || bad "ipv$fam: admit 1000 ms"
    sleep 1.5
    expect_blocked "ipv$fam: blocked after the timeout" client "$dst" 5000

    # Active mode through masquerade: the server dials the gateway's public address; the NAT
    # map steers it to the client behind it.
    expect_blocked "ipv$fam: active data connection blocked before admit" server "$pub" 40000
    if probe --timeout 5000 admit "$dst" "$pub" 40000 "$cli" 6000 >/dev/null; then
      ok "ipv$fam: admit with natTo"; else bad "ipv$fam: admit with natTo"; fi
    expect_reaches "ipv$fam: active data connection steered to the client" server "$pub" 40000 \
      "hello $dst"

    # Active mode with the server behind DNAT: its data connection must also leave with the
    # public source address (the source NAT map), which the client sees as its peer.
    local snat
    if [[ $fam == 4 ]]; then snat=$NETNS_SNAT4; else snat=$NETNS_SNAT6; fi
    if probe --timeout 5000 admit "$dst" "$pub" 40001 "$cli" 6001 "$snat" >/dev/null; then
      ok "ipv$fam: admit with natTo and source NAT"; else
      bad "ipv$fam: admit with natTo and source NAT"; fi
    expect_reaches "ipv$fam: active data connection arrives from the source NAT address" \
      server "$pub" 40001 "hello $snat"
  done

  local bench
  if bench=$(probe --timeout 30000 bench 2000); then ok "admit latency: $bench"; else
    bad "admit bench"; fi
  if probe remove && ! in_ns gw nft list table inet "$TABLE" >/dev/null 2>&1; then
    ok "remove"; else bad "remove"; fi
  if probe remove; then ok "remove without a table"; else bad "remove without a table"; fi
  if probe admit "$NETNS_CLIENT4" "$NETNS_SERVER4" 5000 2>/dev/null; then
    bad "admit without a table fails"; else ok "admit without a table fails"; fi
}

# --- (b) Conntrack -------------------------------------------------------------------------------
expect_resolve() {  # name client cport server sport expected-output [expected-rc]
  local got rc=0
  got=$(in_ns gw "$PROBE" resolve "$2" "$3" "$4" "$5") || rc=$?
  if [[ $rc == "${7:-0}" && $got == "$6" ]]; then ok "$1"; else
    bad "$1 (rc $rc, got '$got', want '$6')"; fi
}

# wait_ct FAM SPORT: until the gateway's conntrack shows the TCP connection from source port
# SPORT established (bounded: 5 s in 0.1 s steps; a loaded machine starts the client late).
wait_ct() {
  local _
  for _ in $(seq 50); do
    if in_ns gw conntrack -L -f "ipv$1" -p tcp --sport "$2" 2>/dev/null | grep -q ESTABLISHED
    then return 0; fi
    sleep 0.1
  done
  return 1
}

test_conntrack() {
  local fam cli srv pub sport=41000
  for fam in 4 6; do
    if [[ $fam == 4 ]]; then cli=$NETNS_CLIENT4 srv=$NETNS_SERVER4 pub=$NETNS_GW_SRV4
    else cli=$NETNS_CLIENT6 srv=$NETNS_SERVER6 pub=$NETNS_GW_SRV6; fi
    sport=$((sport + 1))
    # Masquerade: client -> server:2121, leaves as the gateway's public address.
    connect client "$srv" 2121 "$sport" 4 >/dev/null &
    NETNS_PIDS+=($!)
    wait_ct "$fam" "$sport" || bad "ipv$fam: conntrack entry from port $sport within 5 s"
    expect_resolve "ipv$fam: resolve through masquerade" "$cli" "$sport" "$srv" 2121 \
      "nat=1 clientInside=$cli clientOutside=$pub serverInside=$srv serverOutside=$srv"
    local out
    if out=$(in_ns gw "$PROBE" liberal "$cli" "$sport" "$srv" 2121) && [[ $out == liberal=ok ]]
    then ok "ipv$fam: setLiberal sets and reads back BE_LIBERAL both ways"; else
      bad "ipv$fam: setLiberal"; fi

    # Port forward: the server side dials gw:8021, DNAT to the client namespace's :2121.
    sport=$((sport + 1))
    connect server "$pub" 8021 "$sport" 4 >/dev/null &
    NETNS_PIDS+=($!)
    wait_ct "$fam" "$sport" || bad "ipv$fam: conntrack entry from port $sport within 5 s"
    expect_resolve "ipv$fam: resolve through a DNAT port forward" "$srv" "$sport" "$cli" 2121 \
      "nat=1 clientInside=$srv clientOutside=$srv serverInside=$pub serverOutside=$cli"

    # No NAT: the server side dials the client network directly.
    sport=$((sport + 1))
    connect server "$cli" 2121 "$sport" 4 >/dev/null &
    NETNS_PIDS+=($!)
    wait_ct "$fam" "$sport" || bad "ipv$fam: conntrack entry from port $sport within 5 s"
    expect_resolve "ipv$fam: resolve without NAT is false" "$srv" "$sport" "$cli" 2121 "nat=0" 3
    expect_resolve "ipv$fam: resolve of an unknown flow is false" "$srv" 1 "$cli" 2121 "nat=0" 3
  done
  if in_ns gw "$PROBE" liberal "$NETNS_CLIENT4" 1 "$NETNS_SERVER4" 2121 2>/dev/null; then
    bad "setLiberal on an unknown flow fails"; else ok "setLiberal on an unknown flow fails"; fi
}

setup
listen server 5000
listen server 2121
listen client 6000
listen client 6001
listen client 2121
for p in "server 5000" "server 2121" "client 6000" "client 6001" "client 2121"; do
  # shellcheck disable=SC2086
  wait_listening $p || { log "listener $p did not start"; exit 1; }
done
test_pinholes
test_conntrack
log "passed $PASSED, failed $FAILED"
[[ $FAILED == 0 ]]
