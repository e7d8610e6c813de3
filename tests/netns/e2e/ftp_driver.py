#!/usr/bin/env python3
"""FTP actors for the ftpalg end-to-end suite (tests/netns/e2e).

Subcommands (each runs inside one namespace, started by the suite under `timeout`):
  client      an ftplib session: listing, download, upload; optionally every PORT/EPRT/PASV/
              EPSV line written one byte per TCP segment (TCP_NODELAY, a pause between bytes)
  fake-server a scripted FTP server that does what it is told: it connects wherever a PORT,
              EPRT or even a client-sent 227 points, opens listeners for PASV/EPSV, answers
              `SITE U227` with a 227 no PASV asked for, `SITE LISTEN` with a port it never
              announces; every data connection it makes or accepts is a JSON line in --log
  listen      accept connections on one port and log each (the third host of the bounce case)
  neg         one negative case against fake-server; prints {"result":..., "notes":...}
  serve       the block's long-lived driver: runs the subcommands above (client, neg) and the
              bookkeeping ones below one after the other, each request a line on stdin (a JSON
              {"argv": [...], "timeout": SECONDS}), each reply a line "RC<US>NOTES<US>OUTPUT"
              (US: the unit separator 0x1f; OUTPUT: stdout and stderr on one line; NOTES:
              "notes" of the output's last line when it is such JSON). One interpreter for a whole block instead of one per case
              (under TCG an interpreter start costs seconds). A request that overruns its
              timeout is answered with RC 124 and ends the driver (the caller starts a new one).
  late-syn    "LATE DROPPED ADMITTED" from the gateway's nft sets (JSON) and conntrack table
  check-files the reasons a case's listing, download or upload is wrong (empty when right)
  count       how many lines of a file contain each of the given strings

Nothing here prints secrets or touches anything outside its arguments. Exit status: 0 = the
case behaved as wanted, 1 = it did not (the reason on stderr), 2 = usage or setup error.
"""

import argparse
import contextlib
import ftplib
import hashlib
import io
import ipaddress
import json
import os
import re
import socket
import sys
import threading
import time
import traceback

CONNECT_TIMEOUT = 3.0  # a blocked data connection: the SYN is dropped, connect() times out
SPLIT_PAUSE = 0.02     # pause between 1-byte segments (each leaves as its own segment)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(65536), b""):
            h.update(chunk)
    return h.hexdigest()


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def try_connect(host, port, timeout=CONNECT_TIMEOUT, source=None):
    """Returns (ok, detail). ok is True when the TCP handshake completed."""
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if source:
            s.bind((source, 0))
        s.connect((host, port))
        try:
            s.recv(64)
        except OSError:
            pass
        return True, "connected"
    except socket.timeout:
        return False, "timeout"
    except OSError as e:
        return False, e.strerror or str(e)
    finally:
        s.close()


# --- ftplib client ------------------------------------------------------------------------------

class SplitFTP(ftplib.FTP):
    """ftplib.FTP that can write announcement commands one byte per segment and records what
    the 227/229 replies named."""

    split = False
    pasv_hosts = []

    def putline(self, line):
        verb = line.split(" ", 1)[0].upper()
        if self.split and verb in ("PORT", "EPRT", "PASV", "EPSV"):
            data = (line + "\r\n").encode(self.encoding)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(data)):
                self.sock.sendall(data[i:i + 1])
                time.sleep(SPLIT_PAUSE)
            return
        super().putline(line)

    def makepasv(self):
        if self.af == socket.AF_INET:
            host, port = ftplib.parse227(self.sendcmd("PASV"))
            self.pasv_hosts.append(host)
            return host, port
        return super().makepasv()


