# shellcheck shell=bash
# Network namespaces for ftpalg's end-to-end scripts. Source this file; do not run it.
#
# Every namespace this library creates is named "${NETNS_PREFIX}<role>" (roles: client, gw,
# server). The prefix is unique per run (ftpalg-<pid>-), so parallel runs do not collide and
# netns_cleanup removes exactly what this run made. Addresses come only from 198.18.0.0/15 and
# 2001:db8::/32, and no namespace has a route beyond its own links (no default route).
#
# Topologies (the host addresses are the same in both):
#   netns_topology_pair:   client 198.18.0.2/15 2001:db8:1::2/46 == server 198.19.0.2/15 2001:db8:2::2/46
#                          (one veth link; both prefixes are on-link)
#   netns_topology_gw:     client 198.18.0.2/24 2001:db8:1::2/64
#                            == gw 198.18.0.1/24 2001:db8:1::1/64 (gw forwards, no NAT)
#                               gw 198.19.0.1/24 2001:db8:2::1/64
#                            == server 198.19.0.2/24 2001:db8:2::2/64
# The interface towards the peer is called "veth0" in client and server; the gateway has
# "cli0" (client side) and "srv0" (server side). NAT and nftables on the gateway are left to
# the caller.
#
# Usage:
#   . scripts/lib/netns.sh
#   netns_install_trap my_cleanup          # optional function run before the namespaces go
#   netns_topology_pair
#   netns_spawn server vsftpd "$conf"      # background, pid remembered for cleanup
#   netns_exec client curl ...             # foreground
#
# Safe under `set -euo pipefail`. Requires root, iproute2, bash and coreutils timeout.

NETNS_PREFIX=${NETNS_PREFIX:-ftpalg-$$-}
NETNS_PIDS=()
NETNS_OWNER_PID=$BASHPID

NETNS_CLIENT_V4=198.18.0.2
NETNS_SERVER_V4=198.19.0.2
NETNS_GW_CLIENT_V4=198.18.0.1
NETNS_GW_SERVER_V4=198.19.0.1
NETNS_CLIENT_V6=2001:db8:1::2
NETNS_SERVER_V6=2001:db8:2::2
NETNS_GW_CLIENT_V6=2001:db8:1::1
NETNS_GW_SERVER_V6=2001:db8:2::1

netns_log() { printf '[netns] %s\n' "$*" >&2; }

# netns_name ROLE: the namespace name for ROLE in this run.
netns_name() { printf '%s%s' "$NETNS_PREFIX" "$1"; }

# netns_exec ROLE CMD...: run CMD inside ROLE's namespace (foreground).
netns_exec() {
  local role=$1
  shift
  ip netns exec "$(netns_name "$role")" "$@"
}

# netns_spawn ROLE CMD...: start CMD in the background inside ROLE's namespace. The pid is
# remembered in NETNS_PIDS and in NETNS_LAST_PID; netns_cleanup ends it.
netns_spawn() {
  local role=$1
  shift
  # The child must not run the caller's traps if a signal lands before exec.
  (
    trap - EXIT INT TERM
    exec ip netns exec "$(netns_name "$role")" "$@"
  ) &
  NETNS_LAST_PID=$!
  NETNS_PIDS+=("$NETNS_LAST_PID")
}

# netns_create ROLE: a fresh namespace with loopback up, IPv6 DAD and router solicitations off.
netns_create() {
  local ns
  ns=$(netns_name "$1")
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0 \
    net.ipv6.conf.default.accept_ra=0
}

# netns_link ROLE_A IF_A ROLE_B IF_B: a veth pair between two namespaces, both ends up.
# Created directly inside the namespaces, so nothing appears in the caller's namespace.
netns_link() {
  local a b
  a=$(netns_name "$1")
  b=$(netns_name "$3")
  ip link add "$2" netns "$a" type veth peer name "$4" netns "$b"
  ip -n "$a" link set "$2" up
  ip -n "$b" link set "$4" up
}

# netns_addr ROLE IF CIDR...: add addresses (IPv6 ones without duplicate address detection).
netns_addr() {
  local ns dev cidr
  ns=$(netns_name "$1")
  dev=$2
  shift 2
  for cidr in "$@"; do
    case $cidr in
      *:*) ip -n "$ns" -6 addr add "$cidr" dev "$dev" nodad ;;
      *) ip -n "$ns" addr add "$cidr" dev "$dev" ;;
    esac
  done
}

# netns_csum_off ROLE IF: compute TCP/UDP checksums in software when sending on IF (no
# transmit checksum offload), so captures taken on a veth carry valid checksums. Needs ethtool.
netns_csum_off() {
  netns_exec "$1" ethtool -K "$2" tx off >/dev/null
}

