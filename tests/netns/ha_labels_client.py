#!/usr/bin/env python3
"""One FTP control session of tests/netns/ha_labels_test.sh: restart_client.py's steps plus
announce (TYPE I, then PASV: the 227's endpoint is kept, nothing is connected yet) and connect
(a data connection to the kept endpoint, RETR pub/big.bin over it, sha256-checked).
"""

import ftplib
import hashlib
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import restart_client  # noqa: E402


class Session(restart_client.Session):
    def __init__(self, a):
        super().__init__(a)
        self.data = None

    def step(self, name):
        if name == "announce":
            self.ftp.voidcmd("TYPE I")
            r = self.ftp.sendcmd("PASV")
            self.data = ftplib.parse227(r)
            return r.startswith("227"), r
        if name == "connect":
            h = hashlib.sha256()
            with socket.create_connection(self.data, timeout=self.a.timeout,
                                          source_address=(self.a.source, 0)) as s:
                self.ftp.putcmd("RETR pub/big.bin")
                r = self.ftp.getresp()
                if not r.startswith("150"):
                    return False, r
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    h.update(b)
            r = self.ftp.voidresp()
            got = h.hexdigest()
            return got == self.a.sha, "%s %s" % (r, got)
        return super().step(name)


restart_client.Session = Session

if __name__ == "__main__":
    sys.exit(restart_client.main())
