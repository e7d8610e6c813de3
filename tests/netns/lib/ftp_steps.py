"""The step runner of the netns tests' FTP clients (tests/netns/ha/ha_client.py,
tests/netns/restart_client.py): one control session run in steps with pauses between.

Steps every client has (comma-separated, in order):
  login           connect and log in anonymously
  pasv, port      RETR pub/big.bin passively / actively, sha256-checked
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
import time


class Session:
    """One control session; a client adds steps by overriding step() (falling back to this one)
    and pause hooks by overriding resumed()."""

    WAIT_LIMIT = 60.0  # seconds a pause may last before the session gives up
    POLL = 0.02  # seconds between looks for the go file

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
        end = time.monotonic() + self.WAIT_LIMIT
        while not os.path.exists(base % "go"):
            if time.monotonic() > end:
                return False
            time.sleep(self.POLL)
        self.resumed()
        return True

    def resumed(self):
        """Called when a pause ends with its go file."""

    def fetch(self, passive):
        self.ftp.set_pasv(passive)
        h = hashlib.sha256()
        self.ftp.retrbinary("RETR pub/big.bin", h.update)
        got = h.hexdigest()
        return got == self.a.sha, got

    def step(self, name):
        if name == "login":
            self.ftp.connect(self.a.host, 21)
            r = self.ftp.login()
            return r.startswith("230"), r
        if name in ("pasv", "port"):
            return self.fetch(name == "pasv")
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


def main(session_class, description, timeout, add_arguments=None):
    """Parses the common arguments (and the client's own, add_arguments(parser)), runs the steps
    until one fails; returns the exit status."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--host", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--steps", required=True)
    p.add_argument("--sha", required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--timeout", type=float, default=timeout)
    if add_arguments:
        add_arguments(p)
    a = p.parse_args()
    s = session_class(a)
    for name in a.steps.split(","):
        try:
            ok, detail = s.step(name)
        except (OSError, EOFError, ftplib.Error) as e:
            ok, detail = False, "%s: %s" % (type(e).__name__, e)
        s.log(name, ok, detail)
        if not ok:
            return 1
    return 0
