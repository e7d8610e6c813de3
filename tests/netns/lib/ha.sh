# shellcheck shell=bash
# An active/backup gateway pair for the high-availability test (tests/netns/ha/ha_test.sh): the
# topology, keepalived (VRRP), conntrackd (FTFW state sync) and ftpalgd (pinhole mode) on both
# gateways; the check of vsftpd's command log (also tests/netns/ha_labels_test.sh). Source after
# scripts/lib/netns.sh (NETNS_PREFIX set by the caller); do not run.
#
#   client --- [swa: bridge br0] --- gw1 a0 / gw2 a0
#                                    gw1 s0 === gw2 s0      sync link 198.18.255.0/30 (conntrackd)
#   server --- [swb: bridge br0] --- gw1 b0 / gw2 b0
#
#   LAN A 198.18.1.0/24: client .2 (+ 198.18.100.102/32), gw1 .11, gw2 .12
#     VRRP instance A (vrid 51) owns VIP 198.18.1.1/24 (the client's gateway), 198.18.1.9/24
#     and 198.18.100.100/32 (public addresses, DNAT to the server)
#   LAN B 198.19.1.0/24: server .2 (+ 198.19.100.102/32), gw1 .11, gw2 .12
#     VRRP instance B (vrid 52) owns VIP 198.19.1.1/24 (the server's gateway, also a SNAT
#     address) and 198.19.100.100/32 (SNAT address)
#   IPv6: LAN A 2001:db8:1::/64 (client ::2, gw1 ::11, gw2 ::12, VIP ::1, instance A6, vrid
#   61), LAN B 2001:db8:2::/64 (server ::2, gw1 ::11, gw2 ::12, VIP ::1, instance B6, vrid 62);
#   routed, not rewritten.
#   Instances A, B, A6 and B6 form one sync group: they move together. gw1 has priority 200, gw2 100;
#   both start as BACKUP, so gw1 wins the first election and preempts whenever it is back.
#
# The gateways' firewall (table inet fw, the same on both): forward policy drop, `ct state
# invalid` dropped and counted, established/related accepted, ftpalgd's data connections by
# conntrack mark, new control connections to port 21; NAT:
#   198.18.100.100:21 -> 198.19.1.2 and SNAT to 198.19.100.100   (227/PORT grow by 4: +k)
#   198.18.1.9:21 -> 198.19.100.102 from 198.18.100.102, SNAT to 198.19.1.1 (shrink by 4: -k)
# Sessions from 198.18.1.2 straight to 198.19.1.2 are routed, not rewritten.

HA_VIP_A=198.18.1.1
HA_VIP_A9=198.18.1.9
HA_PUBLIC=198.18.100.100
HA_VIP_B=198.19.1.1
HA_SNAT=198.19.100.100
HA_CLIENT=198.18.1.2
HA_CLIENT2=198.18.100.102
HA_SERVER=198.19.1.2
HA_SERVER2=198.19.100.102
HA_VIP_A6=2001:db8:1::1
HA_VIP_B6=2001:db8:2::1
HA_CLIENT6=2001:db8:1::2
HA_SERVER6=2001:db8:2::2
HA_MARK=0xf7a1
HA_SESSION_MARK=0xf7a2
HA_QUEUE=${HA_QUEUE:-53}
declare -A HA_A=([gw1]=198.18.1.11 [gw2]=198.18.1.12)
declare -A HA_B=([gw1]=198.19.1.11 [gw2]=198.19.1.12)
declare -A HA_A6=([gw1]=2001:db8:1::11 [gw2]=2001:db8:1::12)
declare -A HA_B6=([gw1]=2001:db8:2::11 [gw2]=2001:db8:2::12)
declare -A HA_S=([gw1]=198.18.255.1 [gw2]=198.18.255.2)
declare -A HA_PEER=([gw1]=gw2 [gw2]=gw1)
declare -A HA_PRIO=([gw1]=200 [gw2]=100)
declare -A HA_KA_PID=() HA_ALG_PID=()
[[ -v HA_FTPALGD_CONF ]] || HA_FTPALGD_CONF=()  # more ftpalgd.toml lines (the caller sets them)

