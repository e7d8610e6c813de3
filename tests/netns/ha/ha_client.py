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
status: 0 when every step passed. The step runner: tests/netns/lib/ftp_steps.py.
"""

import ftplib
import hashlib
import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ftp_steps  # noqa: E402


class Session(ftp_steps.Session):
    WAIT_LIMIT = 60.0  # seconds a pause may last before the session gives up

    def resumed(self):
        if self.a.late_timeout:
            # After the switch: give up sooner (a session expected to fail there).
            self.a.timeout = self.a.data_timeout = self.ftp.timeout = self.a.late_timeout
            if self.ftp.sock:
                self.ftp.sock.settimeout(self.a.late_timeout)

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
        if name == "bulk":
            return self.bulk()
        if name == "pasvgap":
            return self.pasvgap()
        if name == "portgap":
            return self.portgap()
        return super().step(name)


def add_arguments(p):
    p.add_argument("--bulk-sha", default="")
    p.add_argument("--data-timeout", type=float, default=6)
    p.add_argument("--late-timeout", type=float, default=0,
                   help="seconds for every operation after the first pause (0: unchanged)")


if __name__ == "__main__":
    sys.exit(ftp_steps.main(Session, __doc__.split("\n")[0], timeout=8, add_arguments=add_arguments))
