#!/bin/bash
# Runs inside the booted Debian 12 system of the real-systemd lane (scripts/systemd-lane.sh), as
# the unit ftpalg-lane.service, with systemd as PID 1. /lane is the host's lane directory: the
# package to install is /lane/ftpalg.deb, results go to /lane/result (one "ok"/"FAIL" line per
# check, "DONE" last), the full log to /lane/inside.log. Powers the system off at the end.
#
# Topology: this system is the gateway; namespaces lcli (198.18.1.2) and lsrv (198.19.1.2)
# hang off it by veth pairs. vsftpd runs in lsrv; curl in lcli. The forward chain has policy
# drop and admits data connections only through ftpalgd's ct mark.
set -uo pipefail
exec >/lane/inside.log 2>&1
: >/lane/result
say() { printf '%s lane: %s\n' "$(date +%T)" "$*"; }
ok() { printf 'ok   %s\n' "$*" | tee -a /lane/result; }
bad() {
  printf 'FAIL %s\n' "$*" | tee -a /lane/result
  failed=1
}
check() { # check WHAT COMMAND...: ok when COMMAND succeeds
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
failed=0
finish() {
  ip netns del lcli 2>/dev/null
  ip netns del lsrv 2>/dev/null
  echo DONE >>/lane/result
  sync
  systemctl poweroff --no-block
}
trap finish EXIT

CLI=198.18.1.2 CLI2=198.18.1.3 GWC=198.18.1.1 GWS=198.19.1.1 SRV=198.19.1.2
cfg=/etc/ftpalg/ftpalgd.toml

say "systemd $(systemctl --version | head -n1), kernel $(uname -r)"
# --- install: nothing changes until the admin enables the service ------------------------
check "dpkg -i ftpalg.deb" dpkg -i /lane/ftpalg.deb
check "unit installed, not enabled" test "$(systemctl is-enabled ftpalgd 2>&1)" = disabled
check "unit not started on install" test "$(systemctl is-active ftpalgd 2>&1)" = inactive
check "no ftpalg table after install" sh -c '! nft list tables | grep -q ftpalg'
check "conffile registered" sh -c "dpkg-query -W -f='\${Conffiles}' ftpalg | grep -q $cfg"
check "man page ftpalgd(8) installed" test -s /usr/share/man/man8/ftpalgd.8.gz
check "man ftpalgd explains reload" sh -c 'man -P cat ftpalgd 2>/dev/null | grep -q "systemctl reload ftpalgd"'
check "man ftpalgd.toml lists max_line" sh -c 'man -P cat 5 ftpalgd.toml 2>/dev/null | grep -q max_line' 
check "bash completion installed" test -s /usr/share/bash-completion/completions/ftpalg
check "ftpalgd --version" /usr/sbin/ftpalgd --version

# --- analysis of the unit ------------------------------------------------------------------
verify=$(systemd-analyze verify /lib/systemd/system/ftpalgd.service 2>&1)
say "systemd-analyze verify: ${verify:-(no output)}"
check "systemd-analyze verify clean" test -z "$verify"
exposure=$(systemd-analyze security ftpalgd --no-pager 2>&1 | tee /lane/security.txt |
  sed -n 's/.*Overall exposure level for ftpalgd.service: \([0-9.]*\).*/\1/p')
say "systemd-analyze security exposure: ${exposure:-?}"
echo "${exposure:-?}" >/lane/exposure

# --- topology --------------------------------------------------------------------------------
topo() {
  ip netns add lcli && ip netns add lsrv &&
    ip link add gw-c type veth peer name eth0 netns lcli &&
    ip link add gw-s type veth peer name eth0 netns lsrv &&
    ip addr add $GWC/24 dev gw-c && ip link set gw-c up &&
    ip addr add $GWS/24 dev gw-s && ip link set gw-s up &&
    ip -n lcli addr add $CLI/24 dev eth0 && ip -n lcli addr add $CLI2/24 dev eth0 &&
    ip -n lcli link set eth0 up &&
    ip -n lcli link set lo up && ip -n lcli route add default via $GWC &&
    ip -n lsrv addr add $SRV/24 dev eth0 && ip -n lsrv link set eth0 up &&
    ip -n lsrv link set lo up && ip -n lsrv route add default via $GWS &&
    sysctl -qw net.ipv4.ip_forward=1
}
check "topology client-gw-server" topo
nft -f - <<'NFT'
table inet lanefw {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct state new tcp dport 21 accept
    ct mark 0xf7a1 accept
  }
}
NFT
mkdir -p /srv/ftp /run/vsftpd/empty
head -c 3000000 /dev/urandom >/srv/ftp/small.bin
head -c 40000000 /dev/urandom >/srv/ftp/big.bin
cat >/etc/vsftpd.lane.conf <<'VSF'
listen=YES
listen_ipv6=NO
anonymous_enable=YES
anon_root=/srv/ftp
no_anon_password=YES
local_enable=NO
write_enable=NO
pasv_enable=YES
port_enable=YES
# vsftpd itself refuses EPRT naming another host unless promiscuous; the gateway decides here.
port_promiscuous=YES
connect_from_port_20=NO
secure_chroot_dir=/run/vsftpd/empty
seccomp_sandbox=NO
VSF
ip netns exec lsrv /usr/sbin/vsftpd /etc/vsftpd.lane.conf &
sleep 1

