# shellcheck shell=sh
# Shell library of the qemu lane's scenarios (busybox sh inside the VM). Sourced before each
# scenario. Topology, three network namespaces joined by veth pairs, addresses from the one
# plan of the namespace scripts (scripts/lib/netns-plan.sh, copied to /lane/netns-plan.sh):
#
#   client  c0 198.18.1.2/24  2001:db8:1::2/64   routes the whole plan via the gateway
#   gw      g0 198.18.1.1/24  2001:db8:1::1/64   (client side; also holds the public
#                                                  addresses 198.18.1.10, 2001:db8:1::10)
#           g1 198.19.1.1/24  2001:db8:2::1/64   (server side), forwarding on
#   server  s0 198.19.1.2/24  2001:db8:2::2/64   routes the whole plan via the gateway
#
# Only 198.18.0.0/15 and 2001:db8::/32 are used, no default route. iproute2's ip is called by
# full path: the busybox shell would run its own ip applet, which has no netns support.
# shellcheck source=scripts/lib/netns-plan.sh
. /lane/netns-plan.sh
IP=/usr/sbin/ip
# Short names of the plan's addresses, used by the scenarios.
# shellcheck disable=SC2034 # read by the scenarios sourced after this file
{
  C4=$NETNS_CLIENT4 C6=$NETNS_CLIENT6
  G4=$NETNS_GW_CLI4 G6=$NETNS_GW_CLI6
  PUB4=$NETNS_PUBLIC4 PUB6=$NETNS_PUBLIC6
  GS4=$NETNS_GW_SRV4 GS6=$NETNS_GW_SRV6
  S4=$NETNS_SERVER4 S6=$NETNS_SERVER6
}

log() { echo "  $*"; }
fail() {
  echo "  FAIL: $*"
  exit 1
}
# Runs a command in a namespace. Background jobs whose pid matters (kill, wait) must call
# "$IP netns exec" directly: a backgrounded shell function is a subshell, and $! its pid.
in_ns() {
  ns=$1
  shift
  $IP netns exec "$ns" "$@"
}

sysctl_ns() { in_ns "$1" sh -c "echo $3 > /proc/sys/$2"; }

topo_up() {
  for ns in client gw server; do
    $IP netns add "$ns" || fail "netns add $ns"
    in_ns "$ns" $IP link set lo up
    sysctl_ns "$ns" net/ipv6/conf/all/accept_dad 0
    sysctl_ns "$ns" net/ipv6/conf/default/accept_dad 0
  done
  $IP link add c0 netns client type veth peer name g0 netns gw || fail "veth client-gw"
  $IP link add s0 netns server type veth peer name g1 netns gw || fail "veth server-gw"
  l4=$NETNS_LINK_LEN4 l6=$NETNS_LINK_LEN6
  in_ns client $IP addr add "$C4/$l4" dev c0
  in_ns client $IP addr add "$C6/$l6" dev c0 nodad
  in_ns gw $IP addr add "$G4/$l4" dev g0
  in_ns gw $IP addr add "$G6/$l6" dev g0 nodad
  in_ns gw $IP addr add "$PUB4/32" dev g0
  in_ns gw $IP addr add "$PUB6/128" dev g0 nodad
  in_ns gw $IP addr add "$GS4/$l4" dev g1
  in_ns gw $IP addr add "$GS6/$l6" dev g1 nodad
  in_ns server $IP addr add "$S4/$l4" dev s0
  in_ns server $IP addr add "$S6/$l6" dev s0 nodad
  for pair in client:c0 gw:g0 gw:g1 server:s0; do
    in_ns "${pair%%:*}" $IP link set "${pair#*:}" up
  done
  in_ns client $IP route add "$NETNS_ALL4" via "$G4"
  in_ns client $IP -6 route add "$NETNS_ALL6" via "$G6"
  in_ns server $IP route add "$NETNS_ALL4" via "$GS4"
  in_ns server $IP -6 route add "$NETNS_ALL6" via "$GS6"
  sysctl_ns gw net/ipv4/ip_forward 1
  sysctl_ns gw net/ipv6/conf/all/forwarding 1
  in_ns client ping -c1 -W5 $S4 >/dev/null || fail "no IPv4 path client -> server"
  in_ns client ping -6 -c1 -W5 $S6 >/dev/null || fail "no IPv6 path client -> server"
}

