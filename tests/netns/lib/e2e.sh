# shellcheck shell=bash
# Building blocks of the ftpalg end-to-end suite (tests/netns/e2e/run-block.sh) and of
# scripts/demo-gateway.sh. Source after scripts/lib/netns.sh; do not run.
#
# Namespaces, addresses and routes come from scripts/lib/netns.sh (netns_topology_gw ROUTES, the
# plan in scripts/lib/netns-plan.sh); this file adds the gateway's rules, the FTP servers and
# the result lines. The NAT scenario names (nonat, masq, dnat, both) are the topology's ROUTES.
#
# Gateway firewall: table inet e2e, forward policy drop; drops `ct state invalid` explicitly
# (counted: a control connection whose sequence numbers ftpalgd shifted must still be carried,
# so conntrack must not see it as invalid); admits established traffic, new
# connections to port 21, and data connections the ALG admitted: `ct state related` (modes
# kernel-helper and ftpalgd-expect: the kernel's expectations) or `ct mark $E2E_CT_MARK` (mode
# ftpalgd). Mode ftpalgd-expect adds no helper and no queue rule here: ftpalgd --install-rules
# adds its own table (ct helper set on new port-21 connections). Every new TCP SYN dropped by the
# policy is added to the sets drop4/drop6 (source . sport . destination . dport) and every
# admitted data SYN to adm4/adm6: a 4-tuple in both is a SYN that came before its pinhole
# ("late SYN"); e2e_late_syn counts them.

E2E_PASV_RANGE=40000-40100
E2E_CT_MARK=${E2E_CT_MARK:-0x00f7a1}
E2E_QUEUE=${E2E_QUEUE:-0}

e2e_log() { printf '[e2e %(%T)T] %s\n' -1 "$*" >&2; }
e2e_die() {
  e2e_log "FATAL: $*"
  exit 2
}

# --- Dependencies ------------------------------------------------------------------------------
# scripts/install-deps.sh e2e installs the packages and unpacks proftpd: vsftpd, proftpd and
# pure-ftpd all conflict with the virtual package ftp-server, so only vsftpd is installed and
# proftpd runs from its package unpacked under $E2E_CACHE.
E2E_CACHE=${E2E_CACHE:-/var/cache/ftpalg-e2e}
E2E_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)

# e2e_install_deps: scripts/install-deps.sh e2e (fast when all is present); sets E2E_PROFTPD.
# E2E_DEPS_PRESENT=1: the caller installed them (the qemu lane, on the host; slow under TCG).
e2e_install_deps() {
  if [[ -n ${E2E_DEPS_PRESENT:-} ]]; then
    E2E_PROFTPD=${E2E_PROFTPD:-$(e2e_proftpd_bin)}
    return 0
  fi
  E2E_CACHE=$E2E_CACHE bash "$E2E_REPO/scripts/install-deps.sh" e2e >&2 ||
    e2e_die "scripts/install-deps.sh e2e failed"
  E2E_PROFTPD=$(e2e_proftpd_bin)
}

# e2e_proftpd_bin: path of a runnable proftpd: an installed one, else the one
# scripts/install-deps.sh e2e unpacked into $E2E_CACHE.
e2e_proftpd_bin() {
  local bin=$E2E_CACHE/root/usr/sbin/proftpd
  if [[ -x /usr/sbin/proftpd ]]; then
    echo /usr/sbin/proftpd
  elif [[ -x $bin ]] && ! ldd "$bin" | grep -q 'not found'; then
    echo "$bin"
  else
    e2e_die "no runnable proftpd (run scripts/install-deps.sh e2e as root)"
  fi
}

# --- Addresses ---------------------------------------------------------------------------------
# e2e_server_addr NAT FAM: the server address the client dials.
e2e_server_addr() {
  case $1 in
    nonat | masq) [[ $2 == 4 ]] && echo "$NETNS_SERVER4" || echo "$NETNS_SERVER6" ;;
    *) [[ $2 == 4 ]] && echo "$NETNS_PUBLIC4" || echo "$NETNS_PUBLIC6" ;;
  esac
}

