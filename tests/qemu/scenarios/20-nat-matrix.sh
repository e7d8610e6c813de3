# shellcheck shell=sh
# Expectation mode end to end with the real daemon: ftpalgd --kernel-mode auto (which must pick
# cthelper here, name the kernel, and warn of a known defect where there is one)
# --install-rules registers the userspace helper, adds its table (ct helper object + `ct helper
# set` on new port-21 connections) and serves the helper's queue. Matrix {client behind
# masquerade, server behind DNAT} x {IPv4, IPv6} x {passive, active}: each case downloads two
# files over one control connection with curl from vsftpd (content compared byte for byte and
# by sha256) through a forward chain whose policy is drop and which admits only established
# traffic, new port-21 connections and `ct state related`: a transfer works only when
# ftpalgd's expectation (with nat-follow-master where the master is NATed) is right.
# IPv4 passive through DNAT rewrites the 227 address 198,19,1,2 -> 198,18,1,10 (one byte
# longer): the second transfer works only if the kernel's seqadj shifts the sequence numbers,
# i.e. only if ftpalgd's verdict carried NFQA_CT.
# Evidence printed: `conntrack -L expect` while a PASV announcement is outstanding (a raw
# control session held open with nc) and again after that session QUIT without opening the
# data connection (ftpalgd must have deleted the expectation within 2 s), the RELATED counter per case, the data connections in
# `conntrack -L`, ftpalgd's admit events. Per case, no packet of a data connection (nor any
# other non-control packet) may reach ftpalgd's queue: ftpalgd logs each one it receives at
# debug level, and the lane counts those lines. One result line per case ("LANE-RESULT {json}") for
# docs/interop.md.
Q=5
topo_up
ftp_server_start
# --kernel-mode auto: cthelper, naming the kernel; pinhole on a kernel with a known defect, and
# the defect said at start.
$IP netns exec gw ftpalgd --kernel-mode auto --queues 7 --events /tmp/events.auto.jsonl \
  >/tmp/ftpalgd.auto.log 2>&1 &
auto=$!
i=0
while ! grep -q "kernel mode" /tmp/ftpalgd.auto.log && [ $i -lt 100 ]; do
  i=$((i + 1))
  sleep 0.1
done
kill $auto 2>/dev/null
wait $auto 2>/dev/null
sed -n '/kernel mode\|defect/p' /tmp/ftpalgd.auto.log | sed 's/^/    ftpalgd auto: /'
if [ -n "$(kernel_defect)" ]; then
  if ! grep -q "kernel mode pinhole (auto): nfnetlink_cthelper answers on $(uname -r) (upstream $(kernel_upstream)), but" /tmp/ftpalgd.auto.log ||
    ! grep -q "known expectation-mode defect: kernel $(kernel_upstream)" /tmp/ftpalgd.auto.log; then
    fail "auto on $(kernel_upstream) did not take pinhole mode with the defect said"
  fi
else
  grep -q "kernel mode cthelper (auto): .* on $(uname -r) (upstream $(kernel_upstream))" /tmp/ftpalgd.auto.log ||
    fail "auto did not take cthelper mode on $(uname -r)"
  if grep "defect" /tmp/ftpalgd.auto.log; then fail "a defect said on $(kernel_upstream)"; fi
fi
$IP netns exec gw ftpalgd --kernel-mode cthelper --queues $Q --install-rules --log-level debug \
  --events /tmp/events.jsonl >/tmp/ftpalgd.log 2>&1 &
daemon=$!
i=0
while ! grep -q "serving queue" /tmp/ftpalgd.log; do
  i=$((i + 1))
  if [ $i -ge 100 ] || ! kill -0 $daemon 2>/dev/null; then
    cat /tmp/ftpalgd.log
    fail "ftpalgd did not start"
  fi
  sleep 0.1
done
sed 's/^/    ftpalgd: /' /tmp/ftpalgd.log
grep -q "kernel mode cthelper (requested) on $(uname -r)" /tmp/ftpalgd.log ||
  fail "ftpalgd did not pick cthelper mode (naming the kernel)"
if [ -n "$(kernel_defect)" ]; then
  grep -q "known expectation-mode defect: kernel $(kernel_upstream)" /tmp/ftpalgd.log ||
    fail "no warning of the known defect of $(kernel_upstream)"
fi
in_ns gw nft list table inet ftpalg_helper | sed 's/^/    /'
ct_probe helper-list | sed 's/^/    /'
ct_probe helper-list | grep -q "helper ftpalg family ipv4 proto 6 queue $Q status enabled max 8 timeout 30" ||
  fail "helper not registered and enabled by ftpalgd"

