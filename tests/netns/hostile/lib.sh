# shellcheck shell=bash disable=SC2034 # variables for the scripts that source this file
# The hostile-load topology, shared by tests/netns/hostile/run.sh and
# tests/bench/hostile/measure.sh. Source after scripts/lib/netns.sh and tests/netns/lib/e2e.sh,
# with E2E_TMP set; do not run.
#
#   client (legitimate clients, 198.18.1.{2,23,57,102}) --+
#   atk    (attackers 198.18.3.2, forged 198.18.128/17) --+-- gw (ftpalgd; SNAT out of srv0, DNAT
#   server (vsftpd 198.19.1.2, behind DNAT) --------------+   of the public 198.18.1.10:21)
#   third  (forges the server's packets; 198.19.2.50 is a hole: routed, no host, dropped by the
#          gateway's filter after the queue; 198.19.2.60 drops port 80 itself)
#
# Gateway: table inet hostile (DNAT, masquerade, forward policy drop: the hole, ct state invalid,
# established, ct mark HOSTILE_MARK, new connections to port 21) and iptables NFQUEUE rules for
# port 21 both ways to queue HOSTILE_QUEUE.

HOSTILE_QUEUE=${HOSTILE_QUEUE:-11}
HOSTILE_MARK=0x00f7a1
HOSTILE_HOLE4=198.19.2.50
HOSTILE_SINK4=198.19.2.60
HOSTILE_ATK4=198.18.3.2
HOSTILE_ATK_GW4=198.18.3.1
HOSTILE_FORGED_NET=198.18.128.0/17
HOSTILE_LEGIT_ADDRS=(198.18.1.102 198.18.1.23 198.18.1.2 198.18.1.57)
HOSTILE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# hostile_topology: namespaces, links, addresses, routes, the gateway's rules.
hostile_topology() {
  local a dev
  netns_topology_gw both
  netns_create atk
  netns_link atk veth0 gw atk0
  netns_addr atk veth0 "$HOSTILE_ATK4/24"
  netns_addr gw atk0 "$HOSTILE_ATK_GW4/24"
  netns_route atk "$NETNS_ALL4" "$HOSTILE_ATK_GW4"
  netns_csum_off atk veth0
  for a in "${HOSTILE_LEGIT_ADDRS[@]}"; do
    [[ $a == "$NETNS_CLIENT4" ]] || netns_addr client veth0 "$a/24"
  done
  netns_addr third veth0 "$HOSTILE_SINK4/24"
  netns_exec third nft add table ip sink
  netns_exec third nft add chain ip sink in '{ type filter hook input priority 0; }'
  netns_exec third nft add rule ip sink in ip daddr "$HOSTILE_SINK4" tcp dport 80 drop
  # Forged sources arrive on interfaces their addresses are not routed through.
  netns_exec gw sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  for dev in cli0 srv0 thr0 atk0; do netns_exec gw sysctl -qw "net.ipv4.conf.$dev.rp_filter=0"; done
  netns_wait_reachable atk "$HOSTILE_ATK_GW4"
  netns_exec gw nft -f - <<EOF
table inet hostile {
  counter hole { }
  counter invalid { }
  chain natpre {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $NETNS_PUBLIC4 tcp dport 21 dnat ip to $NETNS_SERVER4
  }
  chain natpost {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "srv0" masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ip daddr $HOSTILE_HOLE4 counter name hole drop
    ct state invalid counter name invalid drop
    ct state established accept
    ct mark $HOSTILE_MARK accept
    ct state new tcp dport 21 accept
    ip daddr $HOSTILE_SINK4 tcp dport 80 accept
  }
}
EOF
  for dir in --dport --sport; do
    netns_exec gw iptables -t mangle -A FORWARD -p tcp "$dir" 21 -j NFQUEUE \
      --queue-num "$HOSTILE_QUEUE"
  done
}

# hostile_vsftpd: the e2e suite's vsftpd and files (E2E_BIG_SHA, E2E_UP_SHA), without a per
# address limit: every client reaches it from the one SNAT address.
hostile_vsftpd() {
  e2e_files
  e2e_vsftpd_conf >"$E2E_TMP/vsftpd.conf"
  printf 'max_per_ip=0\nmax_clients=0\n' >>"$E2E_TMP/vsftpd.conf"
  netns_spawn server "$(command -v vsftpd || echo /usr/sbin/vsftpd)" "$E2E_TMP/vsftpd.conf"
  for _ in $(seq 50); do
    netns_exec server ss -Hltn 'sport = :21' | grep -q . && return 0
    sleep 0.1
  done
  e2e_die "vsftpd does not listen on port 21"
}

# hostile_daemon_start FTPALGD ARGS...: ftpalgd in the gateway (pinhole mode, queue, mark, log
# to $E2E_TMP/ftpalgd.log); sets HOSTILE_DAEMON_PID and HOSTILE_TABLE once its pinhole table
# exists (ftpalg_q<queue> by default; "ftpalg" for daemons older than per-instance names).
hostile_daemon_start() {
  local bin=$1
  shift
  netns_spawn gw "$bin" --queues "$HOSTILE_QUEUE" --kernel-mode pinhole --mark "$HOSTILE_MARK" \
    "$@" 2>"$E2E_TMP/ftpalgd.log"
  HOSTILE_DAEMON_PID=$NETNS_LAST_PID
  for _ in $(seq 50); do
    for HOSTILE_TABLE in "ftpalg_q$HOSTILE_QUEUE" ftpalg; do
      netns_exec gw nft list table inet "$HOSTILE_TABLE" >/dev/null 2>&1 && return 0
    done
    kill -0 "$HOSTILE_DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$E2E_TMP/ftpalgd.log" >&2
  e2e_die "ftpalgd did not install its table (inet ftpalg_q$HOSTILE_QUEUE)"
}

# hostile_daemon_stop: SIGTERM, wait; HOSTILE_DAEMON_RC is its exit status.
hostile_daemon_stop() {
  HOSTILE_DAEMON_RC=0
  [[ -n ${HOSTILE_DAEMON_PID:-} ]] || return 0
  kill -TERM "$HOSTILE_DAEMON_PID" 2>/dev/null || true
  wait "$HOSTILE_DAEMON_PID" || HOSTILE_DAEMON_RC=$?
  HOSTILE_DAEMON_PID=''
}

# hostile_cpu_ticks PID: utime+stime in clock ticks.
hostile_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# hostile_queue_stats: "WAITING DROPPED_FULL DROPPED_USER" of the gateway's queue.
hostile_queue_stats() {
  netns_exec gw cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null |
    awk -v q="$HOSTILE_QUEUE" '$1 == q { print $3, $6, $7; found = 1 } END { if (!found) print 0, 0, 0 }'
}

# hostile_attack NAME ARGS...: tests/netns/hostile/attack.py ARGS in the attackers' namespace,
# in the background, its JSON line in $E2E_TMP/NAME.json; the pid in HOSTILE_ATTACK_PID.
hostile_attack() {
  local name=$1
  shift
  netns_spawn atk timeout 120 python3 "$HOSTILE_DIR/attack.py" "$@" >"$E2E_TMP/$name.json" \
    2>"$E2E_TMP/$name.err"
  HOSTILE_ATTACK_PID=$NETNS_LAST_PID
}
