#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/engine_fuzz.cc into tests/fuzz/engine_corpus/.

Each seed is a script in the format documented at the top of engine_fuzz.cc: a 4-byte
configuration header, then records {op, arg, ack delta, [sack], len, payload}. The seeds are
real FTP sessions (PORT/PASV/EPSV/EPRT, multi-line replies, retransmissions, gaps, 1-byte
splits, two sessions, small buffers) so the fuzzer starts from deep engine states.

Usage: tests/fuzz/make_engine_corpus.py [output-dir]   (stdlib only; rewrites the seeds)
"""
import os
import sys

C2S, S2C = 0, 1
DATA, RETRANSMIT, GAP, OVERLAP, ACK, FIN, RST, SYN_OR_TIME = range(8)

# Addresses the fuzz target uses (addr(v6, tag) in engine_fuzz.cc).
CLIENT_V4 = "10,1,0,2"
SERVER_V4 = "10,2,0,2"
SERVER_DNAT_V4 = "10,99,0,2"  # the server's private address behind DNAT
CLIENT_V6 = "2001:db8:1::2"


def header(nat=False, ack_original=False, evict=False, resync=False, bounce=False,
           low_ports=False, long_forms=False, v6=False, max_line=2, flight=2, buffers=3,
           sessions=2, two=False, handshake=True, max_expect=8, snat=False, dnat=False,
           small_mss=False, gap_drops=3, idle=3):
    h0 = (nat << 0 | ack_original << 1 | evict << 2 | resync << 3 | bounce << 4 |
          low_ports << 5 | long_forms << 6 | v6 << 7)
    h1 = max_line | flight << 2 | buffers << 4 | sessions << 6
    h2 = two | handshake << 1 | (max_expect - 1) << 2 | snat << 5 | dnat << 6 | small_mss << 7
    h3 = gap_drops | idle << 2
    return bytes([h0, h1, h2, h3])


def rec(d, kind, payload=b"", session=0, arg=0, ack=0, no_ack=False, variant=False,
        sack=None):
    if isinstance(payload, str):
        payload = payload.encode()
    assert len(payload) <= 255
    op = d | session << 1 | kind << 2 | no_ack << 5 | variant << 6 | (sack is not None) << 7
    out = bytes([op, arg & 0xFF, ack & 0xFF])
    if sack is not None:
        out += bytes([len(sack) - 1])
        for left, length in sack:
            out += bytes([left, length - 1])
    return out + bytes([len(payload)]) + payload


def send(d, text, sizes=None, session=0):
    """In-order data cut at `sizes` (the last size repeats), like EngineHarness::send."""
    data = text.encode()
    sizes = sizes or [min(len(data), 255)]
    out, pos, i = b"", 0, 0
    while pos < len(data):
        n = min(sizes[min(i, len(sizes) - 1)], 255, len(data) - pos)
        out += rec(d, DATA, data[pos:pos + n], session)
        pos += n
        i += 1
    return out


def login(session=0):
    return (send(S2C, "220 ready\r\n", session=session) +
            send(C2S, "USER anonymous\r\n", session=session) +
            send(S2C, "331 pass\r\n", session=session) +
            send(C2S, "PASS x\r\n", session=session) +
            send(S2C, "230 ok\r\n", session=session))


def bye(session=0):
    return (send(C2S, "QUIT\r\n", session=session) + send(S2C, "221 bye\r\n", session=session) +
            rec(S2C, FIN, session=session) + rec(C2S, FIN, session=session))


def seeds():
    s = {}
    s["port_nonat"] = header() + login() + send(C2S, "PORT %s,195,80\r\n" % CLIENT_V4) + \
        send(S2C, "200 PORT ok\r\n") + send(C2S, "RETR f\r\n") + \
        send(S2C, "150 here\r\n226 done\r\n") + bye()
    s["port_snat_one_byte"] = header(nat=True, snat=True) + login() + \
        send(C2S, "PORT %s,195,80\r\n" % CLIENT_V4, [1]) + send(S2C, "200 ok\r\n") + \
        send(C2S, "NOOP\r\nport %s,195,81\r\nLIST\r\n" % CLIENT_V4, [3, 7, 5]) + \
        send(S2C, "200 ok\r\n150 x\r\n226 y\r\n") + bye()
    s["pasv_dnat_multiline"] = header(nat=True, dnat=True) + login() + send(C2S, "PASV\r\n") + \
        send(S2C, "227-Entering Passive Mode\r\n %s,156,64\r\n227 done\r\n" % SERVER_DNAT_V4) + \
        send(C2S, "PASV\r\n") + \
        send(S2C, "227 Entering Passive Mode (%s,156,65).\r\n" % SERVER_DNAT_V4, [9, 4]) + \
        send(C2S, "RETR x\r\n") + send(S2C, "150 x\r\n226 y\r\n") + bye()
    s["pasv_both_nat_no_paren"] = header(nat=True, snat=True, dnat=True) + login() + \
        send(C2S, "PASV\r\n") + send(S2C, "227 ok =%s,156,64 here\r\n" % SERVER_DNAT_V4) + \
        send(C2S, "PORT %s,195,80\r\n" % CLIENT_V4) + send(S2C, "200 ok\r\n") + bye()
    s["epsv_eprt_v6_nat"] = header(nat=True, snat=True, dnat=True, v6=True) + login() + \
        send(C2S, "EPSV\r\n") + send(S2C, "229 Entering Extended Passive Mode (|||40001|)\r\n") + \
        send(C2S, "EPRT |2|%s|50000|\r\n" % CLIENT_V6, [2]) + send(S2C, "200 ok\r\n") + \
        send(C2S, "EPSV 2\r\n") + send(S2C, "229 ok (!!!40002!)\r\n") + bye()
    s["eprt_v4"] = header(nat=True, snat=True) + login() + \
        send(C2S, "EPRT |1|10.1.0.2|50000|\r\n") + send(S2C, "200 ok\r\n") + \
        send(C2S, "EPRT |1|10.1.0.99|50001|\r\n") + send(S2C, "200 ok\r\n") + bye()
    port = "PORT %s,195,80\r\n" % CLIENT_V4
    s["retransmissions"] = header(nat=True, snat=True) + login() + send(C2S, port) + \
        rec(C2S, RETRANSMIT, arg=len(port) - 1) + \
        rec(C2S, RETRANSMIT, arg=len(port) - 6, payload=port[5:]) + \
        send(S2C, "200 ok\r\n") + rec(C2S, RETRANSMIT, arg=len(port) - 1) + \
        send(C2S, "NOOP\r\n") + \
        rec(C2S, RETRANSMIT, arg=5, variant=True, payload="NOOQ\r\n") + bye()
    s["gap_then_fill"] = header(nat=True, snat=True, gap_drops=2) + login() + \
        rec(C2S, GAP, arg=5, payload=port) + rec(C2S, RETRANSMIT, arg=len(port) + 5) + \
        send(S2C, "200 ok\r\n") + bye()
    s["gap_resync"] = header(resync=True, ack_original=True) + login() + \
        rec(C2S, GAP, arg=9, payload=port) + send(C2S, "NOOP\r\n" + port) + \
        rec(S2C, GAP, arg=3, payload="227 Entering Passive Mode (10,2,0,2,1,2)\r\n") + bye()
    s["overlap"] = header(nat=True, snat=True) + login() + send(C2S, "PORT 10,1,0") + \
        rec(C2S, OVERLAP, arg=4, payload=",2,195,80\r\n") + send(S2C, "200 ok\r\n") + bye()
    s["two_sessions_one_slot"] = header(nat=True, snat=True, two=True, sessions=0) + \
        login(0) + login(1) + send(C2S, port, [4], session=1) + send(C2S, port, [4]) + \
        send(S2C, "200 ok\r\n", session=1) + bye(0) + bye(1)
    s["two_sessions_interleaved"] = header(nat=True, snat=True, dnat=True, two=True,
                                           buffers=1) + \
        login(0) + login(1) + send(C2S, "PORT 10,1", session=0) + \
        send(C2S, "PASV\r\n", session=1) + send(C2S, ",0,2,195,80\r\n", session=0) + \
        send(S2C, "227 (%s,156,64)\r\n" % SERVER_DNAT_V4, [5], session=1) + bye(1) + bye(0)
    s["small_line_evict"] = header(max_line=0, flight=0, evict=True, ack_original=True) + \
        login() + send(C2S, "PORT " + "1" * 200 + "\r\n", [50]) + send(C2S, port) + \
        send(S2C, "211-" + "x" * 100 + "\r\n 227 (10,2,0,2,1,2)\r\n211 end\r\n", [60]) + bye()
    s["auth_tls"] = header() + login() + send(C2S, "AUTH TLS\r\n") + \
        send(S2C, "234 go ahead\r\n") + rec(C2S, DATA, payload=bytes(range(0, 64))) + \
        send(C2S, port) + bye()
    s["rst_reopen_expire"] = header(nat=True, snat=True, idle=1) + login() + \
        send(C2S, "POR") + rec(C2S, RST) + rec(C2S, SYN_OR_TIME, arg=3) + login() + \
        send(C2S, "PO") + rec(C2S, SYN_OR_TIME, arg=5, variant=True) + send(C2S, port)
    s["midstream"] = header(handshake=False) + \
        send(S2C, "227 Entering Passive Mode (10,2,0,2,156,64)\r\n") + send(C2S, "PASV\r\n") + \
        send(S2C, "227 Entering Passive Mode (10,2,0,2,156,64)\r\n") + \
        send(C2S, "PORT 10,1,0,2,0,22\r\n")
    s["policy_flags"] = header(long_forms=True, low_ports=True, bounce=True, max_expect=2) + \
        login() + send(C2S, "LPRT 4,4,10,1,0,2,2,0,22\r\n") + send(C2S, "LPSV\r\n") + \
        send(S2C, "228 Entering Long Passive Mode (4,4,10,2,0,2,2,195,80)\r\n") + \
        send(C2S, "PORT 10,9,9,9,0,21\r\n") + send(C2S, "EPSV ALL\r\n") + \
        send(C2S, port) + bye()
    s["small_mss_grow"] = header(nat=True, snat=True, small_mss=True) + login() + \
        send(C2S, port + "NOOP\r\n" + port) + rec(S2C, ACK) + \
        rec(C2S, RETRANSMIT, arg=2 * len(port) + 5) + rec(S2C, ACK) + bye()
    s["sack_and_acks"] = header(nat=True, snat=True) + login() + send(C2S, port) + \
        send(C2S, "NOOP\r\n") + rec(S2C, ACK, sack=[(2, 6)]) + rec(S2C, ACK, ack=-3) + bye()
    s["big_multiline_reply"] = header() + login() + send(C2S, "STAT\r\n") + \
        send(S2C, "211-status\r\n" + " line of status text\r\n" * 40 + "211 end\r\n", [255]) + bye()
    # Regression: data after a FIN used to make the retransmission check read past the
    # flight buffer (fixed in engine.cc; see EngineRegression in tests/unit/core).
    s["data_after_fin"] = header(nat=True, snat=True, max_line=0, flight=0, buffers=0) + \
        login() + rec(C2S, FIN, payload="x" * 126 + "\r\n") + \
        rec(C2S, OVERLAP, arg=127, payload="NOOP\r\n") + rec(S2C, FIN)
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                             "engine_corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