# --- the admin edits one file and enables the service -------------------------------------
sed -i 's/^# install_rules = false/install_rules = true/; s|^# events = ""|events = "/var/log/ftpalg/events.jsonl"|' "$cfg"
start=$(date +%s%3N)
check "systemctl enable --now ftpalgd" systemctl enable --now ftpalgd
say "active after $(($(date +%s%3N) - start)) ms (Type=notify: READY=1 after the queue and tables)"
systemctl is-active --quiet ftpalgd || {
  systemctl status ftpalgd --no-pager || true
  journalctl -u ftpalgd --no-pager | tail -n 40
}
check "queueing and pinhole tables installed at READY" sh -c 'nft list tables | grep -q "inet ftpalg_q0$" && nft list tables | grep -q ftpalg_queue'

get() { # get MODE FILE: download through the gateway, compare sha256
  local mode=$1 f=$2 flag=()
  [[ $mode == active ]] && flag=(-P -)
  # EPRT naming the client's second address: a third host for the policy (bounce).
  [[ $mode == bounce ]] && flag=(-P "$CLI2")
  rm -f /tmp/got
  ip netns exec lcli curl -sS --max-time 60 "${flag[@]}" -o /tmp/got "ftp://$SRV/$f" &&
    [[ $(sha256sum </tmp/got) == $(sha256sum <"/srv/ftp/$f") ]]
}
check "active FTP (PORT) through the gateway, sha256 equal" get active small.bin
check "passive FTP (EPSV) through the gateway, sha256 equal" get passive small.bin
# An active transfer to another address than the client's own is refused by the default policy
# (bounce) ...
check "active FTP to a third address refused by policy" sh -c "! timeout 15 ip netns exec lcli curl -sS --max-time 8 -P $CLI2 -o /dev/null ftp://$SRV/small.bin"

# --- reload: the changed policy applies to new announcements -------------------------------
echo 'allow_bounce = true' >>"$cfg"
check "systemctl reload ftpalgd" systemctl reload ftpalgd
sleep 1
check "journal: reload names the change" sh -c 'journalctl -u ftpalgd --no-pager | grep -q "reload: allow_bounce false -> true"'
check "active FTP to a third address after the reload, sha256 equal" get bounce small.bin
echo 'max_sessions = 0' >>"$cfg"
systemctl reload ftpalgd
sleep 1
check "journal: a broken file is rejected with file:line:col" sh -c "journalctl -u ftpalgd --no-pager | grep -q 'reload rejected, the running configuration stays: $cfg:[0-9]*:[0-9]*: .max_sessions. must be'"
check "still serving the reloaded policy after the rejected reload" get bounce small.bin
sed -i '/^max_sessions = 0/d' "$cfg"