# --- Gateway rules -----------------------------------------------------------------------------
# e2e_gw_ruleset MODE NAT: the nft text of table inet e2e on stdout.
e2e_gw_ruleset() {
  local mode=$1 nat=$2
  local key4='ip saddr . tcp sport . ip daddr . tcp dport'
  local key6='ip6 saddr . tcp sport . ip6 daddr . tcp dport'
  cat <<EOF
table inet e2e {
  set drop4 { type ipv4_addr . inet_service . ipv4_addr . inet_service; flags dynamic; size 65535; }
  set drop6 { type ipv6_addr . inet_service . ipv6_addr . inet_service; flags dynamic; size 65535; }
  set adm4 { type ipv4_addr . inet_service . ipv4_addr . inet_service; flags dynamic; size 65535; }
  set adm6 { type ipv6_addr . inet_service . ipv6_addr . inet_service; flags dynamic; size 65535; }
  counter dropped_syn { }
  counter invalid { }
EOF
  if [[ $mode == kernel-helper ]]; then
    cat <<'EOF'
  ct helper ftp-std { type "ftp" protocol tcp; l3proto ip; }
  ct helper ftp-std6 { type "ftp" protocol tcp; l3proto ip6; }
  chain helper {
    type filter hook prerouting priority 0; policy accept;
    meta nfproto ipv4 tcp dport 21 ct state new ct helper set "ftp-std"
    meta nfproto ipv6 tcp dport 21 ct state new ct helper set "ftp-std6"
  }
EOF
  fi
  echo '  chain natpre {'
  echo '    type nat hook prerouting priority dstnat; policy accept;'
  case $nat in
    dnat | both)
      echo "    iifname \"cli0\" ip daddr $NETNS_PUBLIC4 tcp dport 21 dnat ip to $NETNS_SERVER4"
      echo "    iifname \"cli0\" ip6 daddr $NETNS_PUBLIC6 tcp dport 21 dnat ip6 to $NETNS_SERVER6"
      ;;
  esac
  echo '  }'
  echo '  chain natpost {'
  echo '    type nat hook postrouting priority srcnat; policy accept;'
  case $nat in
    masq | both) echo '    oifname "srv0" masquerade' ;;
  esac
  echo '  }'
  cat <<EOF
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state invalid counter name invalid drop
    ct state established accept
    ct state related meta l4proto { icmp, ipv6-icmp } accept
EOF
  if [[ $mode == kernel-helper || $mode == ftpalgd-expect ]]; then
    echo "    ct state related meta nfproto ipv4 tcp flags syn add @adm4 { $key4 }"
    echo "    ct state related meta nfproto ipv6 tcp flags syn add @adm6 { $key6 }"
    echo '    ct state related accept'
  else
    echo "    ct state new ct mark $E2E_CT_MARK meta nfproto ipv4 tcp flags syn add @adm4 { $key4 }"
    echo "    ct state new ct mark $E2E_CT_MARK meta nfproto ipv6 tcp flags syn add @adm6 { $key6 }"
    echo "    ct mark $E2E_CT_MARK accept"
  fi
  cat <<EOF
    ct state new tcp dport 21 accept
    ct state new meta nfproto ipv4 tcp flags syn add @drop4 { $key4 } counter name dropped_syn
    ct state new meta nfproto ipv6 tcp flags syn add @drop6 { $key6 } counter name dropped_syn
  }
}
EOF
}

# e2e_gw_setup MODE NAT: load table inet e2e into the gateway (replacing it) and, in mode
# ftpalgd, the NFQUEUE rules for the control connections (both directions, no bypass: without
# a consumer control packets are dropped, fail-closed).
e2e_gw_setup() {
  local mode=$1 nat=$2 f
  f=$(mktemp "${E2E_TMP:-/tmp}/ruleset.XXXXXX")
  {
    netns_exec gw nft list table inet e2e >/dev/null 2>&1 && echo 'delete table inet e2e'
    e2e_gw_ruleset "$mode" "$nat"
  } >"$f"
  timeout 10 ip netns exec "$(netns_name gw)" nft -f "$f" || e2e_die "nft rejected $f"
  if [[ $mode == ftpalgd ]]; then e2e_gw_queue_rules add; fi
}

# e2e_gw_queue_rules add|del [bypass]: the iptables-nft mangle FORWARD rules queueing port 21.
e2e_gw_queue_rules() {
  local op=-A extra=()
  [[ $1 == del ]] && op=-D
  [[ ${2:-} == bypass ]] && extra=(--queue-bypass)
  local ipt
  for ipt in iptables ip6tables; do
    netns_exec gw timeout 10 "$ipt" -t mangle "$op" FORWARD -p tcp --dport 21 \
      -j NFQUEUE --queue-num "$E2E_QUEUE" "${extra[@]}"
    netns_exec gw timeout 10 "$ipt" -t mangle "$op" FORWARD -p tcp --sport 21 \
      -j NFQUEUE --queue-num "$E2E_QUEUE" "${extra[@]}"
  done
}

