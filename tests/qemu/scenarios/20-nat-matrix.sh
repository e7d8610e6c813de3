# Expectation mode through NAT, with ct_probe's small queue helper standing in for ftpalgd:
# {client behind masquerade, server behind DNAT} x {IPv4, IPv6} x {passive, active}. Each case
# downloads two files over one control connection through a gateway whose forward chain drops
# everything but the control connection and RELATED data connections, so a transfer only
# works when the expectation (with nat-follow-master where the master is NATed) is right.
# IPv4 passive through DNAT rewrites the 227 address 198,19,2,2 -> 198,18,100,1 (two bytes
# longer): the second transfer on that connection works only if the kernel's seqadj shifts the
# sequence numbers after a verdict that changed the payload length.
Q=5
topo_up
ct_probe helper-add --queue $Q --max 8 --timeout 30 --enable || fail "helper-add"
ftp_server_start
$IP netns exec gw ct_probe alg --queue $Q --seconds 220 --rewrite >/tmp/alg.log 2>&1 &
alg=$!

# ruleset NAT: the whole gateway ruleset for one NAT setup.
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
  in_ns gw nft -f - <<EOF || fail "ruleset $1"
table inet lane {
  ct helper ftp-user { type "ftpalg" protocol tcp; }
  counter related { }
  counter dropped { }
  chain pre {
    type filter hook prerouting priority 0;
    tcp dport 21 ct state new ct helper set "ftp-user"
  }
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
EOF
}

failures=0
for nat in masq dnat; do
  ruleset $nat
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
      if in_ns client curl -sS -v --max-time 40 $(ftp_opts $m) \
        -o /tmp/o1 "ftp://$host/hello.txt" -o /tmp/o2 "ftp://$host/big.bin" >/tmp/curl.log 2>&1 &&
        cmp -s /tmp/o1 /srv/ftp/hello.txt && cmp -s /tmp/o2 /srv/ftp/big.bin; then
        after=$(nft_counter_packets lane related)
        log "PASS $case_name: related packets $before -> $after"
        [ "$after" -ge $((before + 2)) ] || { log "  ...but fewer than two RELATED data connections"; failures=$((failures + 1)); }
      else
        log "FAIL $case_name"
        grep -E '^[<>] |curl:' /tmp/curl.log | sed 's/^/      /' | tail -n 12
        in_ns gw conntrack -L 2>/dev/null | sed 's/^/      ct: /'
        in_ns gw conntrack -L expect 2>/dev/null | sed 's/^/      exp: /'
        grep -v 'alg: queued' /tmp/alg.log | tail -n 6 | sed 's/^/      /'
        failures=$((failures + 1))
      fi
    done
  done
done
log "alg log (announcements):"
grep -E 'alg: (PORT|EPRT|227|229|rewrote|expect|done)|Operation|error' /tmp/alg.log | sed 's/^/    /'
kill $alg
wait $alg
in_ns gw nft delete table inet lane
ct_probe helper-del || fail "helper-del"
[ $failures -eq 0 ] || fail "$failures case(s) failed"
log "ok"