def cmd_client(a):
    ftp = SplitFTP(timeout=a.timeout)
    ftp.split = a.split
    ftp.pasv_hosts = []
    ftp.trust_server_pasv_ipv4_address = True  # use the (rewritten) 227 address as sent
    ftp.connect(a.host, a.port)
    ftp.login("anonymous", "e2e@ftpalg.test")
    ftp.set_pasv(a.mode == "passive")
    peer = ftp.sock.getpeername()[0]
    lines = []
    ftp.retrlines("LIST " + a.list_dir, lines.append)
    with open(a.list_out, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(a.get_out, "wb") as f:
        ftp.retrbinary("RETR " + a.get, f.write)
    with open(a.put, "rb") as f:
        ftp.storbinary("STOR " + a.put_as, f)
    ftp.quit()
    for host in ftp.pasv_hosts:
        if host != peer:
            print(f"227 named {host}, control peer is {peer} (not rewritten)", file=sys.stderr)
            return 1
    return 0


# --- scripted fake server -------------------------------------------------------------------------

class FakeServer:
    def __init__(self, log_path, port_lo, port_hi):
        self.log_path = log_path
        self.lock = threading.Lock()
        self.next_port = port_lo
        self.port_lo, self.port_hi = port_lo, port_hi

    def log(self, **kw):
        kw["t"] = round(time.time(), 3)
        with self.lock, open(self.log_path, "a") as f:
            f.write(json.dumps(kw) + "\n")

    def listener(self, family, local):
        """A listener on the next port of the range; accepts for 90 s, logs every accept."""
        for _ in range(self.port_hi - self.port_lo + 1):
            with self.lock:
                port = self.next_port
                self.next_port = self.port_lo if port >= self.port_hi else port + 1
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((local, port))
            except OSError:
                s.close()
                continue
            s.listen(8)
            threading.Thread(target=self.accept_loop, args=(s, port), daemon=True).start()
            return port
        raise RuntimeError("no free port in range")

    def accept_loop(self, s, port):
        s.settimeout(1.0)
        end = time.time() + 90
        while time.time() < end:
            try:
                c, peer = s.accept()
            except socket.timeout:
                continue
            self.log(event="accepted", port=port, peer=peer[0])
            try:
                c.sendall(b"fake data\n")
            finally:
                c.close()
        s.close()

    def connect_reply(self, host, port, what):
        ok, detail = try_connect(host, port)
        self.log(event="connect", what=what, target=f"{host}:{port}", ok=ok, detail=detail)
        return f"200 {what} connect ok" if ok else f"425 {what} connect failed: {detail}"

    def session(self, c):
        f = c.makefile("rb")
        local = c.getsockname()[0]
        fam = c.family
        # The listening socket is dual-stack: an IPv4 peer shows up as ::ffff:a.b.c.d.
        v4 = local[7:] if local.startswith("::ffff:") else local

        def send(line):
            c.sendall((line + "\r\n").encode())

        send("220 ftpalg e2e fake server")
        while True:
            raw = f.readline(1024)
            if not raw:
                return
            line = raw.decode("latin-1").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            self.log(event="command", line=line)
            if verb == "USER":
                send("331 any password")
            elif verb == "PASS":
                send("230 logged in")
            elif verb in ("TYPE", "NOOP", "MODE", "STRU"):
                send("200 ok")
            elif verb == "SYST":
                send("215 UNIX Type: L8")
            elif verb == "QUIT":
                send("221 bye")
                return
            elif verb == "PORT":
                nums = arg.split(",")
                if len(nums) != 6:
                    send("501 bad PORT")
                    continue
                host = ".".join(nums[:4])
                port = int(nums[4]) * 256 + int(nums[5])
                send(self.connect_reply(host, port, "PORT"))
            elif verb == "EPRT":
                parts = arg.split(arg[:1]) if arg else []
                if len(parts) < 4:
                    send("501 bad EPRT")
                    continue
                send(self.connect_reply(parts[2], int(parts[3]), "EPRT"))
            elif verb == "227":
                m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", arg)
                if not m:
                    send("501 bad 227")
                    continue
                n = [int(x) for x in m.groups()]
                send(self.connect_reply(".".join(map(str, n[:4])), n[4] * 256 + n[5],
                                        "client-227"))
            elif verb == "PASV":
                port = self.listener(fam, local)
                h = v4.replace(".", ",")
                send(f"227 Entering Passive Mode ({h},{port >> 8},{port & 255})")
            elif verb == "EPSV":
                port = self.listener(fam, local)
                send(f"229 Entering Extended Passive Mode (|||{port}|)")
            elif verb == "SITE" and arg.upper() == "U227":
                port = self.listener(fam, local)
                h = v4.replace(".", ",")
                send(f"227 Entering Passive Mode ({h},{port >> 8},{port & 255})")
            elif verb == "SITE" and arg.upper() == "LISTEN":
                port = self.listener(fam, local)
                send(f"200 listening on {port}")
            else:
                send("502 not implemented")

    def serve(self, port):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        s.listen(16)
        while True:
            c, _ = s.accept()
            threading.Thread(target=self.guarded, args=(c,), daemon=True).start()

    def guarded(self, c):
        try:
            c.settimeout(120)
            self.session(c)
        except OSError:
            pass
        finally:
            c.close()


def cmd_fake_server(a):
    lo, hi = (int(x) for x in a.pasv_range.split("-"))
    FakeServer(a.log, lo, hi).serve(a.port)
    return 0


def cmd_listen(a):
    s = socket.socket(family_of(a.addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.addr, a.port))
    s.listen(8)
    while True:
        c, peer = s.accept()
        with open(a.log, "a") as f:
            f.write(json.dumps({"event": "accepted", "port": a.port, "peer": peer[0]}) + "\n")
        c.close()


# --- negative cases -------------------------------------------------------------------------------

class Control:
    """A line-oriented control connection to the fake server."""

    def __init__(self, host, port=21, timeout=10):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.f = self.s.makefile("rb")
        self.local = self.s.getsockname()[0]
        self.reply()
        self.cmd("USER anonymous")
        self.cmd("PASS e2e@ftpalg.test")

    def reply(self):
        line = self.f.readline(1024).decode("latin-1").rstrip("\r\n")
        if not line:
            raise OSError("control connection closed")
        return line

    def cmd(self, line, split=False):
        data = (line + "\r\n").encode()
        if split:
            self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(data)):
                self.s.sendall(data[i:i + 1])
                time.sleep(SPLIT_PAUSE)
        else:
            self.s.sendall(data)
        return self.reply()

    def close(self):
        try:
            self.cmd("QUIT")
        except OSError:
            pass
        self.s.close()