ha_log() { printf '[ha %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
ha_now() { date +%s.%N; }
# ha_ms T0 T1: milliseconds from T0 to T1 (seconds with fraction).
ha_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

# ha_in ROLE CMD...: CMD in ROLE's namespace, bounded to 20 s.
ha_in() {
  local role=$1
  shift
  timeout 20 ip netns exec "$(netns_name "$role")" "$@"
}

# ha_topology: the namespaces, bridges, links, addresses and routes above.
ha_topology() {
  local role gw
  for role in client server swa swb gw1 gw2; do netns_create "$role"; done
  for role in swa swb; do
    ha_in "$role" ip link add br0 type bridge
    ha_in "$role" ip link set br0 up
  done
  # Client and server hang off the bridges; port names in the switch say who is plugged in.
  ha_plug client veth0 swa cli
  ha_plug server veth0 swb srv
  for gw in gw1 gw2; do
    ha_plug "$gw" a0 swa "${gw}a"
    ha_plug "$gw" b0 swb "${gw}b"
    netns_addr "$gw" a0 "${HA_A[$gw]}/24" "${HA_A6[$gw]}/64"
    netns_addr "$gw" b0 "${HA_B[$gw]}/24" "${HA_B6[$gw]}/64"
    # Forwarding; loose reverse-path filtering (the systemd default on Debian); the routes to
    # the clients and servers behind extra addresses.
    ha_in "$gw" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=2 \
      net.ipv4.conf.default.rp_filter=2 net.ipv6.conf.all.forwarding=1
    ha_in "$gw" ip route add "$HA_CLIENT2/32" via "$HA_CLIENT"
    ha_in "$gw" ip route add "$HA_SERVER2/32" via "$HA_SERVER"
  done
  netns_link gw1 s0 gw2 s0
  netns_addr gw1 s0 "${HA_S[gw1]}/30"
  netns_addr gw2 s0 "${HA_S[gw2]}/30"
  netns_addr client veth0 "$HA_CLIENT/24" "$HA_CLIENT2/32" "$HA_CLIENT6/64"
  netns_addr server veth0 "$HA_SERVER/24" "$HA_SERVER2/32" "$HA_SERVER6/64"
  # Only through the virtual addresses: nothing reaches the other side without a master.
  ha_in client ip route add 198.19.0.0/16 via "$HA_VIP_A"
  ha_in client ip route add "$HA_PUBLIC/32" via "$HA_VIP_A"
  ha_in server ip route add 198.18.0.0/16 via "$HA_VIP_B"
  ha_in server ip route add "$HA_SNAT/32" via "$HA_VIP_B"
  ha_in client ip -6 route add 2001:db8:2::/64 via "$HA_VIP_A6"
  ha_in server ip -6 route add 2001:db8:1::/64 via "$HA_VIP_B6"
  for role in client server; do netns_csum_off "$role" veth0; done
  netns_wait_reachable gw1 "${HA_S[gw2]}"
}

# ha_plug ROLE IF SWITCH PORT: a veth from ROLE's IF to a port of SWITCH's bridge.
ha_plug() {
  netns_link "$1" "$2" "$3" "$4"
  ha_in "$3" ip link set "$4" master br0
}

# ha_cable GW up|down: plug gw's LAN cables in or out (the switch-side ports, so gw sees its
# carrier go, as with a pulled cable; the sync link stays).
ha_cable() {
  ha_in swa ip link set "${1}a" "$2"
  ha_in swb ip link set "${1}b" "$2"
}

# ha_firewall GW: table inet fw (see the head of this file), and table inet ha_standby (below):
# a gateway forwards nothing until it is master.
ha_firewall() {
  ha_standby_nft | ha_in "$1" nft -f -
  ha_in "$1" nft -f - <<NFT
table inet fw {
  counter invalid { }
  counter dropped { }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state invalid counter name invalid drop
    ct state established,related accept
    ct mark $HA_MARK accept
    ct state new tcp dport 21 accept
    counter name dropped
  }
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $HA_PUBLIC tcp dport 21 dnat ip to $HA_SERVER
    ip daddr $HA_VIP_A9 tcp dport 21 dnat ip to $HA_SERVER2
  }
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "b0" ip saddr $HA_CLIENT ct status dnat snat ip to $HA_SNAT
    oifname "b0" ip saddr $HA_CLIENT2 snat ip to $HA_VIP_B
  }
}
NFT
}