# Removes every namespace, userspace helper and background job a scenario may have left.
lane_cleanup() {
  for ns in client gw server; do
    $IP netns del "$ns" 2>/dev/null
  done
  ct_probe helper-del >/dev/null 2>&1
  ct_probe helper-del --name ftpalg-data >/dev/null 2>&1
  killall vsftpd ct_probe ftpalgd >/dev/null 2>&1
  true
}

# Anonymous vsftpd in the server namespace, IPv4 and IPv6 (listen_ipv6 takes both), with two
# files: /hello.txt (small) and /big.bin (256 KiB). Extra "key=value" arguments are appended
# to the configuration (for example pasv_address=...).
ftp_server_start() {
  mkdir -p /srv/ftp /var/run/vsftpd/empty
  echo "hello from the qemu lane" >/srv/ftp/hello.txt
  [ -f /srv/ftp/big.bin ] || dd if=/dev/urandom of=/srv/ftp/big.bin bs=1024 count=256 2>/dev/null
  chmod 0755 /srv/ftp
  chmod 0644 /srv/ftp/*
  cat >/tmp/vsftpd.conf <<EOF
listen=NO
listen_ipv6=YES
anonymous_enable=YES
local_enable=NO
write_enable=NO
anon_root=/srv/ftp
no_anon_password=YES
secure_chroot_dir=/var/run/vsftpd/empty
nopriv_user=ftp
ftp_username=ftp
seccomp_sandbox=NO
isolate_network=NO
isolate=NO
connect_from_port_20=NO
pasv_min_port=40000
pasv_max_port=40100
vsftpd_log_file=/tmp/vsftpd.xfer.log
EOF
  for kv in "$@"; do
    echo "$kv" >>/tmp/vsftpd.conf
  done
  in_ns server vsftpd /tmp/vsftpd.conf >/tmp/vsftpd.out 2>&1 &
  i=0
  while ! in_ns server netstat -ltn 2>/dev/null | grep -q ':21 '; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "vsftpd did not start: $(cat /tmp/vsftpd.out)"
    sleep 0.1
  done
}

# curl options for one data connection mode: pasv (227), epsv (229), port (PORT), eprt (EPRT).
ftp_opts() {
  case $1 in
    pasv) echo "--ftp-pasv --disable-epsv" ;;
    epsv) echo "--ftp-pasv" ;;
    port) echo "--ftp-port - --disable-eprt" ;;
    eprt) echo "--ftp-port -" ;;
    *) fail "ftp_opts: unknown mode $1" ;;
  esac
}

# ftp_get MODE URL OUT: curl in the client namespace. Returns curl's status; the transfer log
# is in /tmp/curl.log.
ftp_get() {
  # shellcheck disable=SC2046 # ftp_opts prints several options
  in_ns client curl -sS -v --max-time 30 $(ftp_opts "$1") -o "$3" "$2" >/tmp/curl.log 2>&1
}

# Prints the value of an nft named counter ("packets N bytes M") in table inet $1.
nft_counter_packets() {
  in_ns gw nft list counter inet "$1" "$2" | awk '/packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}

# Waits up to $2 tenths of a second for file $1 to exist.
wait_file() {
  i=0
  while [ ! -e "$1" ]; do
    i=$((i + 1))
    [ $i -lt "$2" ] || return 1
    sleep 0.1
  done
}

# Upstream version of the running kernel ("6.1.170"): Debian's release names only the ABI.
kernel_upstream() {
  v=$(uname -v | sed -n 's/.*Debian \([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
  [ -n "$v" ] || v=$(uname -r | sed 's/-.*//')
  echo "$v"
}

