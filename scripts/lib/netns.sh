# shellcheck shell=bash
# Network namespaces for ftpalg's demo, golden recorder, end-to-end and kernel adapter tests:
# the one library that creates namespaces, links, addresses and routes. Source it; do not run.
#
# Every namespace this library creates is named "${NETNS_PREFIX}<role>" (roles: client, gw,
# server, third). The prefix is unique per run (default ftpalg-<pid>-; callers set their own,
# still with their pid), so parallel runs do not collide and netns_cleanup removes exactly what
# this run made, also on failure or a signal (netns_install_trap). Addresses come only from the
# one plan, scripts/lib/netns-plan.sh (sourced here: NETNS_CLIENT4, NETNS_SERVER6, ...), inside
# 198.18.0.0/15 and 2001:db8::/32; no namespace has a default route. Topologies:
#   netns_topology_pair          client - server on one veth link ("veth0" on both ends), the
#                                plan's client and server addresses with on-link /15 and /46.
#   netns_topology_gw ROUTES     client - gw - server, plus a third host behind the gateway:
#
#   client 198.18.1.2/24      cli0 | gw | srv0            server 198.19.1.2/24
#          2001:db8:1::2/64   198.18.1.1 | 198.19.1.1            2001:db8:2::2/64
#                             2001:db8:1::1 | 2001:db8:2::1
#                             public (DNAT) 198.18.1.10, 2001:db8:1::10 on cli0
#                                  thr0 | 198.19.2.1, 2001:db8:3::1
#                                       third 198.19.2.3/24 2001:db8:3::3/64 (bounce target)
#
#   The interface towards the gateway is "veth0" in client, server and third. The gateway
#   forwards; NAT and nftables on it are left to the caller. ROUTES makes an address the
#   gateway failed to translate unreachable instead of silently working:
#     nonat  client and server route to each other through gw
#     masq   client routes to the server; the server knows only its own link
#     dnat   client knows only its own link (it dials the public address); the server routes back
#     both   neither routes to the other side
#   The server and the third host always route to each other. No namespace has a default route.
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

# shellcheck source=scripts/lib/netns-plan.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns-plan.sh"

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
  netns_addr client veth0 "$NETNS_CLIENT4/$NETNS_FLAT_LEN4" "$NETNS_CLIENT6/$NETNS_FLAT_LEN6"
  netns_addr server veth0 "$NETNS_SERVER4/$NETNS_FLAT_LEN4" "$NETNS_SERVER6/$NETNS_FLAT_LEN6"
  netns_wait_reachable client "$NETNS_SERVER4"
  netns_wait_reachable client "$NETNS_SERVER6"
}

# netns_topology_gw ROUTES: client - gw - server + third, with the routes of ROUTES (nonat,
# masq, dnat, both; see the head of this file). Transmit checksum offload is off on the client
# and server links, so captures taken there carry valid checksums.
netns_topology_gw() {
  local routes=$1 role l4=$NETNS_LINK_LEN4 l6=$NETNS_LINK_LEN6
  local -A cmds=()
  case $routes in
    nonat | masq | dnat | both) ;;
    *) netns_log "netns_topology_gw: unknown routes '$routes'"; return 2 ;;
  esac
  # One `ip -batch` for the namespaces and links and one per namespace for its addresses and
  # routes (the same commands as netns_create, netns_link, netns_addr and netns_route, fewer
  # processes: each costs dearly under qemu's TCG, where the end-to-end suite also runs).
  for role in client gw server third; do echo "netns add $(netns_name "$role")"; done |
    ip -batch - || return 1
  for role in client gw server third; do
    # IPv6 DAD and router solicitations off before the links exist (netns_create: the new
    # interfaces take the defaults); the gateway forwards.
    local fwd=''
    [[ $role == gw ]] && fwd='net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1'
    # shellcheck disable=SC2086 # fwd: several assignments or none
    ip netns exec "$(netns_name "$role")" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
      net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.router_solicitations=0 \
      net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.default.accept_ra=0 $fwd
  done
  {
    echo "link add veth0 netns $(netns_name client) type veth peer name cli0 netns $(netns_name gw)"
    echo "link add srv0 netns $(netns_name gw) type veth peer name veth0 netns $(netns_name server)"
    echo "link add thr0 netns $(netns_name gw) type veth peer name veth0 netns $(netns_name third)"
  } | ip -batch - || return 1
  cmds[client]="link set lo up