# ruleset NAT: the admin's part of the gateway ruleset (NAT and the forward chain).
ruleset() {
  case $1 in
    masq) natrules='chain srcnat { type nat hook postrouting priority srcnat; oifname "g1" masquerade; }' ;;
    dnat) natrules="chain dstnat { type nat hook prerouting priority dstnat;
                 ip daddr $PUB4 tcp dport 21 dnat ip to $S4
                 ip6 daddr $PUB6 tcp dport 21 dnat ip6 to $S6
               }
               chain srcnat { type nat hook postrouting priority srcnat; }" ;;
  esac
  in_ns gw nft delete table inet lane 2>/dev/null
  in_ns gw nft -f - <<EOR || fail "ruleset $1"
table inet lane {
  counter related { }
  counter dropped { }
  $natrules
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state related counter name "related" accept
    ct state established accept
    tcp dport 21 ct state new accept
    meta l4proto { icmp, ipv6-icmp } accept
    counter name "dropped"
  }
}
EOR
}

# held_pasv HOST: a control session that sends PASV and stays open 4 s without opening the
# data connection; prints `conntrack -L expect` while the expectation is outstanding.
held_pasv() {
  $IP netns exec client sh -c "(printf 'USER anonymous\r\n'; sleep 0.6; printf 'PASS x\r\n';
    sleep 0.6; printf 'PASV\r\n'; sleep 6; printf 'QUIT\r\n') | nc $1 21" >/tmp/nc.out 2>&1 &
  nc_pid=$!
  # The 227 (a loaded TCG guest may take seconds), then the expectation is outstanding.
  i=0
  while ! grep -q '^227' /tmp/nc.out && [ $i -lt 80 ]; do
    i=$((i + 1))
    sleep 0.1
  done
  sleep 0.3
  log "control session: $(grep '^227' /tmp/nc.out | tr -d '\r')"
  log "conntrack -L expect while the 227 is outstanding:"
  in_ns gw conntrack -L expect 2>&1 | sed 's/^/      /'
  in_ns gw conntrack -L expect 2>/dev/null | grep -q "helper=ftpalg" || { failures=$((failures + 1)); log "  ...no expectation listed"; }
  # The client QUITs without opening the data connection: once the control connection has
  # closed (FIN both ways) ftpalgd deletes the expectation, long before the policy timeout
  # (30 s) would.
  port=$(sed -n 's/^227 .*(\([0-9]*,\)\{4\}\([0-9]*\),\([0-9]*\)).*/\2 \3/p' /tmp/nc.out |
    awk '{ print $1 * 256 + $2 }')
  wait $nc_pid
  t0=$(cut -d' ' -f1 /proc/uptime)
  gone=0
  for _ in $(seq 20); do
    in_ns gw conntrack -L expect 2>/dev/null | grep -q "helper=ftpalg.*dport=$port \|dport=$port .*helper=ftpalg" || { gone=1; break; }
    sleep 0.1
  done
  secs=$(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }')
  if [ -n "$port" ] && [ $gone = 1 ]; then
    log "PASS expectation for data port $port gone ${secs}s after the control connection closed (QUIT, no data connection):"
    in_ns gw conntrack -L expect 2>&1 | sed 's/^/      /'
    grep "ended (fin)" /tmp/ftpalgd.log | tail -n 1 | sed 's/^/      /'
  else
    failures=$((failures + 1))
    log "FAIL expectation for data port '$port' still listed ${secs}s after the control connection closed:"
    in_ns gw conntrack -L expect 2>&1 | sed 's/^/      /'
  fi
}

