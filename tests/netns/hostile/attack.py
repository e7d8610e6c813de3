#!/usr/bin/env python3
"""Hostile hosts for the ftpalg hostile-load test (tests/netns/hostile/run.sh) and its
before/after measurements (tests/bench/hostile/measure.sh). IPv4 only; raw sockets for what
needs a forged header (no scapy), ordinary sockets for what needs a real TCP session.

Subcommands (each runs inside one namespace the caller made, under `timeout`):
  synflood  SYNs to DST:PORT from random sources of --src-net, at --rate per second
  junkdata  payload segments (ACK|PSH, no handshake, no line end) to DST:PORT, one flow each,
            from random sources of --src-net, at --rate per second
  holders   --count real FTP sessions that log in, then send a command line that could become
            an announcement (LPRT/PORT) one byte per segment and never complete it
  junkport  --sessions FTP sessions that send --lines refused announcement lines each (bounce
            addresses, low ports, special addresses, malformed; --before-login: also the
            session's own address, all before USER), pipelined
  spoof     forged RSTs with wrong sequence numbers (both directions) and SYNs with another
            ISN at the tuples of the established control connections conntrack shows in
            --gw-ns; run in the caller's namespace, it forges from two others (setns)
  probe     --until-fail: a login + PASV round trip every --interval s; prints the seconds
            until the first failure (or "never") as JSON

Every subcommand prints one JSON line {"tool":..., ...figures} on stdout at its end. Nothing
here reaches beyond the addresses it is given. Exit status 0, or 2 on a usage error.
"""

import argparse
import ipaddress
import json
import random
import socket
import struct
import subprocess
import sys
import threading
import time