# e2e_late_syn_collect PREFIX sets|conntrack: "sets" writes the gateway's SYN sets (nft -j) to
# PREFIX.nft (empty when the table is missing) and empties them; "conntrack" its TCP conntrack
# table (both families) to PREFIX.ct. One process in the gateway each (under qemu's TCG every
# process costs dearly).
e2e_late_syn_collect() {
  if [[ $2 == sets ]]; then
    # shellcheck disable=SC2016 # expanded by the inner shell
    netns_exec gw timeout 20 sh -c '
      nft -j list table inet e2e >"$1.nft" 2>/dev/null || : >"$1.nft"
      nft "flush set inet e2e drop4; flush set inet e2e drop6; flush set inet e2e adm4; flush set inet e2e adm6" 2>/dev/null
      exit 0' sh "$1" || : >"$1.nft"
  else
    # shellcheck disable=SC2016 # expanded by the inner shell
    netns_exec gw timeout 20 sh -c '
      { conntrack -L -p tcp -o extended; conntrack -L -f ipv6 -p tcp -o extended; } >"$1.ct" 2>/dev/null
      exit 0' sh "$1" || : >"$1.ct"
  fi
}

# e2e_late_syn: prints "LATE DROPPED ADMITTED" for the SYNs recorded since the last call and
# empties the sets. LATE counts dropped 4-tuples that were admitted later: found in adm4/adm6
# or as a conntrack entry (ftp_driver.py late-syn).
e2e_late_syn() {
  local f
  f=$(mktemp "${E2E_TMP:-/tmp}/late.XXXXXX")
  e2e_late_syn_collect "$f" sets
  e2e_late_syn_collect "$f" conntrack
  python3 "$E2E_REPO/tests/netns/e2e/ftp_driver.py" late-syn --nft "$f.nft" --conntrack "$f.ct" ||
    echo "0 0 0"
  rm -f "$f" "$f.nft" "$f.ct"
}

# --- FTP servers -------------------------------------------------------------------------------
# e2e_files: the served tree under $E2E_TMP/srv (pub/big.bin, writable upload/) and the
# client's upload file $E2E_TMP/cli/up.bin.
e2e_files() {
  local srv=$E2E_TMP/srv
  mkdir -p "$srv/pub" "$srv/upload" "$E2E_TMP/empty" "$E2E_TMP/cli"
  chmod 755 "$E2E_TMP" "$srv" "$srv/pub"
  chown ftp:nogroup "$srv/upload" 2>/dev/null || chown ftp "$srv/upload"
  chmod 777 "$srv/upload"
  head -c 393216 /dev/urandom >"$srv/pub/big.bin"
  chmod 644 "$srv/pub/big.bin"
  head -c 262144 /dev/urandom >"$E2E_TMP/cli/up.bin"
  # shellcheck disable=SC2034 # read by the scripts that source this file
  E2E_BIG_SHA=$(sha256sum <"$srv/pub/big.bin" | cut -d' ' -f1)
  # shellcheck disable=SC2034 # read by the scripts that source this file
  E2E_UP_SHA=$(sha256sum <"$E2E_TMP/cli/up.bin" | cut -d' ' -f1)
}