# --- journal entries: started by systemd, each event is an entry with FTPALG_* fields ------
# (log_target "auto"). The refused EPRT/PORT above (bounce) and the admitted transfers.
# entries FILE FIELD=VALUE...: quiet; ok when an entry of FILE (journalctl -o json, one object a
# line) has every FIELD with a value starting with VALUE.
entries() {
  local out kv
  out=$(cat "$1")
  shift
  for kv in "$@"; do
    out=$(grep -F "\"${kv%%=*}\":\"${kv#*=}" <<<"$out") || return 1
  done
}
J=/tmp/journal-refuse.json
journalctl -u ftpalgd FTPALG_VERDICT=refuse -o json --no-pager >"$J" 2>/dev/null || true
check "journalctl -u ftpalgd FTPALG_VERDICT=refuse: the bounce refusal with its fields" \
  entries "$J" FTPALG_VERDICT=refuse FTPALG_REASON=bounce_address \
  MESSAGE_ID=be36de0065e840d0a9d90e39b45e5e45 PRIORITY=4 FTPALG_KIND= FTPALG_FLOW= \
  FTPALG_CLIENT= FTPALG_SERVER= "FTPALG_ANNOUNCED=$CLI2:" FTPALG_QUEUE=0 \
  "MESSAGE=ftpalgd: warning: queue 0: refuse "
check "journalctl FTPALG_VERDICT=refuse selects refusals only" sh -c "! grep -q '\"FTPALG_VERDICT\":\"admit' $J"
journalctl -u ftpalgd FTPALG_VERDICT=admit -o json --no-pager >"$J" 2>/dev/null || true
check "journalctl FTPALG_VERDICT=admit: the admit MESSAGE_ID and the expectation" \
  entries "$J" MESSAGE_ID=e899b98ac17b432a942b883085c47425 FTPALG_EXPECT_DST= FTPALG_QUEUE=0

# --- restart in the middle of a transfer ---------------------------------------------------
rm -f /tmp/big
ip netns exec lcli curl -sS --max-time 120 --limit-rate 8M -o /tmp/big "ftp://$SRV/big.bin" &
cpid=$!
sleep 2
check "systemctl restart ftpalgd mid-transfer" systemctl restart ftpalgd
wait "$cpid"
check "transfer survives the restart, sha256 equal" \
  test "$(sha256sum </tmp/big)" = "$(sha256sum </srv/ftp/big.bin)"
check "FTP works after the restart" get passive small.bin

# --- stop --------------------------------------------------------------------------------------
check "systemctl stop ftpalgd" systemctl stop ftpalgd
# A stop removes the queueing rules ftpalgd installed and leaves its pinhole table (pending
# pinholes expire on their own) for the next start (docs/daemon.md, "Restarts and failures").
check "stop removed the queueing rules" sh -c '! nft list tables | grep -q ftpalg_queue'
check "stop left the pinhole table for a successor" sh -c 'nft list tables | grep -q "inet ftpalg_q0$"'
journalctl -u ftpalgd --no-pager >/lane/journal.txt
check "journal shows admit lines" grep -q 'ftpalgd: info: queue [0-9]*: admit ' /lane/journal.txt
check "journal shows refuse lines" grep -q 'ftpalgd: warning: queue [0-9]*: refuse .*(bounce' /lane/journal.txt
check "journal shows READY and stop" sh -c 'grep -q "serving queue" /lane/journal.txt && grep -q "stopped:" /lane/journal.txt'
check "events file has admit events" grep -q '"admit"' /var/log/ftpalg/events.jsonl

# --- purge leaves nothing --------------------------------------------------------------------
systemctl start ftpalgd # purge stops a running service
nft add table inet ftpalg_helper # as a killed daemon would leave it: purge removes it
check "apt-get purge ftpalg" apt-get purge -y -q ftpalg
check "purge stopped the daemon" sh -c '! pgrep -x ftpalgd'
# shellcheck disable=SC2016 # ${Status} is dpkg-query's field, not a shell variable
check "package gone" sh -c '! dpkg-query -W -f="\${Status}" ftpalg 2>/dev/null | grep -q installed'
for p in /etc/ftpalg /var/log/ftpalg /usr/sbin/ftpalgd /usr/bin/ftpalg \
  /lib/systemd/system/ftpalgd.service /usr/share/man/man8/ftpalgd.8.gz \
  /etc/systemd/system/multi-user.target.wants/ftpalgd.service; do
  check "purge removed $p" test ! -e "$p"
done
check "purge left no ftpalg table in the kernel" sh -c '! nft list tables | grep -q ftpalg'
say "done, failed=$failed"
