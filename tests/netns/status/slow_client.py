#!/usr/bin/env python3
"""A passive-mode download that pauses in the middle (tests/netns/status/status_test.sh).

Logs in anonymously, sends PASV and RETR, reads the first 64 KiB, writes its control
connection's local port to READY, waits (at most 60 s) until GO exists, reads the rest and
checks its SHA-256. Exit 0 when the digest matches.
"""
import argparse
import ftplib
import hashlib
import os
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--go", required=True)
    ap.add_argument("--sha256", required=True)
    a = ap.parse_args()
    ftp = ftplib.FTP()
    ftp.connect(a.server, 21, timeout=20)
    ftp.login("anonymous", "e2e@ftpalg.test")
    ftp.set_pasv(True)
    data = ftp.transfercmd("RETR pub/big.bin")
    digest = hashlib.sha256()
    got = 0
    while got < 65536:
        chunk = data.recv(65536 - got)
        if not chunk:
            break
        digest.update(chunk)
        got += len(chunk)
    with open(a.ready + ".tmp", "w") as f:
        f.write(str(ftp.sock.getsockname()[1]))
    os.rename(a.ready + ".tmp", a.ready)
    deadline = time.monotonic() + 60
    while not os.path.exists(a.go) and time.monotonic() < deadline:
        time.sleep(0.1)
    while True:
        chunk = data.recv(65536)
        if not chunk:
            break
        digest.update(chunk)
    data.close()
    ftp.voidresp()
    ftp.quit()
    if digest.hexdigest() != a.sha256:
        print("slow_client: sha256 mismatch", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