# ha_counter GW NAME: packets of counter NAME in table inet fw.
ha_counter() {
  ha_in "$1" nft list counter inet fw "$2" | grep -o 'packets [0-9]*' | cut -d' ' -f2
}

# --- conntrackd ------------------------------------------------------------------------------
# FTFW over UDP on the sync link: acknowledged, resent on loss, so a state change the backup
# missed is recovered rather than silently lost (NOTRACK relies on bulk resyncs). External
# cache on: the backup keeps synced entries in userspace and commits them at promotion (-c).
ha_conntrackd_conf() {
  local gw=$1 d=$HA_DIR/$1
  cat <<EOF
Sync {
  Mode FTFW {
    ResendQueueSize 131072
    PurgeTimeout 5
    ACKWindowSize 300
    DisableExternalCache Off
  }
  UDP {
    IPv4_address ${HA_S[$gw]}
    IPv4_Destination_Address ${HA_S[${HA_PEER[$gw]}]}
    Port 3780
    Interface s0
    SndSocketBuffer 1249280
    RcvSocketBuffer 1249280
    Checksum on
  }
  Options {
    TCPWindowTracking Off
  }
}
General {
  Systemd off
  HashSize 8192
  HashLimit 65536
  LogFile $d/conntrackd.log
  Syslog off
  LockFile $d/conntrackd.lock
  UNIX {
    Path $d/conntrackd.ctl
  }
  NetlinkBufferSize 2097152
  NetlinkBufferSizeMaxGrowth 8388608
  Filter From Userspace {
    Protocol Accept {
      TCP
    }
    Address Ignore {
      IPv4_address 127.0.0.1
      IPv4_address ${HA_A[$gw]}
      IPv4_address ${HA_B[$gw]}
      IPv4_address ${HA_S[$gw]}
      IPv4_address ${HA_S[${HA_PEER[$gw]}]}
      IPv6_address ::1
      IPv6_address ${HA_A6[$gw]}
      IPv6_address ${HA_B6[$gw]}
    }
  }
}
EOF
}

# --- keepalived ------------------------------------------------------------------------------
ha_keepalived_conf() {
  local gw=$1 d=$HA_DIR/$1
  cat <<EOF
global_defs {
  router_id ha-$gw
  script_user root
  enable_script_security
  vrrp_version 3
  vrrp_garp_master_delay 1
  vrrp_garp_master_repeat 3
  vrrp_garp_master_refresh 0
}
vrrp_sync_group G {
  group {
    A
    B
    A6
    B6
  }
  notify "$d/notify.sh"
}
vrrp_instance A {
  state BACKUP
  interface a0
  virtual_router_id 51
  priority ${HA_PRIO[$gw]}
  advert_int 0.2
  virtual_ipaddress {
    $HA_VIP_A/24 dev a0
    $HA_VIP_A9/24 dev a0
    $HA_PUBLIC/32 dev a0
  }
}
vrrp_instance B {
  state BACKUP
  interface b0
  virtual_router_id 52
  priority ${HA_PRIO[$gw]}
  advert_int 0.2
  virtual_ipaddress {
    $HA_VIP_B/24 dev b0
    $HA_SNAT/32 dev b0
  }
}
vrrp_instance A6 {
  state BACKUP
  interface a0
  virtual_router_id 61
  priority ${HA_PRIO[$gw]}
  advert_int 0.2
  virtual_ipaddress {
    $HA_VIP_A6/64 dev a0
  }
}
vrrp_instance B6 {
  state BACKUP
  interface b0
  virtual_router_id 62
  priority ${HA_PRIO[$gw]}
  advert_int 0.2
  virtual_ipaddress {
    $HA_VIP_B6/64 dev b0
  }
}
EOF
}

