#!/bin/bash
# shellcheck disable=SC2016 # check() evaluates its single-quoted conditions later
# Withdrawn and reassigned announcements through ftpalgd (root, network namespaces).
#
#   client (198.18.1.2 and .3) -- gw (masquerade, ftpalgd pinhole mode) -- server (vsftpd), third
#
# Cases (one per run):
#   withdraw   A PORT the server refuses (vsftpd port_enable=NO) leaves no pin, NAT map element
#              or single-use mark right after the reply; a refused PORT for the gateway's
#              published port 8080 (DNAT to the third host) and an accepted one left unused when
#              the session ends never divert a connection from the server to 8080.
#   clash      Two clients behind the one masquerade address announce the same PORT to the same
#              server: the second is moved to another public port at once, both downloads pass
#              their SHA-256 check; prints the second PORT's reply time.
#   gateway    With --allow-bounce, a PORT naming the gateway's own address (its client-side
#              address and its DNAT public address) is refused with reason special_address.
#   pipeline   PORT and RETR sent in one segment (no wait for the 200), 8 times: prints the data
#              SYNs the gateway dropped before their pin existed (late SYNs); must be 0.
#
# usage: withdraw_test.sh <ftpalgd> withdraw|clash|gateway|pipeline
set -euo pipefail

FTPALGD=$(readlink -f "${1:?usage: $0 <ftpalgd> CASE}")
CASE=${2:?usage: $0 <ftpalgd> CASE}
repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
MARK=0xf7a1
QUEUE=47
T=20
CLIENT2=198.18.1.3

export NETNS_PREFIX="ftwd-$CASE-$$-"
GW_TEST_TAG=withdraw
# shellcheck source=tests/netns/lib/gw_test.sh
. "$repo/tests/netns/lib/gw_test.sh"
gw_test_require_root
gw_test_require_vsftpd
PYTHON=$(command -v python3)
gw_test_tmp withdraw

netns_topology_gw masq
netns_addr client veth0 "$CLIENT2/$NETNS_LINK_LEN4"
in_ns gw nft -f - <<NFT
table inet fw {
  counter dropped_syn { }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct mark $MARK accept
    ct state new tcp dport 21 accept
    ip daddr $NETNS_THIRD4 tcp dport 8080 accept
    tcp flags syn counter name dropped_syn drop
  }
}
table inet nat {
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "srv0" ip daddr $NETNS_GW_SRV4 tcp dport 8080 dnat ip to $NETNS_THIRD4:8080
  }
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "srv0" masquerade
  }
}
NFT
for dir in --dport --sport; do
  in_ns gw iptables -t mangle -A FORWARD -p tcp "$dir" 21 -j NFQUEUE --queue-num "$QUEUE"
done