def port_arg(host, port):
    return ",".join(host.split(".") + [str(port >> 8), str(port & 255)])


def eprt_arg(host, port):
    return f"|{2 if ':' in host else 1}|{host}|{port}|"


def announce(host, port):
    """The active-mode command naming host:port (PORT for IPv4, EPRT for IPv6)."""
    return f"EPRT {eprt_arg(host, port)}" if ":" in host else f"PORT {port_arg(host, port)}"


def pasv(ctl, split=False):
    """PASV (IPv4) or EPSV (IPv6); returns (host, port) the reply names."""
    if ":" in ctl.local:
        r = ctl.cmd("EPSV", split)
        m = re.search(r"\(\|\|\|(\d+)\|\)", r)
        if not m:
            raise OSError(f"EPSV reply {r!r}")
        return ctl.s.getpeername()[0], int(m.group(1))
    r = ctl.cmd("PASV", split)
    m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", r)
    if not m:
        raise OSError(f"PASV reply {r!r}")
    n = [int(x) for x in m.groups()]
    return ".".join(map(str, n[:4])), n[4] * 256 + n[5]


class LocalListener:
    """A listener in the client namespace; counts accepted connections."""

    def __init__(self, host, port):
        self.s = socket.socket(family_of(host), socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind((host, port))
        self.port = self.s.getsockname()[1]
        self.s.listen(8)
        self.s.settimeout(0.2)
        self.count = 0
        self.stop = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stop:
            try:
                c, _ = self.s.accept()
                self.count += 1
                c.close()
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self.stop = True
        self.t.join(2)
        self.s.close()


def neg_bounce(a):
    ctl = Control(a.host)
    r = ctl.cmd(announce(a.third, a.third_port))
    ctl.close()
    if r.startswith("200"):
        return False, f"server reached the third host {a.third}:{a.third_port} ({r})"
    return True, f"server could not reach the third host ({r[:40]})"


def neg_lowport(a):
    ctl = Control(a.host)
    lst = LocalListener(ctl.local, a.low_port)
    r = ctl.cmd(announce(ctl.local, a.low_port))
    ctl.close()
    lst.close()
    if r.startswith("200") or lst.count:
        return False, f"data connection to port {a.low_port} got through ({r})"
    return True, f"port {a.low_port} stayed closed ({r[:40]})"


def neg_client227(a):
    ctl = Control(a.host)
    lst = LocalListener(ctl.local, 0)
    h = ctl.local.replace(".", ",")
    r = ctl.cmd(f"227 Entering Passive Mode ({h},{lst.port >> 8},{lst.port & 255})")
    ctl.close()
    lst.close()
    if r.startswith("200") or lst.count:
        return False, f"a 227 sent by the client opened {ctl.local}:{lst.port}"
    return True, f"client-sent 227 opened nothing ({r[:40]})"


def neg_unsolicited227(a):
    ctl = Control(a.host)
    host, port = pasv_like(ctl, "SITE U227")
    ok, detail = try_connect(host, port)
    ctl.close()
    if ok:
        return False, f"227 without PASV opened {host}:{port}"
    return True, f"227 without PASV opened nothing ({detail})"


def pasv_like(ctl, line):
    r = ctl.cmd(line)
    m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", r)
    if not r.startswith("227") or not m:
        raise OSError(f"reply {r!r}")
    n = [int(x) for x in m.groups()]
    return ".".join(map(str, n[:4])), n[4] * 256 + n[5]


def neg_unannounced(a):
    ctl = Control(a.host)
    r = ctl.cmd("SITE LISTEN")
    port = int(r.split()[-1])
    host = ctl.s.getpeername()[0]
    ok, detail = try_connect(host, port)
    # The same session still works for an announced port (the block above is the ALG's).
    h2, p2 = pasv(ctl)
    ok2, detail2 = try_connect(h2, p2)
    ctl.close()
    if ok:
        return False, f"port {port} was never announced but a connection got through"
    if not ok2:
        return False, f"unannounced port blocked, but an announced one failed too ({detail2})"
    return True, f"unannounced port {port} blocked ({detail}); announced port {p2} worked"


def neg_singleuse(a):
    ctl = Control(a.host)
    host, port = pasv(ctl)
    ok1, d1 = try_connect(host, port)
    ok2, d2 = try_connect(host, port)
    ctl.close()
    if not ok1:
        return False, f"first connection failed ({d1})"
    if ok2:
        return False, f"second connection to {host}:{port} got through: pinhole reused"
    return True, f"first connection ok, second blocked ({d2})"


def neg_timeout(a):
    ctl = Control(a.host)
    host, port = pasv(ctl)
    time.sleep(a.wait)
    ok, detail = try_connect(host, port)
    # A fresh announcement right after still works (the session itself is fine).
    h2, p2 = pasv(ctl)
    ok2, detail2 = try_connect(h2, p2)
    ctl.close()
    if ok:
        return False, f"pinhole for {host}:{port} still open after {a.wait:.0f} s"
    if not ok2:
        return False, f"expired as wanted, but a fresh announcement failed too ({detail2})"
    return True, f"closed after {a.wait:.0f} s ({detail}); a fresh one worked"


def neg_failclosed(a):
    """Gateway without a working ALG: a session may or may not get through the control path,
    but no data connection may."""
    try:
        ctl = Control(a.host, timeout=4)
    except OSError as e:
        return True, f"control connection blocked too ({e.__class__.__name__}: {e})"
    notes = []
    try:
        host, port = pasv(ctl)
        ok, detail = try_connect(host, port)
        if ok:
            return False, f"passive data connection {host}:{port} got through"
        notes.append(f"passive blocked ({detail})")
        lst = LocalListener(ctl.local, 0)
        r = ctl.cmd(announce(ctl.local, lst.port))
        lst.close()
        if r.startswith("200") or lst.count:
            return False, f"active data connection got through ({r})"
        notes.append(f"active blocked ({r[:30]})")
    except OSError as e:
        notes.append(f"control broke: {e}")
    finally:
        ctl.s.close()
    return True, "; ".join(notes)


def neg_split(a):
    """The same announcements whole and in 1-byte segments must behave the same: active (server
    connects to us) and passive (we connect to the server)."""
    results = {}
    for split in (False, True):
        ctl = Control(a.host, timeout=5)
        lst = LocalListener(ctl.local, 0)
        r = ctl.cmd(announce(ctl.local, lst.port), split)
        time.sleep(0.2)
        active_ok = r.startswith("200") and lst.count == 1
        lst.close()
        host, port = pasv(ctl, split)
        passive_ok, _ = try_connect(host, port)
        ctl.close()
        results[split] = (active_ok, passive_ok)
    whole, split = results[False], results[True]
    notes = (f"whole: active={whole[0]} passive={whole[1]}; "
             f"split: active={split[0]} passive={split[1]}")
    return whole == (True, True) and split == (True, True), notes


NEG_CASES = {
    "bounce": neg_bounce, "lowport": neg_lowport, "client227": neg_client227,
    "unsolicited227": neg_unsolicited227, "unannounced": neg_unannounced,
    "singleuse": neg_singleuse, "timeout": neg_timeout, "failclosed": neg_failclosed,
    "split": neg_split,
}


def cmd_neg(a):
    try:
        ok, notes = NEG_CASES[a.case](a)
    except (OSError, RuntimeError, ValueError) as e:
        ok, notes = False, f"error: {e.__class__.__name__}: {e}"
    print(json.dumps({"result": "pass" if ok else "fail", "notes": notes}))
    return 0 if ok else 1


# --- bookkeeping of the suite --------------------------------------------------------------------

def _tuple(a, sp, d, dp):
    return (str(ipaddress.ip_address(a)), int(sp), str(ipaddress.ip_address(d)), int(dp))


def late_syn(doc, ct):
    """(late, dropped, admitted): the SYNs in the drop sets whose 4-tuple was admitted later,
    found in the adm sets or as a conntrack entry (a dropped SYN never gets a confirmed entry,
    so an entry with that tuple means a later SYN of the same connection went through)."""
    sets = {}
    for o in json.loads(doc)["nftables"] if doc.strip() else []:
        st = o.get("set")
        if st:
            els = set()
            for e in st.get("elem", []):
                v = e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e
                els.add(_tuple(*v["concat"]))
            sets[st["name"]] = els
    dropped = sets.get("drop4", set()) | sets.get("drop6", set())
    admitted = sets.get("adm4", set()) | sets.get("adm6", set())
    seen = set(admitted)
    for line in ct.splitlines():
        src = re.findall(r"src=(\S+)", line)
        dst = re.findall(r"dst=(\S+)", line)
        sp = re.findall(r"sport=(\d+)", line)
        dp = re.findall(r"dport=(\d+)", line)
        if len(src) >= 2 and len(sp) >= 2:
            seen.add(_tuple(src[0], sp[0], dst[0], dp[0]))
            seen.add(_tuple(src[0], sp[0], src[1], sp[1]))  # after DNAT: the reply source
    return len(dropped & seen), len(dropped), len(admitted)


def cmd_late_syn(a):
    with open(a.nft) as f:
        doc = f.read()
    with open(a.conntrack) as f:
        ct = f.read()
    print(*late_syn(doc, ct))
    return 0


def cmd_check_files(a):
    bad = ""
    try:
        with open(a.list, errors="replace") as f:
            if "big.bin" not in f.read():
                bad += "listing lacks big.bin; "
    except OSError:
        bad += "listing lacks big.bin; "
    for what, path, want in (("download", a.got, a.got_sha), ("upload", a.put, a.put_sha)):
        try:
            got = sha256(path)
        except OSError:
            got = "missing"
        if got != want:
            bad += f"{what} sha256 {got} != {want}; "
    print(bad, end="")
    return 0


def cmd_count(a):
    counts = [0] * len(a.needle)
    try:
        with open(a.file, errors="replace") as f:
            for line in f:
                for i, n in enumerate(a.needle):
                    if n in line:
                        counts[i] += 1
    except FileNotFoundError:
        pass
    print(*counts)
    return 0


def run_request(argv):
    """One subcommand in this process: (rc, stdout+stderr)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            rc = main(argv)
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 2
        except Exception:  # a fresh interpreter would print the traceback and exit 1
            traceback.print_exc()
            rc = 1
    return rc, buf.getvalue()


US = "\x1f"  # field separator of serve's replies (no whitespace: bash's read keeps empty fields)


def cmd_serve(_a):
    out = sys.stdout
    while True:
        line = sys.stdin.readline()
        if not line:
            return 0
        if not line.strip():
            continue
        req = json.loads(line)
        box = {}
        worker = threading.Thread(target=lambda: box.update(r=run_request(req["argv"])),
                                  daemon=True)
        worker.start()
        worker.join(req.get("timeout", 60))
        if worker.is_alive():
            out.write(f"124{US}{US}{req['argv'][:2]} timed out after {req.get('timeout', 60)} s\n")
            out.flush()
            os._exit(124)  # a hung case must not leak into the next one: a fresh driver
        rc, text = box["r"]
        notes = ""
        lines = text.strip().splitlines()
        if lines:
            try:
                notes = json.loads(lines[-1]).get("notes", "")
            except (ValueError, AttributeError):
                notes = ""
        flat = " ".join(text.replace(US, " ").splitlines())
        notes = " ".join(str(notes).replace(US, " ").splitlines())
        out.write(f"{rc}{US}{notes}{US}{flat}\n")
        out.flush()
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("client")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, default=21)
    c.add_argument("--mode", choices=("active", "passive"), required=True)
    c.add_argument("--split", action="store_true")
    c.add_argument("--timeout", type=float, default=10)
    c.add_argument("--list-dir", default="pub")
    c.add_argument("--list-out", required=True)
    c.add_argument("--get", required=True)
    c.add_argument("--get-out", required=True)
    c.add_argument("--put", required=True)
    c.add_argument("--put-as", required=True)

    s = sub.add_parser("fake-server")
    s.add_argument("--port", type=int, default=21)
    s.add_argument("--pasv-range", default="40000-40100")
    s.add_argument("--log", required=True)

    ls = sub.add_parser("listen")
    ls.add_argument("--addr", required=True)
    ls.add_argument("--port", type=int, required=True)
    ls.add_argument("--log", required=True)

    n = sub.add_parser("neg")
    n.add_argument("case", choices=sorted(NEG_CASES))
    n.add_argument("--host", required=True)
    n.add_argument("--third", default="")
    n.add_argument("--third-port", type=int, default=50021)
    n.add_argument("--low-port", type=int, default=80)
    n.add_argument("--wait", type=float, default=0)

    sub.add_parser("serve")

    lt = sub.add_parser("late-syn")
    lt.add_argument("--nft", required=True, help="nft -j list table inet e2e")
    lt.add_argument("--conntrack", required=True, help="conntrack -L -o extended (v4 and v6)")

    cf = sub.add_parser("check-files")
    cf.add_argument("--list", required=True)
    cf.add_argument("--got", required=True)
    cf.add_argument("--got-sha", required=True)
    cf.add_argument("--put", required=True)
    cf.add_argument("--put-sha", required=True)

    co = sub.add_parser("count")
    co.add_argument("--file", required=True)
    co.add_argument("needle", nargs="+")

    a = p.parse_args(argv)
    handler = {"client": cmd_client, "fake-server": cmd_fake_server, "listen": cmd_listen,
               "neg": cmd_neg, "serve": cmd_serve, "late-syn": cmd_late_syn,
               "check-files": cmd_check_files, "count": cmd_count}[a.cmd]
    try:
        return handler(a)
    except ftplib.all_errors as e:
        print(f"{a.cmd}: {e.__class__.__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