# --- forged packets -------------------------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def tcp_packet(src, sport, dst, dport, seq, ack, flags, payload=b"", window=64240):
    """An IPv4 + TCP packet with valid checksums (src, dst: 4-byte addresses)."""
    opts = b"\x02\x04\x05\xb4" if flags & SYN else b""  # MSS 1460 on SYNs
    off = (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, window, 0, 0)
    tcp += opts + payload
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    c = csum(pseudo + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    total = 20 + len(tcp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, random.getrandbits(16), 0x4000, 64,
                     socket.IPPROTO_TCP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


class RawSender:
    """Sends forged IPv4 packets (IP_HDRINCL) at a bounded rate."""

    def __init__(self, rate):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.rate = rate
        self.sent = 0
        self.errors = 0
        self.t0 = time.monotonic()

    def send(self, pkt, dst):
        try:
            self.s.sendto(pkt, (dst, 0))
            self.sent += 1
        except OSError:
            self.errors += 1  # ENOBUFS under load: counted, not fatal
        if self.rate:
            ahead = self.sent / self.rate - (time.monotonic() - self.t0)
            if ahead > 0.002:
                time.sleep(ahead)


def random_sources(net, n):
    """n distinct (address, port) pairs inside net."""
    size = net.num_addresses - 2
    seen = set()
    while len(seen) < n:
        host = net.network_address + 1 + random.randrange(size)
        seen.add((socket.inet_aton(str(host)), random.randrange(1024, 65535)))
    return list(seen)


def cmd_synflood(a):
    snd = RawSender(a.rate)
    dst = socket.inet_aton(a.dst)
    end = time.monotonic() + a.duration
    for src, sport in random_sources(ipaddress.ip_network(a.src_net), a.count):
        if time.monotonic() > end:
            break
        snd.send(tcp_packet(src, sport, dst, a.dport, random.getrandbits(32), 0, SYN), a.dst)
    return {"tool": "synflood", "sent": snd.sent, "errors": snd.errors,
            "seconds": round(time.monotonic() - snd.t0, 2)}


def cmd_junkdata(a):
    snd = RawSender(a.rate)
    dst = socket.inet_aton(a.dst)
    flows = random_sources(ipaddress.ip_network(a.src_net), a.flows)
    payload = a.payload.encode()
    end = time.monotonic() + a.duration
    for rnd in range(a.segments):
        for i, (src, sport) in enumerate(flows):
            if time.monotonic() > end:
                break
            seq = (i * 7919 + rnd * len(payload)) & 0xFFFFFFFF
            snd.send(tcp_packet(src, sport, dst, a.dport, seq, 1, ACK | PSH, payload), a.dst)
    return {"tool": "junkdata", "flows": len(flows), "sent": snd.sent, "errors": snd.errors,
            "seconds": round(time.monotonic() - snd.t0, 2)}


# --- real FTP sessions -----------------------------------------------------------------------------

class Ftp:
    """A minimal control connection: greeting, optional login, line commands."""

    def __init__(self, host, port=21, timeout=10, source=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        if source:
            self.s.bind((source, 0))
        self.s.connect((host, port))
        self.f = self.s.makefile("rb")
        self.local = self.s.getsockname()[0]
        self.reply()

    def reply(self):
        line = self.f.readline(1024).decode("latin-1")
        if not line:
            raise OSError("control connection closed")
        return line.rstrip("\r\n")

    def login(self):
        self.send("USER anonymous")
        self.reply()
        self.send("PASS attack@ftpalg.test")
        r = self.reply()
        if not r.startswith("230"):
            raise OSError(f"login refused: {r}")

    def send(self, line):
        self.s.sendall((line + "\r\n").encode())

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def holder(a, idx, results):
    """Logs in, then sends a partial LPRT/PORT one byte per segment; never ends the line."""
    try:
        ftp = Ftp(a.host, timeout=a.duration + 10)
        ftp.login()
    except OSError as e:
        results[idx] = f"setup: {e}"
        return
    h = ftp.local.split(".")
    if a.verb == "LPRT":
        line = "LPRT 4,4," + ",".join(h) + ",2,"
        line += "1" * 200  # keeps the address text growing, never complete
    else:
        line = "PORT " + ",".join(h[:3])  # stops inside the address (the part NAT rewrites)
    ftp.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    end = time.monotonic() + a.duration
    sent = 0
    try:
        for ch in line:
            if time.monotonic() > end:
                break
            ftp.s.send(ch.encode())
            sent += 1
            time.sleep(a.pause)
        while time.monotonic() < end:
            time.sleep(0.2)
    except OSError as e:
        results[idx] = f"after {sent} bytes: {e}"
        ftp.close()
        return
    results[idx] = sent
    ftp.close()


def cmd_holders(a):
    results = [None] * a.count
    threads = []
    for i in range(a.count):
        t = threading.Thread(target=holder, args=(a, i, results), daemon=True)
        t.start()
        threads.append(t)
        time.sleep(a.stagger)
    for t in threads:
        t.join(a.duration + 15)
    ok = [r for r in results if isinstance(r, int)]
    bad = [r for r in results if not isinstance(r, int)]
    return {"tool": "holders", "sessions": len(ok), "bytes": sum(ok), "failed": len(bad),
            "first_failure": str(bad[0]) if bad else ""}


def junk_lines(own, before_login):
    """Announcement lines the gateway must refuse (never a valid one after login)."""
    o = own.split(".")
    lines = [
        "PORT 1,2,3,4,200,1",              # bounce: a third host
        "PORT " + ",".join(o) + ",0,80",   # own address, low port
        "PORT 127,0,0,1,200,1",            # special address
        "PORT 255,255,255,255,200,1",      # special address
        "PORT 999,1,1,1,1,1",              # malformed octet
        "PORT " + ",".join(o) + ",200",    # too few numbers
        "EPRT |1|" + own + "|0|",          # port 0
        "EPRT |1|224.0.0.1|51001|",        # multicast
        "PORT" + " 1" * 40,                # garbage
    ]
    if before_login:
        lines.append("PORT " + ",".join(o) + ",200,1")  # valid, but before login
        lines.append("EPRT |1|" + own + "|51201|")
    return lines


def junk_session(a, idx, results):
    sent = replies = 0
    try:
        ftp = Ftp(a.host, timeout=20)
        if not a.before_login:
            ftp.login()
        lines = junk_lines(ftp.local, a.before_login)
        # Pipelined in chunks; the replies are read so the server keeps reading.
        chunk = 50
        while sent < a.lines:
            n = min(chunk, a.lines - sent)
            batch = "".join(lines[(sent + i) % len(lines)] + "\r\n" for i in range(n))
            ftp.s.sendall(batch.encode())
            sent += n
            for _ in range(n):
                ftp.reply()
                replies += 1
        ftp.close()
        results[idx] = (sent, replies, "")
    except OSError as e:
        results[idx] = (sent, replies, str(e))


def cmd_junkport(a):
    results = [None] * a.sessions
    threads = [threading.Thread(target=junk_session, args=(a, i, results), daemon=True)
               for i in range(a.sessions)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    done = [r for r in results if r]
    return {"tool": "junkport", "before_login": a.before_login,
            "lines": sum(r[0] for r in done), "replies": sum(r[1] for r in done),
            "line_bytes": sum(len(x) + 2 for x in junk_lines("198.18.3.2", a.before_login)) *
            sum(r[0] for r in done) // len(junk_lines("198.18.3.2", a.before_login)),
            "errors": [r[2] for r in done if r[2]][:3],
            "seconds": round(time.monotonic() - t0, 2)}


# --- spoofing at the legitimate tuples ------------------------------------------------------------

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003  # outgoing packets reach only ETH_P_ALL taps


def in_netns(name, make):
    """Calls make() inside network namespace `name` and comes back; a socket made there stays
    there."""
    import ctypes
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    with open("/proc/self/ns/net") as home, open(f"/run/netns/{name}") as there:
        if libc.setns(there.fileno(), CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
        try:
            return make()
        finally:
            libc.setns(home.fileno(), CLONE_NEWNET)


class SeqWatch:
    """Watches the client link (AF_PACKET in the client's namespace) for the next sequence
    number of both directions of each control connection, so the forged packets can be made
    surely wrong: a blind attacker's guess, minus the rare lucky one that would make the test
    depend on chance.

    Only the endpoints' own segments count: RSTs and SYNs are skipped. The link also carries
    this forger's packets (the server-side RSTs the gateway forwards to the client, and every
    client-side one when the client's namespace forges them), and learning "next" from a forged
    RST 2**30 ahead put the following round's "2**30 behind" within 2**20 of the real sequence
    number: in the receiver's window about one time in sixteen, an RST the gateway rightly takes
    and one no off-path attacker could aim."""

    def __init__(self, ns):
        self.s = in_netns(ns, lambda: socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                                                    socket.htons(ETH_P_ALL)))
        self.s.setblocking(False)
        self.next = {}  # (client addr, client port) -> {"c2s": seq, "s2c": seq}

    def drain(self):
        while True:
            try:
                pkt = self.s.recv(65535)
            except BlockingIOError:
                return
            if len(pkt) < 40 or pkt[0] >> 4 != 4 or pkt[9] != socket.IPPROTO_TCP:
                continue
            ihl = (pkt[0] & 15) * 4
            src, dst = socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20])
            sport, dport, seq = struct.unpack("!HHI", pkt[ihl:ihl + 8])
            if pkt[ihl + 13] & (RST | SYN):
                continue  # forged here, or not of the established stream
            doff = (pkt[ihl + 12] >> 4) * 4
            plen = struct.unpack("!H", pkt[2:4])[0] - ihl - doff
            end = (seq + max(plen, 0)) & 0xFFFFFFFF
            if dport == 21:
                self.next.setdefault((src, sport), {})["c2s"] = end
            elif sport == 21:
                self.next.setdefault((dst, dport), {})["s2c"] = end


def wrong_seqs(nxt):
    """Sequence numbers a quarter of the space away from the next one, on both sides: ahead of
    it conntrack still accepts an RST on a liberally tracked session (the engine must refuse
    it), behind it conntrack already marks it invalid."""
    r = random.getrandbits(20)
    return [(nxt + (1 << 30) + r) & 0xFFFFFFFF, (nxt - (1 << 30) - r) & 0xFFFFFFFF]


def established(gw_ns, legit):
    """(orig src, sport, orig dst, reply src, reply dst, reply dport) of established port-21
    conntrack entries whose original source is one of `legit`."""
    try:
        out = subprocess.run(["ip", "netns", "exec", gw_ns, "conntrack", "-L", "-p", "tcp",
                              "--state", "ESTABLISHED", "--orig-port-dst", "21"],
                             capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    tuples = []
    for line in out.splitlines():
        kv = [w.split("=", 1) for w in line.split() if "=" in w]
        src = [v for k, v in kv if k == "src"]
        dst = [v for k, v in kv if k == "dst"]
        sport = [v for k, v in kv if k == "sport"]
        dport = [v for k, v in kv if k == "dport"]
        if len(src) < 2 or len(sport) < 2 or src[0] not in legit:
            continue
        tuples.append((src[0], int(sport[0]), dst[0], src[1], dst[1], int(dport[1])))
    return tuples


def cmd_spoof(a):
    """Forged RSTs from both sides (client side from --client-ns-forger, server side from
    --server-ns-forger) and SYNs with another ISN from the client side, at every established
    legitimate control connection, every --interval seconds."""
    legit = set(a.legit.split(","))
    raw = lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    c_out = in_netns(a.client_forger, raw)
    s_out = in_netns(a.server_forger, raw)
    watch = SeqWatch(a.watch_ns)
    if a.ready:
        open(a.ready, "w").close()  # the watch is open: what the session sends now is seen
    n = {"rst_c2s": 0, "rst_s2c": 0, "syn": 0, "errors": 0, "rounds": 0}
    targets = set()

    def send(sock, pkt, dst):
        try:
            sock.sendto(pkt, (dst, 0))
            return 1
        except OSError:
            n["errors"] += 1
            return 0

    end = time.monotonic() + a.duration
    while time.monotonic() < end:
        n["rounds"] += 1
        watch.drain()
        for c, cport, pub, srv, snat, snat_port in established(a.gw_ns, legit):
            seqs = watch.next.get((c, cport), {})
            targets.add((c, cport))
            ca, pa, sa, na = (socket.inet_aton(x) for x in (c, pub, srv, snat))
            if "c2s" in seqs and "rst" in a.kinds:
                for seq in wrong_seqs(seqs["c2s"]):
                    n["rst_c2s"] += send(c_out, tcp_packet(ca, cport, pa, 21, seq, 0, RST), pub)
            if "s2c" in seqs and "rst" in a.kinds:
                for seq in wrong_seqs(seqs["s2c"]):
                    n["rst_s2c"] += send(s_out, tcp_packet(sa, 21, na, snat_port, seq, 0, RST),
                                         snat)
            if "syn" in a.kinds:
                n["syn"] += send(c_out, tcp_packet(ca, cport, pa, 21, random.getrandbits(32), 0,
                                                   SYN), pub)
        time.sleep(a.interval)
    n.update({"tool": "spoof", "tuples": len(targets)})
    return n


# --- a legitimate probe, for the measurements ---------------------------------------------------

def probe_once(host, timeout):
    ftp = Ftp(host, timeout=timeout)
    try:
        ftp.login()
        ftp.send("PASV")
        r = ftp.reply()
        if not r.startswith("227"):
            raise OSError(f"PASV: {r}")
        nums = r[r.index("(") + 1:r.index(")")].split(",")
        data = socket.create_connection((".".join(nums[:4]), int(nums[4]) * 256 + int(nums[5])),
                                        timeout=timeout)
        data.close()
        ftp.send("QUIT")
    finally:
        ftp.close()


def cmd_probe(a):
    t0 = time.monotonic()
    ok = 0
    while time.monotonic() - t0 < a.duration:
        try:
            probe_once(a.host, a.timeout)
            ok += 1
        except (OSError, ValueError) as e:
            return {"tool": "probe", "denied_after": round(time.monotonic() - t0, 1), "ok": ok,
                    "why": str(e)[:80]}
        time.sleep(a.interval)
    return {"tool": "probe", "denied_after": "never", "ok": ok,
            "within": a.duration}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("synflood", "junkdata"):
        s = sub.add_parser(name)
        s.add_argument("--dst", required=True)
        s.add_argument("--dport", type=int, default=21)
        s.add_argument("--src-net", required=True)
        s.add_argument("--rate", type=float, default=2000)
        s.add_argument("--duration", type=float, default=30)
        if name == "synflood":
            s.add_argument("--count", type=int, default=6000)
        else:
            s.add_argument("--flows", type=int, default=1000)
            s.add_argument("--segments", type=int, default=1)
            s.add_argument("--payload", default="NOOP")
    s = sub.add_parser("holders")
    s.add_argument("--host", required=True)
    s.add_argument("--count", type=int, default=64)
    s.add_argument("--verb", choices=("LPRT", "PORT"), default="LPRT")
    s.add_argument("--pause", type=float, default=0.05)
    s.add_argument("--stagger", type=float, default=0.02)
    s.add_argument("--duration", type=float, default=30)
    s = sub.add_parser("junkport")
    s.add_argument("--host", required=True)
    s.add_argument("--sessions", type=int, default=2)
    s.add_argument("--lines", type=int, default=1000)
    s.add_argument("--before-login", action="store_true")
    s = sub.add_parser("spoof")
    s.add_argument("--gw-ns", required=True, help="namespace whose conntrack names the tuples")
    s.add_argument("--watch-ns", required=True, help="the clients' namespace (seq numbers)")
    s.add_argument("--client-forger", required=True, help="namespace forging client packets")
    s.add_argument("--server-forger", required=True, help="namespace forging server packets")
    s.add_argument("--legit", required=True, help="comma-separated client addresses")
    s.add_argument("--interval", type=float, default=0.3)
    s.add_argument("--kinds", default="rst,syn", help="what to forge: rst, syn or both")
    s.add_argument("--ready", help="a file made once the sequence watch is open")
    s.add_argument("--duration", type=float, default=30)
    s = sub.add_parser("probe")
    s.add_argument("--host", required=True)
    s.add_argument("--interval", type=float, default=0.5)
    s.add_argument("--timeout", type=float, default=3)
    s.add_argument("--duration", type=float, default=30)
    a = p.parse_args()
    handler = {"synflood": cmd_synflood, "junkdata": cmd_junkdata, "holders": cmd_holders,
               "junkport": cmd_junkport, "spoof": cmd_spoof, "probe": cmd_probe}[a.cmd]
    print(json.dumps(handler(a)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