e2e_files
# vsftpd PORT_ENABLE: (re)start the server with PORT allowed (YES) or refused (NO).
SERVER_PID=''
vsftpd_start() {
  if [[ -n $SERVER_PID ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  e2e_vsftpd_conf | sed "s/^port_enable=.*/port_enable=$1/" >"$E2E_TMP/vsftpd.conf"
  gw_test_vsftpd "$E2E_TMP/vsftpd.conf"
}

extra=()
[[ $CASE == gateway ]] && extra=(--allow-bounce)
gw_test_daemon "$QUEUE" "$E2E_TMP/ftpalgd.log" --queues "$QUEUE" --kernel-mode pinhole \
  --mark "$MARK" --events "$E2E_TMP/events.jsonl" --log-level debug "${extra[@]}"

# The elements of the pinhole table's sets and maps, one per line ("" when none).
elements() {
  local s
  for s in pin4 natuse4; do in_ns gw nft -j list set inet "ftpalg_q$QUEUE" "$s"; done
  for s in nat4 snat4; do in_ns gw nft -j list map inet "ftpalg_q$QUEUE" "$s"; done
} 2>/dev/null
element_count() {
  elements | "$PYTHON" -c '
import json, sys
n = 0
for line in sys.stdin:
    for o in json.loads(line)["nftables"]:
        for k in ("set", "map"):
            if k in o:
                n += len(o[k].get("elem", []))
print(n)'
}

# The FTP client (ftplib): client.py SOURCE ACTION...; see the cases below.
cat >"$E2E_TMP/client.py" <<'PY'
import ftplib, hashlib, socket, sys, time

def session(src):
    f = ftplib.FTP(timeout=90)
    f.connect(sys.argv[2], 21, source_address=(src, 0))
    f.login()
    return f

def listener(src, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, port))
    s.listen(4)
    return s

def port_cmd(src, port):
    return "PORT %s,%d,%d" % (src.replace(".", ","), port >> 8, port & 255)

def received(lst):  # the SHA-256 of what the first connection to lst sends
    lst.settimeout(10)
    c, _ = lst.accept()
    h = hashlib.sha256()
    while True:
        b = c.recv(65536)
        if not b:
            break
        h.update(b)
    c.close()
    return h.hexdigest()

def fetch(f, lst, what):
    f.putcmd("RETR " + what)
    f.getresp()
    digest = received(lst)
    f.voidresp()
    return digest

mode = sys.argv[1]
if mode == "refused":  # refused SRC PORT: prints the reply
    src, port = sys.argv[3], int(sys.argv[4])
    f = session(src)
    lst = listener(src, port)
    try:
        f.sendcmd(port_cmd(src, port))
        print("accepted")
    except ftplib.Error as e:
        print(str(e).split()[0])
    sys.stdout.flush()
    # The caller looks at the gateway, then lets us go (creates the file argv[5]).
    for _ in range(200):
        try:
            open(sys.argv[5]).close()
            break
        except OSError:
            time.sleep(0.1)
    f.quit()
elif mode == "stale":  # stale SRC PORT: PORT accepted, never used, session closed
    src, port = sys.argv[3], int(sys.argv[4])
    f = session(src)
    lst = listener(src, port)
    print(f.sendcmd(port_cmd(src, port)).split()[0])
    f.quit()
elif mode == "clash":  # clash SRC1 SRC2 PORT: prints seconds of the second PORT, two sha256
    a, b, port = sys.argv[3], sys.argv[4], int(sys.argv[5])
    fa, fb = session(a), session(b)
    la, lb = listener(a, port), listener(b, port)
    fa.sendcmd(port_cmd(a, port))
    t0 = time.monotonic()
    fb.sendcmd(port_cmd(b, port))
    print("%.2f" % (time.monotonic() - t0))
    print(fetch(fa, la, "pub/big.bin"))
    print(fetch(fb, lb, "pub/big.bin"))
    fa.quit(); fb.quit()
elif mode == "announce":  # announce SRC ADDR PORT: the reply to PORT ADDR,PORT
    src, addr, port = sys.argv[3], sys.argv[4], int(sys.argv[5])
    f = session(src)
    try:
        print(f.sendcmd(port_cmd(addr, port)).split()[0])
    except ftplib.Error as e:
        print(str(e).split()[0])
    f.quit()
elif mode == "pipeline":  # pipeline SRC N: PORT and RETR in one segment, N times; sha256 each
    src, n = sys.argv[3], int(sys.argv[4])
    f = session(src)
    for i in range(n):
        lst = listener(src, 0)
        p = lst.getsockname()[1]
        f.sock.sendall((port_cmd(src, p) + "\r\nRETR pub/big.bin\r\n").encode())
        f.voidresp()  # 200 to PORT
        f.getresp()   # 150
        digest = received(lst)
        f.voidresp()
        lst.close()
        print(digest)
    f.quit()
PY

# check NAME CONDITION: gw_test.sh's check with CONDITION evaluated here.
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }

# shellcheck source=tests/netns/lib/listener.sh
. "$repo/tests/netns/lib/listener.sh"
# diverted_count: of 3 connections from the server to the published port, how many the client
# answered.
diverted_count() {
  local n=0 g
  for _ in 1 2 3; do
    g=$(greeting server "$NETNS_GW_SRV4" 8080)
    [[ $g == published ]] || n=$((n + 1))
  done
  echo "$n"
}