# The notify script of the sync group: the primary-backup transitions of conntrackd. keepalived
# calls it as `notify.sh GROUP G STATE PRIORITY`; it logs "<epoch> STATE" to transitions.log.
# HA_TAKEOVER (the caller's): a command (`ftpalg takeover`) run with --socket after the commit.
ha_notify_script() {
  local d=$HA_DIR/$1
  cat <<EOF
#!/bin/sh
c="conntrackd -C $d/conntrackd.conf"
echo "\$(date +%s.%N) \$3" >>$d/transitions.log
case \$3 in
  MASTER)
    \$c -c   # commit the synced (external) cache into the kernel table
    # forward again (after the commit: no segment overtakes its entry)
    nft delete table inet ha_standby 2>/dev/null
    echo "\$(date +%s.%N) MASTER committed" >>$d/transitions.log
EOF
  if [[ -n ${HA_TAKEOVER:-} ]]; then
    # ftpalgd re-creates the pinholes of announcements recorded in the committed entries.
    echo "    $HA_TAKEOVER --socket $d/control.sock >>$d/takeover.log 2>&1"
    echo "    echo \"\$(date +%s.%N) MASTER takeover\" >>$d/transitions.log"
  fi
  cat <<EOF
    # flush the internal and external caches (conntrackd 1.4.7 refuses this right after a
    # commit, "commit still in progress", even when retried for 0.5 s; the external cache keeps
    # following the peer's events regardless)
    \$c -f
    \$c -R   # resync the internal cache with the kernel table
    \$c -B   # bulk-send the states to the peer
    ;;
  BACKUP)
    nft -f $d/standby.nft
    \$c -t   # purge the kernel table after PurgeTimeout (zombie entries of the old role)
    \$c -n   # ask the peer for a resync
    ;;
  FAULT | STOP)
    nft -f $d/standby.nft
    \$c -t
    ;;
esac
echo "\$(date +%s.%N) \$3 done" >>$d/transitions.log
EOF
}

# ha_standby_nft: table inet ha_standby, loaded whenever the gateway is not master: it forwards
# nothing. A gateway that lost its addresses still gets what neighbours send to its MAC address
# until their caches follow the gratuitous ARP; forwarding that would split a connection's
# packets over both gateways, and each ftpalgd would see gaps in its streams.
ha_standby_nft() {
  cat <<'EOF'
table inet ha_standby {
  chain forward {
    type filter hook forward priority -300; policy drop;
  }
}
EOF
}

# ha_start_conntrackd GW
ha_start_conntrackd() {
  local gw=$1 d=$HA_DIR/$1
  ha_conntrackd_conf "$gw" >"$d/conntrackd.conf"
  netns_spawn "$gw" conntrackd -C "$d/conntrackd.conf" >>"$d/conntrackd.out" 2>&1
  for _ in $(seq 100); do
    [[ -S $d/conntrackd.ctl ]] && return 0
    sleep 0.05
  done
  tail -n 20 "$d/conntrackd.log" >&2 || true
  ha_log "conntrackd did not start on $gw"
  return 1
}

# ha_start_keepalived GW: keepalived (VRRP only) in the foreground with its own pid files.
ha_start_keepalived() {
  local gw=$1 d=$HA_DIR/$1
  ha_keepalived_conf "$gw" >"$d/keepalived.conf"
  ha_notify_script "$gw" >"$d/notify.sh"
  ha_standby_nft >"$d/standby.nft"
  chmod 755 "$d/notify.sh"
  netns_spawn "$gw" keepalived --vrrp --dont-fork --log-console --log-detail --no-syslog \
    --use-file "$d/keepalived.conf" --pid "$d/keepalived.pid" --vrrp_pid "$d/vrrp.pid" \
    --checkers_pid "$d/checkers.pid" >>"$d/keepalived.log" 2>&1
  HA_KA_PID[$gw]=$NETNS_LAST_PID
}

# ha_stop_keepalived GW: SIGTERM (keepalived sends priority 0, the peer takes over at once).
ha_stop_keepalived() {
  local pid=${HA_KA_PID[$1]:-}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  wait "$pid" 2>/dev/null || true
  HA_KA_PID[$1]=
}