e2e_vsftpd_conf() {
  cat <<EOF
listen=NO
listen_ipv6=YES
background=NO
anonymous_enable=YES
local_enable=NO
no_anon_password=YES
anon_root=$E2E_TMP/srv
write_enable=YES
anon_upload_enable=YES
anon_other_write_enable=YES
anon_umask=022
anon_world_readable_only=YES
pasv_enable=YES
port_enable=YES
pasv_min_port=${E2E_PASV_RANGE%-*}
pasv_max_port=${E2E_PASV_RANGE#*-}
connect_from_port_20=NO
seccomp_sandbox=NO
secure_chroot_dir=$E2E_TMP/empty
ftp_username=ftp
nopriv_user=nobody
hide_ids=YES
dirmessage_enable=NO
ftpd_banner=ftpalg e2e vsftpd
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=$E2E_TMP/vsftpd.log
EOF
}

e2e_proftpd_conf() {
  cat <<EOF
ServerName "ftpalg e2e proftpd"
ServerType standalone
DefaultServer on
Port 21
UseIPv6 on
User nobody
Group nogroup
Umask 022
MaxInstances 30
PidFile $E2E_TMP/proftpd.pid
ScoreboardFile $E2E_TMP/proftpd.scoreboard
DelayTable none
WtmpLog off
UseReverseDNS off
UseFtpUsers off
RequireValidShell off
AllowOverwrite on
PassivePorts ${E2E_PASV_RANGE%-*} ${E2E_PASV_RANGE#*-}
SystemLog $E2E_TMP/proftpd.log
TransferLog $E2E_TMP/proftpd.xfer
<Anonymous $E2E_TMP/srv>
  User ftp
  Group nogroup
  UserAlias anonymous ftp
  RequireValidShell off
  <Directory upload>
    <Limit WRITE>
      AllowAll
    </Limit>
  </Directory>
</Anonymous>
EOF
}

# e2e_server_start vsftpd|proftpd|fake: start one server on port 21 in the server namespace.
e2e_server_start() {
  local kind=$1 pid
  case $kind in
    vsftpd)
      e2e_vsftpd_conf >"$E2E_TMP/vsftpd.conf"
      netns_spawn server "$(command -v vsftpd || echo /usr/sbin/vsftpd)" "$E2E_TMP/vsftpd.conf"
      ;;
    proftpd)
      e2e_proftpd_conf >"$E2E_TMP/proftpd.conf"
      netns_spawn server "${E2E_PROFTPD:-$(e2e_proftpd_bin)}" -n -q -c "$E2E_TMP/proftpd.conf"
      ;;
    fake)
      netns_spawn server python3 "$E2E_DIR/ftp_driver.py" fake-server \
        --pasv-range "$E2E_PASV_RANGE" --log "$E2E_TMP/fake.log"
      ;;
  esac
  pid=$NETNS_LAST_PID
  E2E_SERVER_PID=$pid
  for _ in $(seq 1 50); do
    netns_exec server ss -Hltn 'sport = :21' | grep -q . && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$E2E_TMP/$kind.log" >&2 2>/dev/null || true
  e2e_die "$kind does not listen on port 21"
}

e2e_server_stop() {
  [[ -n ${E2E_SERVER_PID:-} ]] || return 0
  kill -TERM "$E2E_SERVER_PID" 2>/dev/null || true
  # proftpd forks session children; end whatever still listens or serves in the namespace.
  local pids
  for _ in $(seq 1 30); do
    pids=$(netns_exec server ss -Htnp 'sport = :21' 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u) || true
    [[ -z $pids ]] && break
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    sleep 0.1
  done
  wait "$E2E_SERVER_PID" 2>/dev/null || true
  E2E_SERVER_PID=
}

# --- Results -----------------------------------------------------------------------------------
# e2e_json_str TEXT: TEXT as a JSON string.
e2e_json_str() {
  local j
  e2e_json_str_v j "$1"
  printf '%s' "$j"
}
# e2e_json_str_v VAR TEXT: the same into VAR, without a subshell.
e2e_json_str_v() {
  local s=$2
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/ }
  s=${s//$'\t'/ }
  s=${s//$'\r'/}
  printf -v "$1" '"%s"' "$s"
}

# e2e_result CASE RESULT SECONDS NOTES: one JSON line into $E2E_RESULTS and a log line.
e2e_result() {
  local c m r n line
  e2e_json_str_v c "$1"
  e2e_json_str_v m "$E2E_MODE"
  e2e_json_str_v r "$2"
  e2e_json_str_v n "$4"
  printf '{"case":%s,"mode":%s,"result":%s,"seconds":%s,"notes":%s}\n' "$c" "$m" "$r" "$3" "$n" \
    >>"$E2E_RESULTS"
  printf -v line '%-6s %-48s %6ss  %s' "$2" "$1" "$3" "$4"
  e2e_log "$line"
}

# e2e_now: seconds since the epoch with microseconds; e2e_elapsed T0: seconds since T0, two
# decimals. Bash's EPOCHREALTIME: no process (each costs dearly under qemu's TCG).
e2e_now() { printf '%s\n' "${EPOCHREALTIME/,/.}"; }
e2e_elapsed() {
  local a=${1/,/.} b=${EPOCHREALTIME/,/.} fa fb d
  fa=${a#*.}000000 fb=${b#*.}000000
  [[ $a == *.* ]] || fa=000000
  d=$(((${b%.*} * 1000000 + 10#${fb:0:6}) - (${a%.*} * 1000000 + 10#${fa:0:6})))
  printf '%d.%02d' $((d / 1000000)) $((d % 1000000 / 10000))
}