failures=0
for nat in masq dnat; do
  ruleset $nat
  if [ $nat = dnat ]; then held_pasv "$PUB4"; else held_pasv "$S4"; fi
  for fam in 4 6; do
    if [ $nat = dnat ]; then
      host=$PUB4
      [ $fam = 6 ] && host="[$PUB6]"
    else
      host=$S4
      [ $fam = 6 ] && host="[$S6]"
    fi
    for mode in passive active; do
      case $fam$mode in
        4passive) m=pasv ;;
        6passive) m=epsv ;;
        4active) m=port ;;
        6active) m=eprt ;;
      esac
      rm -f /tmp/o1 /tmp/o2
      before=$(nft_counter_packets lane related)
      case_name="$nat ipv$fam $mode ($m)"
      t0=$(cut -d' ' -f1 /proc/uptime)
      data0=$(queued_noncontrol /tmp/ftpalgd.log "data connection")
      other0=$(queued_noncontrol /tmp/ftpalgd.log other)
      ok=0
      # shellcheck disable=SC2046 # ftp_opts prints several options
      if in_ns client curl -sS -v --max-time 40 $(ftp_opts "$m") \
        -o /tmp/o1 "ftp://$host/hello.txt" -o /tmp/o2 "ftp://$host/big.bin" >/tmp/curl.log 2>&1 &&
        cmp -s /tmp/o1 /srv/ftp/hello.txt && cmp -s /tmp/o2 /srv/ftp/big.bin &&
        [ "$(sha256sum </tmp/o2)" = "$(sha256sum </srv/ftp/big.bin)" ]; then
        ok=1
      fi
      secs=$(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }')
      after=$(nft_counter_packets lane related)
      qdata=$(($(queued_noncontrol /tmp/ftpalgd.log "data connection") - data0))
      qother=$(($(queued_noncontrol /tmp/ftpalgd.log other) - other0))
      notes="related packets $before -> $after, data-connection packets queued $qdata (other $qother), sha256 $(sha256sum 2>/dev/null </tmp/o2 | cut -c1-16)"
      if [ $ok = 1 ] && [ "$after" -ge $((before + 2)) ] && [ $qdata = 0 ] && [ $qother = 0 ]; then
        log "PASS $case_name: $notes"
        result=pass
      elif [ $ok = 1 ] && [ "$after" -ge $((before + 2)) ] && [ $qother = 0 ] && [ -n "$(kernel_defect)" ]; then
        notes="known defect: $(kernel_defect); $notes"
        log "XFAIL $case_name: $notes"
        result=xfail
      else
        log "FAIL $case_name: $notes"
        grep -E '^[<>] |curl:' /tmp/curl.log | sed 's/^/      /' | tail -n 12
        in_ns gw conntrack -L 2>/dev/null | sed 's/^/      ct: /'
        in_ns gw conntrack -L expect 2>/dev/null | sed 's/^/      exp: /'
        tail -n 6 /tmp/ftpalgd.log | sed 's/^/      /'
        failures=$((failures + 1))
        result=fail
      fi
      [ $fam = 6 ] && famname=ipv6 || famname=ipv4
      echo "LANE-RESULT {\"case\": \"$nat/$famname-$m\", \"mode\": \"ftpalgd-expect\", \"result\": \"$result\", \"seconds\": $secs, \"notes\": \"qemu $(uname -r); $notes\"}"
    done
  done
  log "data connections in conntrack -L after the $nat cases (RELATED to a helped master):"
  in_ns gw conntrack -L 2>/dev/null | grep -E 'dport=(4[0-9]{4}|[0-9]{5}) ' | grep -v 'dport=21 ' | head -n 4 | sed 's/^/      /'
  in_ns gw conntrack -L 2>/dev/null | grep 'dport=21 ' | head -n 2 | sed 's/^/      /'
done
log "ftpalgd admit events: $(grep -cE '"verdict": ?"admit"' /tmp/events.jsonl)"
grep -E '"verdict": ?"admit"' /tmp/events.jsonl | head -n 3 | sed 's/^/      /'
grep -qE '"verdict": ?"admit"' /tmp/events.jsonl || { failures=$((failures + 1)); log "no admit events"; }
grep -E 'admit|error|refuse' /tmp/ftpalgd.log | head -n 12 | sed 's/^/    ftpalgd: /'
kill -TERM $daemon
wait $daemon
rc=$?
sed 's/^/    ftpalgd: /' /tmp/ftpalgd.log | tail -n 3
[ $rc -eq 0 ] || fail "ftpalgd exit status $rc"
# A stop hands over to the next start (40-restart): table and helper stay, the helper disabled;
# --remove-helper is the explicit cleanup.
in_ns gw nft list table inet ftpalg_helper >/dev/null 2>&1 || fail "SIGTERM removed table ftpalg_helper"
ct_probe helper-list | grep -q "helper ftpalg family ipv4 proto 6 queue $Q status disabled" ||
  fail "after SIGTERM the helper is not registered and disabled"
$IP netns exec gw ftpalgd --kernel-mode cthelper --remove-helper >/tmp/ftpalgd.rm.log 2>&1 ||
  fail "ftpalgd --remove-helper: $(cat /tmp/ftpalgd.rm.log)"
in_ns gw nft list table inet ftpalg_helper >/dev/null 2>&1 && fail "--remove-helper left table ftpalg_helper"
ct_probe helper-list | grep -q "helper ftpalg " && fail "--remove-helper left the helper registered"
in_ns gw nft delete table inet lane
[ $failures -eq 0 ] || fail "$failures case(s) failed"
log "ok"