# ha_start_ftpalgd GW FTPALGD: pinhole mode, installing its own queueing rules, every path
# per gateway.
ha_start_ftpalgd() {
  local gw=$1 bin=$2 d=$HA_DIR/$1
  shift 2
  # A session this gateway served before, which went on through the peer and comes back, is
  # ahead of what this ftpalgd last saw: resync after one dropped segment rather than 32.
  # HA_FTPALGD_CONF: more lines for the configuration file (the caller's).
  printf '%s\n' "gap_drop_limit = ${HA_GAP_DROP_LIMIT:-1}" "${HA_FTPALGD_CONF[@]}" >"$d/ftpalgd.toml"
  netns_spawn "$gw" "$bin" --config "$d/ftpalgd.toml" --queues "$HA_QUEUE" --kernel-mode pinhole --install-rules \
    --mark "$HA_MARK" --session-mark "$HA_SESSION_MARK" --state-dir "$d/state" \
    --control-socket "$d/control.sock" --metrics-socket "$d/metrics.sock" \
    --events "$d/events.jsonl" --log-level debug "$@" 2>>"$d/ftpalgd.log"
  HA_ALG_PID[$gw]=$NETNS_LAST_PID
  for _ in $(seq 100); do
    grep -q 'serving queue' "$d/ftpalgd.log" 2>/dev/null && return 0
    kill -0 "${HA_ALG_PID[$gw]}" 2>/dev/null || break
    sleep 0.05
  done
  tail -n 20 "$d/ftpalgd.log" >&2 || true
  ha_log "ftpalgd did not start on $gw"
  return 1
}

# ha_wait_ftp ROLE ADDR [SECONDS]: wait until a TCP connection from ROLE to ADDR:21 succeeds (the
# firewall drops other new connections, so a refused port cannot serve as the probe).
ha_wait_ftp() {
  local i
  for ((i = 0; i < ${3:-10} * 5; i++)); do
    ha_in "$1" timeout 0.5 bash -c "exec 3<>/dev/tcp/$2/21" 2>/dev/null && return 0
    sleep 0.1
  done
  ha_log "$2:21 not reachable from $1"
  return 1
}

# ha_has_vip GW: true when GW holds both sides' gateway addresses (one netlink dump, no exec).
ha_has_vip() {
  local a
  a=$(ip -n "$(netns_name "$1")" -4 -o addr show 2>/dev/null) || return 1
  [[ $a == *" inet $HA_VIP_A/"* && $a == *" inet $HA_VIP_B/"* ]]
}

# ha_wait_master GW [SECONDS]: wait until GW holds the addresses and its notify script is done;
# prints the epoch time the addresses were first seen.
ha_wait_master() {
  local i t=
  for ((i = 0; i < ${2:-15} * 100; i++)); do
    if [[ -z $t ]] && ha_has_vip "$1"; then t=$(ha_now); fi
    if [[ -n $t ]] && tail -n 1 "$HA_DIR/$1/transitions.log" 2>/dev/null | grep -q 'MASTER done'; then
      echo "$t"
      return 0
    fi
    sleep 0.01
  done
  return 1
}

# ha_wait_not_master GW [SECONDS]: wait until GW holds no virtual address.
ha_wait_not_master() {
  local i
  for ((i = 0; i < ${2:-15} * 100; i++)); do
    [[ $(ip -n "$(netns_name "$1")" -4 -o addr show dev a0) == *" inet $HA_VIP_A/"* ]] || return 0
    sleep 0.01
  done
  return 1
}

# --- vsftpd's log ----------------------------------------------------------------------------
# ha_server_commands LOG ADDR FROM_LINE: the commands vsftpd logged (log_ftp_protocol, file LOG)
# from client ADDR after line FROM_LINE, one a line.
ha_server_commands() {
  tail -n +"$(($3 + 1))" "$1" | grep -F "FTP command: Client \"::ffff:$2\"" |
    sed 's/.*", "\(.*\)"$/\1/' || true
}

# ha_unexpected_commands LOG ADDR FROM_LINE: those of them the tests' clients never send (a
# command shifted, cut or merged on the way), one a line; nothing when every one is intact.
ha_unexpected_commands() {
  ha_server_commands "$@" | grep -Ev '^(USER anonymous|PASS <password>|TYPE I|PASV|PORT [0-9,]+|RETR pub/big.bin|NOOP|SIZE pub/big.bin|PWD|QUIT)$' || true
}
