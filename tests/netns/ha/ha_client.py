#!/usr/bin/env python3
"""One FTP control session of tests/netns/ha/ha_test.sh, run in steps with pauses between.

Steps (comma-separated, in order):
  login           connect and log in anonymously
  pasv, port      RETR pub/big.bin passively / actively, sha256-checked
  bulk            RETR pub/bulk.bin passively, sha256-checked; writes DIR/NAME.xfer once the
                  first 64 KiB arrived; the detail carries the longest gap between reads (ms)
  pasvgap         PASV answered, then pause (wait), then the data connection and RETR
  portgap         PORT answered, then pause (wait), then RETR and the server's data connection
  noop, size, pwd exact replies of vsftpd
  wait            write DIR/NAME.wait-K and wait for DIR/NAME.go-K (K = 1, 2, ...)
  quit
Every step appends one JSON line to DIR/NAME.jsonl: {"step", "ok", "detail", "t"}. Replies must
be exactly what vsftpd says, so a command or reply corrupted on the way fails its step. Exit
status: 0 when every step passed.
"""

import argparse
import ftplib
import hashlib
import json
import os
import socket
import sys
import time

WAIT_LIMIT = 60.0  # seconds a pause may last before the session gives up


class Session:
    def __init__(self, a):
        self.a = a
        self.ftp = ftplib.FTP(timeout=a.timeout, source_address=(a.source, 0))
        self.waits = 0

    def log(self, step, ok, detail):
        path = os.path.join(self.a.dir, self.a.name + ".jsonl")
        with open(path, "a") as f:
            f.write(json.dumps({"step": step, "ok": ok, "detail": detail, "t": time.time()}) + "\n")

    def pause(self):
        self.waits += 1
        base = os.path.join(self.a.dir, "%s.%%s-%d" % (self.a.name, self.waits))
        open(base % "wait", "w").close()
        end = time.monotonic() + WAIT_LIMIT
        while not os.path.exists(base % "go"):
            if time.monotonic() > end:
                return False
            time.sleep(0.02)
        if self.a.late_timeout:
            # After the switch: give up sooner (a session expected to fail there).
            self.a.timeout = self.a.data_timeout = self.ftp.timeout = self.a.late_timeout
            if self.ftp.sock:
                self.ftp.sock.settimeout(self.a.late_timeout)
        return True

    def fetch(self, passive):
        self.ftp.set_pasv(passive)
        h = hashlib.sha256()
        self.ftp.retrbinary("RETR pub/big.bin", h.update)
        got = h.hexdigest()
        return got == self.a.sha, got

    def bulk(self):
        self.ftp.set_pasv(True)
        h = hashlib.sha256()
        st = {"n": 0, "last": time.monotonic(), "gap": 0.0}
        marker = os.path.join(self.a.dir, self.a.name + ".xfer")

        def chunk(b):
            now = time.monotonic()
            st["gap"] = max(st["gap"], now - st["last"])
            st["last"] = now
            if st["n"] < 65536 <= st["n"] + len(b):
                open(marker, "w").close()
            st["n"] += len(b)
            h.update(b)

        self.ftp.retrbinary("RETR pub/bulk.bin", chunk)
        ok = h.hexdigest() == self.a.bulk_sha
        return ok, "%d bytes, longest gap %d ms, sha %s" % (
            st["n"], st["gap"] * 1000, "ok" if ok else "MISMATCH")

    def read_data(self, conn):
        h = hashlib.sha256()
        conn.settimeout(self.a.timeout)
        with conn:
            while True:
                b = conn.recv(65536)
                if not b:
                    break
                h.update(b)
        r = self.ftp.voidresp()
        return h.hexdigest() == self.a.sha and r.startswith("226"), r

    def pasvgap(self):
        r = self.ftp.sendcmd("PASV")
        host, port = ftplib.parse227(r)
        if not self.pause():
            return False, "no go"
        try:
            conn = socket.create_connection((host, port), timeout=self.a.data_timeout,
                                            source_address=(self.a.source, 0))
        except OSError as e:
            return False, "data connection to %s:%d after the pause: %s" % (host, port, e)
        r = self.ftp.sendcmd("RETR pub/big.bin")
        if not r.startswith("150"):
            return False, r
        return self.read_data(conn)

    def portgap(self):
        lsock = socket.create_server((self.a.source, 0))
        port = lsock.getsockname()[1]
        r = self.ftp.sendport(self.a.source, port)
        if not self.pause():
            return False, "no go"
        r = self.ftp.sendcmd("RETR pub/big.bin")
        if not r.startswith("150"):
            return False, r
        lsock.settimeout(self.a.data_timeout)
        try:
            conn, _ = lsock.accept()
        except OSError as e:
            return False, "no data connection from the server after the pause: %s" % e
        finally:
            lsock.close()
        return self.read_data(conn)

    def step(self, name):
        if name == "login":
            self.ftp.connect(self.a.host, 21)
            r = self.ftp.login()
            return r.startswith("230"), r
        if name in ("pasv", "port"):
            return self.fetch(name == "pasv")
        if name == "bulk":
            return self.bulk()
        if name == "pasvgap":
            return self.pasvgap()
        if name == "portgap":
            return self.portgap()
        if name == "noop":
            r = self.ftp.sendcmd("NOOP")
            return r == "200 NOOP ok.", r
        if name == "size":
            r = self.ftp.sendcmd("SIZE pub/big.bin")
            return r == "213 %d" % self.a.size, r
        if name == "pwd":
            r = self.ftp.sendcmd("PWD")
            return r == '257 "/" is the current directory', r
        if name == "wait":
            return (True, "go") if self.pause() else (False, "no go")
        if name == "quit":
            r = self.ftp.quit()
            return r.startswith("221"), r
        return False, "unknown step"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--steps", required=True)
    p.add_argument("--sha", required=True)
    p.add_argument("--bulk-sha", default="")
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--timeout", type=float, default=8)
    p.add_argument("--data-timeout", type=float, default=6)
    p.add_argument("--late-timeout", type=float, default=0,
                   help="seconds for every operation after the first pause (0: unchanged)")
    a = p.parse_args()
    s = Session(a)
    for name in a.steps.split(","):
        try:
            ok, detail = s.step(name)
        except (OSError, EOFError, ftplib.Error) as e:
            ok, detail = False, "%s: %s" % (type(e).__name__, e)
        s.log(name, ok, detail)
        if not ok:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
