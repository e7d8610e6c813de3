# shellcheck shell=sh
# What the kernel does with a verdict whose payload changed length, on a helped, NATed
# control connection (server behind DNAT, IPv4 passive: the 227 address 198,19,1,2 becomes
# 198,18,1,10, one byte longer, on each of two transfers over one control connection):
#  - with an NFQA_CT attribute in the verdict, the NFQUEUE conntrack glue records the change in
#    the conntrack entry's seqadj and the kernel shifts the sequence and acknowledgement
#    numbers of every later packet: the session completes;
#  - without it, nothing shifts them: the client acknowledges bytes the server never sent and
#    the control connection breaks right after the first rewrite (measured: curl reads a
#    reset after TYPE I). This is the control case.
Q=5
# The 227 address grows by the length difference of the public and the server address.
delta=$(printf '%+d' $((${#PUB4} - ${#S4})))
[ "$delta" != +0 ] || fail "public and server address have the same length: no length change"
topo_up
ct_probe helper-add --queue $Q --max 8 --timeout 30 --enable || fail "helper-add"
ftp_server_start
in_ns gw nft -f - <<EOF || fail "ruleset"
table inet lane {
  ct helper ftp-user { type "ftpalg" protocol tcp; }
  chain pre {
    type filter hook prerouting priority 0;
    tcp dport 21 ct state new ct helper set "ftp-user"
  }
  chain dstnat {
    type nat hook prerouting priority dstnat;
    ip daddr $PUB4 tcp dport 21 dnat ip to $S4
  }
  chain srcnat { type nat hook postrouting priority srcnat; }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state related,established accept
    tcp dport 21 ct state new accept
  }
}
EOF

# session ARGS...: one control connection, two passive downloads; status of curl.
session() {
  rm -f /tmp/o1 /tmp/o2
  # shellcheck disable=SC2046 # ftp_opts prints several options
  in_ns client curl -sS -v --max-time "$1" $(ftp_opts pasv) \
    -o /tmp/o1 "ftp://$PUB4/hello.txt" -o /tmp/o2 "ftp://$PUB4/big.bin" >/tmp/curl.log 2>&1 &&
    cmp -s /tmp/o1 /srv/ftp/hello.txt && cmp -s /tmp/o2 /srv/ftp/big.bin
}

$IP netns exec gw ct_probe alg --queue $Q --seconds 60 --rewrite >/tmp/alg.log 2>&1 &
alg=$!
sleep 0.3
if session 40; then
  grep -c "length $delta" /tmp/alg.log | grep -qx 2 || fail "expected two $delta rewrites"
  log "with NFQA_CT: two $delta rewrites, both transfers complete"
elif [ -n "$(kernel_defect)" ]; then
  # Seen on 6.1.170 in two of three runs (cause not established; the data connection's packets
  # go through this probe's queue there too); ftpalgd's +1 DNAT sessions pass on that kernel
  # (20-nat-matrix, 40-restart).
  tail -n 6 /tmp/curl.log | sed 's/^/    /'
  echo "LANE-FACT $(uname -r) ($(kernel_upstream)): KNOWN DEFECT: ct_probe's +1 seqadj session failed ($(kernel_defect))"
else
  tail -n 20 /tmp/curl.log
  fail "session with seqadj failed"
fi
kill $alg
wait $alg

$IP netns exec gw ct_probe alg --queue $Q --seconds 60 --rewrite --no-ct >/tmp/alg2.log 2>&1 &
alg=$!
sleep 0.3
if session 10; then
  grep -v "alg: queued" /tmp/alg2.log | sed 's/^/    /'
  grep -E '^[<>] |curl:' /tmp/curl.log | sed 's/^/    /'
  fail "session without NFQA_CT completed: seqadj applied without the glue?"
fi
log "without NFQA_CT: the session breaks after the first rewrite, as expected:"
grep -E '^[<>] |curl:' /tmp/curl.log | tail -n 4 | sed 's/^/    /'
kill $alg
wait $alg
in_ns gw nft delete table inet lane
ct_probe helper-del || fail "helper-del"
log "ok"