link set veth0 up
addr add $NETNS_CLIENT4/$l4 dev veth0
addr add $NETNS_CLIENT6/$l6 dev veth0 nodad"
  cmds[gw]="link set lo up
link set cli0 up
link set srv0 up
link set thr0 up
addr add $NETNS_GW_CLI4/$l4 dev cli0
addr add $NETNS_GW_CLI6/$l6 dev cli0 nodad
addr add $NETNS_PUBLIC4/32 dev cli0
addr add $NETNS_PUBLIC6/128 dev cli0 nodad
addr add $NETNS_GW_SRV4/$l4 dev srv0
addr add $NETNS_GW_SRV6/$l6 dev srv0 nodad
addr add $NETNS_GW_THR4/$l4 dev thr0
addr add $NETNS_GW_THR6/$l6 dev thr0 nodad"
  cmds[server]="link set lo up
link set veth0 up
addr add $NETNS_SERVER4/$l4 dev veth0
addr add $NETNS_SERVER6/$l6 dev veth0 nodad
route add $NETNS_THIRD_SIDE4 via $NETNS_GW_SRV4
route add $NETNS_THIRD_SIDE6 via $NETNS_GW_SRV6"
  # The third host and the server reach each other in every scenario (a bounce must be
  # stopped by the gateway's ALG, not by a missing route).
  cmds[third]="link set lo up
link set veth0 up
addr add $NETNS_THIRD4/$l4 dev veth0
addr add $NETNS_THIRD6/$l6 dev veth0 nodad
route add $NETNS_ALL4 via $NETNS_GW_THR4
route add $NETNS_ALL6 via $NETNS_GW_THR6"
  case $routes in
    nonat | masq)
      cmds[client]+="
route add $NETNS_SERVER_SIDE4 via $NETNS_GW_CLI4
route add $NETNS_SERVER_SIDE6 via $NETNS_GW_CLI6
route add $NETNS_THIRD_SIDE6 via $NETNS_GW_CLI6"
      ;;
  esac
  case $routes in
    nonat | dnat)
      cmds[server]+="
route add $NETNS_CLIENT_SIDE4 via $NETNS_GW_SRV4
route add $NETNS_CLIENT_SIDE6 via $NETNS_GW_SRV6"
      ;;
  esac
  for role in client gw server third; do
    ip -n "$(netns_name "$role")" -batch - <<<"${cmds[$role]}" || return 1
  done
  for role in client server; do netns_csum_off "$role" veth0; done
  netns_wait_reachable client "$NETNS_GW_CLI4"
  netns_wait_reachable client "$NETNS_GW_CLI6"
  netns_wait_reachable server "$NETNS_GW_SRV4"
  netns_wait_reachable server "$NETNS_GW_SRV6"
}

# netns_gw_routes FROM TO: changes the routes of a netns_topology_gw topology built with ROUTES
# FROM to those of ROUTES TO.
netns_gw_routes() {
  local from=$1 to=$2 c='' s=''
  case $from in
    nonat | masq) c+="route del $NETNS_SERVER_SIDE4 via $NETNS_GW_CLI4
route del $NETNS_SERVER_SIDE6 via $NETNS_GW_CLI6
route del $NETNS_THIRD_SIDE6 via $NETNS_GW_CLI6
" ;;
  esac
  case $from in
    nonat | dnat) s+="route del $NETNS_CLIENT_SIDE4 via $NETNS_GW_SRV4
route del $NETNS_CLIENT_SIDE6 via $NETNS_GW_SRV6
" ;;
  esac
  case $to in
    nonat | masq) c+="route add $NETNS_SERVER_SIDE4 via $NETNS_GW_CLI4
route add $NETNS_SERVER_SIDE6 via $NETNS_GW_CLI6
route add $NETNS_THIRD_SIDE6 via $NETNS_GW_CLI6
" ;;
    dnat | both) ;;
    *) netns_log "netns_gw_routes: unknown routes '$to'"; return 2 ;;
  esac
  case $to in
    nonat | dnat) s+="route add $NETNS_CLIENT_SIDE4 via $NETNS_GW_SRV4
route add $NETNS_CLIENT_SIDE6 via $NETNS_GW_SRV6
" ;;
  esac
  if [[ -n $c ]]; then ip -n "$(netns_name client)" -batch - <<<"$c" || return 1; fi
  if [[ -n $s ]]; then ip -n "$(netns_name server)" -batch - <<<"$s" || return 1; fi
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
