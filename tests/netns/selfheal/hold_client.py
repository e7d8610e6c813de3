#!/usr/bin/env python3
"""One FTP control session for the self-healing and restart tests (tests/netns/selfheal_test.sh).

Logs in anonymously, then for each transfer in --modes (pasv: PASV, or EPSV for an IPv6 --host;
port: PORT, or EPRT) downloads --file and checks
its SHA-256 against --sha. Sync points, each a file in --sync that the test creates:
  --wait-before NAME  once logged in, create NAME.ready and wait for NAME before the first
                      transfer (a session that is already logged in when the test deletes the
                      kernel objects)
  --hold NAME         after the announcement (the 227/229 answer, the 200 to PORT/EPRT) create
                      NAME.announced and wait for NAME before the data connection starts
Prints one line per transfer ("pasv ok <sha>" / "port FAIL <why>"); exit 0 when all passed.
"""

import argparse
import ftplib
import hashlib
import os
import re
import socket
import sys
import time

WAIT_LIMIT = 60.0
DATA_TIMEOUT = 8.0


def wait_for(path):
    end = time.monotonic() + WAIT_LIMIT
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise TimeoutError(f"no {path}")
        time.sleep(0.05)


def announced(args):
    if args.hold:
        open(os.path.join(args.sync, args.hold + ".announced"), "w").close()
        wait_for(os.path.join(args.sync, args.hold))


def read_all(sock):
    h = hashlib.sha256()
    sock.settimeout(DATA_TIMEOUT)
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return h.hexdigest()
        h.update(chunk)


def pasv(ftp, args):
    if ":" in args.host:  # IPv6: EPSV (a 227 cannot name an IPv6 address)
        resp = ftp.sendcmd("EPSV")
        m = re.search(r"\|\|\|(\d+)\|", resp)
        if not m:
            raise RuntimeError(f"bad 229: {resp}")
        host, port = args.host, int(m.group(1))
    else:
        resp = ftp.sendcmd("PASV")
        m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", resp)
        if not m:
            raise RuntimeError(f"bad 227: {resp}")
        n = [int(x) for x in m.groups()]
        host, port = ".".join(map(str, n[:4])), n[4] * 256 + n[5]
    announced(args)
    data = socket.create_connection((host, port), timeout=DATA_TIMEOUT)
    ftp.sendcmd(f"RETR {args.file}")
    digest = read_all(data)
    data.close()
    ftp.voidresp()
    return digest


def port(ftp, args):
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    lsock = socket.socket(fam, socket.SOCK_STREAM)
    lsock.bind((ftp.sock.getsockname()[0], 0))
    lsock.listen(1)
    lsock.settimeout(DATA_TIMEOUT)
    addr, lport = ftp.sock.getsockname()[0], lsock.getsockname()[1]
    if fam == socket.AF_INET:
        ftp.sendcmd("PORT " + ",".join(addr.split(".") + [str(lport >> 8), str(lport & 255)]))
    else:
        ftp.sendcmd(f"EPRT |2|{addr}|{lport}|")
    announced(args)
    ftp.sendcmd(f"RETR {args.file}")
    data, _ = lsock.accept()
    lsock.close()
    digest = read_all(data)
    data.close()
    ftp.voidresp()
    return digest


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--file", default="pub/big.bin")
    p.add_argument("--sha", required=True)
    p.add_argument("--modes", default="pasv,port")
    p.add_argument("--sync", default=".")
    p.add_argument("--wait-before")
    p.add_argument("--hold")
    args = p.parse_args()
    ftp = ftplib.FTP()
    ftp.connect(args.host, 21, timeout=DATA_TIMEOUT)
    ftp.login()
    ftp.voidcmd("TYPE I")
    if args.wait_before:
        open(os.path.join(args.sync, args.wait_before + ".ready"), "w").close()
        wait_for(os.path.join(args.sync, args.wait_before))
    failed = 0
    for mode in args.modes.split(","):
        try:
            digest = pasv(ftp, args) if mode == "pasv" else port(ftp, args)
            ok = digest == args.sha
            print(f"{mode} {'ok' if ok else 'FAIL sha'} {digest}", flush=True)
        except (OSError, ftplib.Error, RuntimeError, TimeoutError) as e:
            ok = False
            print(f"{mode} FAIL {e}", flush=True)
        failed += 0 if ok else 1
        args.hold = None  # only the first transfer is held
    try:
        ftp.quit()
    except (OSError, ftplib.Error):
        pass
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