case $CASE in
  withdraw)
    vsftpd_start NO
    listen third 8080 published
    # Until the listener answers (its python starts slowly on a loaded machine), at most 10 s.
    for _ in $(seq 20); do
      [[ $(greeting server "$NETNS_GW_SRV4" 8080 2>/dev/null) == published ]] && break
      sleep 0.5
    done
    [[ $(greeting server "$NETNS_GW_SRV4" 8080) == published ]] || { log "FAIL - published port"; exit 1; }
    # The client behind the gateway announces its own port 8080 (listening, as a data port
    # would), which the NAT map would send the gateway's published 8080 to.
    in_ns client "$PYTHON" "$E2E_TMP/client.py" refused "$NETNS_SERVER4" "$NETNS_CLIENT4" 8080 \
      "$E2E_TMP/go" >"$E2E_TMP/reply" 2>"$E2E_TMP/client.err" &
    cli=$!
    for _ in $(seq 100); do [[ -s $E2E_TMP/reply ]] && break; sleep 0.1; done
    reply=$(cat "$E2E_TMP/reply")
    [[ -n $reply ]] || { reply=none; cat "$E2E_TMP/client.err"; }
    left=$(element_count)
    admitted=$(grep -c '"verdict":"admit"' "$E2E_TMP/events.jsonl" || true)
    log "server's reply to PORT: $reply; pinhole table elements right after it: $left; admits: $admitted"
    check "the server refused the PORT" '[[ $reply == 5* ]]'
    check "the PORT was admitted (and so had elements to withdraw)" '((admitted >= 1))'
    check "no pin, NAT element or mark left after the refusal" '((left == 0))'
    d=$(diverted_count)
    log "connections to the published port after the refused announcement: $d of 3 diverted"
    check "a refused announcement diverts nothing" '((d == 0))'
    touch "$E2E_TMP/go"
    wait "$cli" 2>/dev/null || true
    check "a withdraw event says server_refused" 'grep -q "\"kind\":\"withdraw\".*server_refused\|server_refused.*\"kind\":\"withdraw\"" "$E2E_TMP/events.jsonl"'

    vsftpd_start YES
    got=$(in_ns client "$PYTHON" "$E2E_TMP/client.py" stale "$NETNS_SERVER4" "$NETNS_CLIENT4" 8080 2>&1 || echo none)
    sleep 0.3
    left=$(element_count)
    log "stale announcement: reply $got, elements after the session ended: $left"
    check "the stale PORT was accepted" '[[ $got == 200 ]]'
    check "no element left once the session ended" '((left == 0))'
    d=$(diverted_count)
    log "connections to the published port after the stale announcement: $d of 3 diverted"
    check "a stale announcement diverts nothing" '((d == 0))'
    ;;
  clash)
    vsftpd_start YES
    mapfile -t out < <(in_ns client timeout 150 "$PYTHON" "$E2E_TMP/client.py" clash "$NETNS_SERVER4" \
      "$NETNS_CLIENT4" "$CLIENT2" 45000 || true)
    T=150
    secs=${out[0]:-none}
    log "second client's PORT for the same port answered after ${secs} s"
    log "sha256: ${out[1]:-none} ${out[2]:-none} (want $E2E_BIG_SHA)"
    check "second PORT answered within 5 s" '[[ $secs != none ]] && "$PYTHON" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 5 else 1)" "$secs"'
    check "both downloads intact" '[[ ${out[1]:-} == "$E2E_BIG_SHA" && ${out[2]:-} == "$E2E_BIG_SHA" ]]'
    check "the clash was reassigned" 'grep -q "port_reassigned\|198.19.1.1:45001" "$E2E_TMP/events.jsonl" "$E2E_TMP/ftpalgd.log"'
    ;;
  gateway)
    vsftpd_start YES
    # A third host's address first: --allow-bounce admits it (so a refusal below is not the
    # bounce policy).
    in_ns client "$PYTHON" "$E2E_TMP/client.py" announce "$NETNS_SERVER4" "$NETNS_CLIENT4" "$NETNS_THIRD4" 45000 >/dev/null || true
    for a in "$NETNS_GW_CLI4" "$NETNS_PUBLIC4"; do
      in_ns client "$PYTHON" "$E2E_TMP/client.py" announce "$NETNS_SERVER4" "$NETNS_CLIENT4" "$a" 45000 >/dev/null || true
    done
    sleep 0.3
    third=$(grep -c "\"verdict\":\"admit\"" "$E2E_TMP/events.jsonl" || true)
    special=$(grep -c "special_address" "$E2E_TMP/events.jsonl" || true)
    log "with --allow-bounce: $third admitted (third host), $special refused special_address (gateway's own)"
    grep 'gateway addresses' "$E2E_TMP/ftpalgd.log" || true
    check "a third host's address is admitted with --allow-bounce" '((third == 1))'
    check "the gateway's own addresses are refused with special_address" '((special == 2))'
    ;;
  pipeline)
    vsftpd_start YES
    N=8  # the per-session budget of outstanding expectations
    mapfile -t out < <(in_ns client timeout 60 "$PYTHON" "$E2E_TMP/client.py" pipeline "$NETNS_SERVER4" "$NETNS_CLIENT4" "$N" || true)
    ok=0
    for h in "${out[@]}"; do [[ $h == "$E2E_BIG_SHA" ]] && ok=$((ok + 1)); done
    late=$(in_ns gw nft list counter inet fw dropped_syn | grep -o 'packets [0-9]*' | cut -d' ' -f2)
    log "pipelined PORT+RETR: $ok of $N transfers intact, $late data SYNs dropped before their pin (late SYNs)"
    check "every pipelined transfer intact" '((ok == N))'
    check "no late data SYN" '((late == 0))'
    ;;
  *)
    log "unknown case $CASE"
    exit 2
    ;;
esac
if ((FAILED)); then tail -n 40 "$E2E_TMP/ftpalgd.log"; fi
exit $FAILED
