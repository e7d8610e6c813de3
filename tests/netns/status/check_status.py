#!/usr/bin/env python3
"""Checks `ftpalg status --json` output (tests/netns/status/status_test.sh).

usage: check_status.py STATUS.json CLIENT_PORT PUBLIC_ADDR
Exit 0 when the session of the client's control connection is live, logged in, rewritten once
with a non-zero server-to-client offset, and has the outstanding 227 announcement for the
public address with its pinhole and a timeout; prints the session's flow on stdout.
"""
import json
import sys


def fail(msg: str) -> None:
    print(f"check_status: {msg}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    path, port, public = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path) as f:
        doc = json.load(f)
    if doc.get("schema") != 1:
        fail(f"schema {doc.get('schema')}")
    if doc["daemon"]["kernel_mode"] != "pinhole":
        fail("kernel mode")
    sessions = []
    for q in doc["queues"]:
        if not q["answered"]:
            fail(f"queue {q['queue']} did not answer")
        for key in ("packets", "held", "sessions", "overruns"):
            if key not in q["load"]:
                fail(f"load lacks {key}")
        if q["counters"]["worker"]["packets"] <= 0:
            fail("no packets counted")
        sessions += q["sessions"]
    mine = [s for s in sessions if s["client"].endswith(f":{port}")]
    if len(mine) != 1:
        fail(f"{len(mine)} sessions of client port {port} in {sessions}")
    s = mine[0]
    checks = {
        "login": s["login"] == "logged_in",
        "state": s["state"] == "established",
        "rewrites": s["rewrites"] >= 1,
        "s2c offset": s["s2c"]["offset"] != 0,
        "c2s bytes": s["c2s"]["bytes"] > 0,
        "s2c bytes": s["s2c"]["bytes"] > 0,
        "nat": s["nat"]["server_inside"] == public,
        "expires": float(s["expires_in_s"]) > 0,
    }
    for name, ok in checks.items():
        if not ok:
            fail(f"{name}: {json.dumps(s)}")
    ann = [a for a in s["announcements"] if a["dst"].startswith(public + ":")]
    if not ann or s["announcements_total"] < 1:
        fail(f"no outstanding announcement for {public}: {json.dumps(s)}")
    a = ann[0]
    if a["dir"] != "s2c" or a["admit"] != "pinhole" or float(a["expires_in_s"]) <= 0:
        fail(f"announcement {a}")
    print(s["flow"])


main()