# netns_route ROLE PREFIX VIA: a route to PREFIX through VIA (never a default route).
netns_route() {
  local ns
  ns=$(netns_name "$1")
  case $2 in
    *:*) ip -n "$ns" -6 route add "$2" via "$3" ;;
    *) ip -n "$ns" route add "$2" via "$3" ;;
  esac
}

# netns_wait_reachable FROM_ROLE ADDR: wait (bounded, about 5 s) until ADDR answers on the
# wire. Needs no ping: a TCP connect to the closed discard port gets a RST ("refused") once
# the path works.
netns_wait_reachable() {
  local err
  for _ in $(seq 1 50); do
    err=$(netns_exec "$1" timeout 1 bash -c "exec 3<>/dev/tcp/$2/9" 2>&1) || true
    case $err in *refused*) return 0 ;; esac
    sleep 0.1
  done
  netns_log "$2 not reachable from $1"
  return 1
}

# netns_topology_pair: client and server on one link.
netns_topology_pair() {
  netns_create client
  netns_create server
  netns_link client veth0 server veth0
  netns_addr client veth0 "$NETNS_CLIENT_V4/15" "$NETNS_CLIENT_V6/46"
  netns_addr server veth0 "$NETNS_SERVER_V4/15" "$NETNS_SERVER_V6/46"
  netns_wait_reachable client "$NETNS_SERVER_V4"
  netns_wait_reachable client "$NETNS_SERVER_V6"
}

# netns_topology_gw: client - gw - server, plain routing on the gateway (no NAT, no filter).
netns_topology_gw() {
  netns_create client
  netns_create gw
  netns_create server
  netns_link client veth0 gw cli0
  netns_link gw srv0 server veth0
  netns_addr client veth0 "$NETNS_CLIENT_V4/24" "$NETNS_CLIENT_V6/64"
  netns_addr gw cli0 "$NETNS_GW_CLIENT_V4/24" "$NETNS_GW_CLIENT_V6/64"
  netns_addr gw srv0 "$NETNS_GW_SERVER_V4/24" "$NETNS_GW_SERVER_V6/64"
  netns_addr server veth0 "$NETNS_SERVER_V4/24" "$NETNS_SERVER_V6/64"
  netns_exec gw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  netns_route client 198.18.0.0/15 "$NETNS_GW_CLIENT_V4"
  netns_route client 2001:db8::/32 "$NETNS_GW_CLIENT_V6"
  netns_route server 198.18.0.0/15 "$NETNS_GW_SERVER_V4"
  netns_route server 2001:db8::/32 "$NETNS_GW_SERVER_V6"
  netns_wait_reachable client "$NETNS_SERVER_V4"
  netns_wait_reachable client "$NETNS_SERVER_V6"
}

# netns_cleanup: end the processes this run started (remembered pids first, then anything
# still running inside this run's namespaces) and delete every namespace with this run's
# prefix. Safe to call more than once; never touches other namespaces.
netns_cleanup() {
  local pid ns pids
  # Only the shell that sourced this file cleans up (not a forked child inheriting a trap).
  [[ $BASHPID == "$NETNS_OWNER_PID" ]] || return 0
  for pid in "${NETNS_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ $ns == "$NETNS_PREFIX"* ]] || continue
    pids=$(ip netns pids "$ns" 2>/dev/null)
    if [[ -n $pids ]]; then
      # shellcheck disable=SC2086
      kill -TERM $pids 2>/dev/null || true
      for _ in $(seq 1 20); do
        [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break
        sleep 0.1
      done
      pids=$(ip netns pids "$ns" 2>/dev/null)
      # shellcheck disable=SC2086
      if [[ -n $pids ]]; then kill -KILL $pids 2>/dev/null || true; fi
    fi
    ip netns del "$ns" || netns_log "could not delete $ns"
  done
  for pid in "${NETNS_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  NETNS_PIDS=()
  return 0
}

# netns_install_trap [FUNC]: on exit, INT or TERM run FUNC (if given), then netns_cleanup.
# A signal ends the script with 128+signal after the cleanup.
netns_install_trap() {
  NETNS_EXTRA_CLEANUP=${1:-}
  trap '_netns_on_exit' EXIT
  trap '_netns_on_signal 130' INT
  trap '_netns_on_signal 143' TERM
}

_netns_on_exit() {
  local rc=$?
  [[ $BASHPID == "$NETNS_OWNER_PID" ]] || return 0
  if [[ -n ${NETNS_EXTRA_CLEANUP:-} ]]; then
    "$NETNS_EXTRA_CLEANUP" || true
  fi
  netns_cleanup
  return "$rc"
}

_netns_on_signal() {
  [[ $BASHPID == "$NETNS_OWNER_PID" ]] || exit "$1"
  trap - EXIT INT TERM
  _netns_on_exit
  exit "$1"
}