# Lines of ftpalgd's debug log for non-control packets it received (one a packet), by kind
# ("data connection" or "other"): the lane asserts per case that none reached the queue.
queued_noncontrol() { grep -c "non-control packet ($2)" "$1"; }

# The known expectation-mode defect of the running kernel, empty when none (the same table as
# ftpalgd's kernel_defects.cc): 6.1.170 gives data connections the control connection's helper
# even when the expectation names another, so their packets are queued.
kernel_defect() {
  case $(kernel_upstream) in
    6.1.170) echo "kernel 6.1.170 gives expected connections the control connection's helper (even when the expectation names another): data packets are queued" ;;
  esac
}

# --- control sessions through a FIFO (40-restart, 60-ha; the scenario defines bad) ----------
# ctl_open N HOST: control connection N (files /tmp/ctl.N.*), greeting read.
ctl_open() {
  rm -f "/tmp/ctl.$1.in" "/tmp/ctl.$1.out"
  mkfifo "/tmp/ctl.$1.in"
  : >"/tmp/ctl.$1.out"
  $IP netns exec client nc "$2" 21 >"/tmp/ctl.$1.out" 2>&1 <"/tmp/ctl.$1.in" &
  eval "ctl_pid_$1=$!"
  # Read-write: opening a FIFO so never blocks, so no signal (a background job's SIGCHLD) can
  # interrupt the open (a write-only open waits for nc and failed so, EINTR, under load).
  eval "exec $((2 + $1))<>/tmp/ctl.$1.in"
  eval "seen_$1=0"
  ctl_reply "$1" 220 || bad "session $1: no greeting"
}
# ctl_send N LINE
ctl_send() { eval "printf '%s\r\n' \"\$2\" >&$((2 + $1))"; }
# ctl_reply N CODE [TENTHS]: waits (default 30 s) for session N's next final reply (complete lines only); true
# when it has CODE. The line is in $reply.
ctl_reply() {
  i=0
  s=0
  reply=
  # 30 s by default: only a bound (a loaded TCG guest has taken over 10 s for a reply).
  while [ $i -lt "${3:-300}" ]; do
    eval "s=\$seen_$1"
    if [ "$(wc -l <"/tmp/ctl.$1.out")" -gt "$s" ]; then
      line=$(sed -n "$((s + 1))p" "/tmp/ctl.$1.out" | tr -d '\r')
      eval "seen_$1=$((s + 1))"
      case $line in
        [0-9][0-9][0-9]" "*)
          reply=$line
          case $line in "$2 "*) return 0 ;; *) return 1 ;; esac
          ;;
      esac
      continue
    fi
    i=$((i + 1))
    sleep 0.1
  done
  return 1
}
# ctl_cmd N LINE CODE [TENTHS]: sends LINE, true when the reply has CODE.
ctl_cmd() {
  ctl_send "$1" "$2"
  ctl_reply "$1" "$3" "$4" || {
    log "  session $1: '$2' -> '${reply:-no reply}' (wanted $3)"
    return 1
  }
}
# Anonymous without a password (no_anon_password): USER is answered by 230.
ctl_login() { ctl_cmd "$1" "USER anonymous" 230 && ctl_cmd "$1" "TYPE I" 200; }
# pasv_port: the data port of the 227 in $reply; pasv_host: its address, dotted.
pasv_port() { echo "$reply" | sed -n 's/.*(\([0-9]*,\)\{4\}\([0-9]*\),\([0-9]*\)).*/\2 \3/p' | awk '{ print $1 * 256 + $2 }'; }
pasv_host() { echo "$reply" | sed -n 's/.*(\([0-9]*\),\([0-9]*\),\([0-9]*\),\([0-9]*\),.*/\1.\2.\3.\4/p'; }
