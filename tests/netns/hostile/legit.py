#!/usr/bin/env python3
"""A legitimate FTP client of the hostile-load test (tests/netns/hostile/run.sh): from one
source address, session after session until --duration is over, each session logged in and
doing --transfers rounds of download (SHA-256 checked here) and upload (checked by the caller
on the server), active or passive, with a pause between rounds so that sessions live long
enough to be attacked in the middle.

Prints one JSON line: {"name", "sessions", "downloads", "uploads", "data_connections",
"quit_lost" (a QUIT without its 221 after every transfer passed), "failures": [...]}; exit status 1 when any step failed (a failed step ends its session, the
next session starts), 0 otherwise. Uploads are named upload/<name>-<session>-<round>.bin.
"""

import argparse
import ftplib
import hashlib
import json
import socket
import sys
import time


class Client(ftplib.FTP):
    """ftplib that uses the address a 227 names (the gateway must rewrite it) and counts the
    data connections it opens or accepts."""

    trust_server_pasv_ipv4_address = True
    data_connections = 0
    next_port = 0  # active mode: data ports counted up from here (0: the kernel picks)

    def ntransfercmd(self, cmd, rest=None):
        Client.data_connections += 1
        return super().ntransfercmd(cmd, rest)

    def makeport(self):
        """ftplib's makeport, on a port of its own range: two clients behind one SNAT address
        announcing the same port clash in the NAT map (a finding of its own, tested apart),
        and ephemeral ports repeat within a pinhole's lifetime."""
        if not Client.next_port:
            return super().makeport()
        host = self.sock.getsockname()[0]
        for _ in range(100):
            port = Client.next_port
            Client.next_port += 1
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((host, port))
            except OSError:
                sock.close()
                continue
            sock.listen(1)
            self.sendport(host, port)
            sock.settimeout(self.timeout)
            return sock
        raise OSError("no free data port")


def session(a, n, stats, step):
    ftp = Client(timeout=a.timeout, source_address=(a.source, 0))
    try:
        step[0] = "connect"
        ftp.connect(a.host, 21)
        step[0] = "login"
        ftp.login("anonymous", "legit@ftpalg.test")
        ftp.set_pasv(a.mode == "passive")
        with open(a.put, "rb") as f:
            up = f.read()
        for r in range(a.transfers):
            step[0] = f"RETR {r} (local port {ftp.sock.getsockname()[1]})"
            h = hashlib.sha256()
            ftp.retrbinary("RETR " + a.get, h.update)
            if h.hexdigest() != a.sha:
                raise ValueError(f"download sha256 {h.hexdigest()} != {a.sha}")
            stats["downloads"] += 1
            step[0] = f"STOR {r} (local port {ftp.sock.getsockname()[1]})"
            ftp.storbinary(f"STOR upload/{a.name}-{n}-{r}.bin", _Reader(up))
            stats["uploads"] += 1
            time.sleep(a.pause)
        step[0] = "quit"
        # Every transfer is done and checked. The 221 may be lost to the kernel, not the
        # gateway's ALG: a forged RST that lands while the server's FIN is in flight closes a
        # liberally tracked conntrack entry (see docs/hardening.md); counted, not a failure.
        ftp.sock.settimeout(3)
        try:
            ftp.quit()
        except (OSError, EOFError):
            stats["quit_lost"] += 1
    finally:
        ftp.close()


class _Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def read(self, size):
        chunk = self.data[self.pos:self.pos + size]
        self.pos += len(chunk)
        return chunk


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--name", required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--mode", choices=("active", "passive"), required=True)
    p.add_argument("--get", required=True)
    p.add_argument("--sha", required=True, help="SHA-256 of the file --get names")
    p.add_argument("--put", required=True)
    p.add_argument("--transfers", type=int, default=4)
    p.add_argument("--pause", type=float, default=0.4)
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--data-ports", type=int, default=0, help="active mode: first data port")
    a = p.parse_args()
    Client.next_port = a.data_ports
    stats = {"name": a.name, "sessions": 0, "downloads": 0, "uploads": 0, "quit_lost": 0,
             "failures": []}
    end = time.monotonic() + a.duration
    n = 0
    while time.monotonic() < end:
        t = time.monotonic()
        step = ["start"]
        try:
            session(a, n, stats, step)
            stats["sessions"] += 1
        except ftplib.all_errors + (ValueError,) as e:
            stats["failures"].append(f"session {n} at {step[0]} after "
                                     f"{time.monotonic() - t:.1f} s: {e.__class__.__name__}: {e}")
        n += 1
    stats["data_connections"] = Client.data_connections
    print(json.dumps(stats), flush=True)
    return 1 if stats["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
