#!/usr/bin/env python3
"""Compares `ftpalg replay` events of a gateway capture with ftpalgd's own events.

  compare_events.py --mode ftpalgd --replay R.jsonl --daemon D.jsonl
      The daemon's events of the control connections in R (matched by "flow") must equal R's,
      in order, on: dir, kind, announced, rewritten, verdict, reason, parse_error, expect.
      The daemon's "withdraw" events are left out: they take back what it installed in the
      kernel, which a replay has not (EngineConfig::withdrawAnnouncements is off there).
  compare_events.py --mode kernel-helper --replay R.jsonl --daemon /dev/null
      No daemon: R must hold at least one announcement and admit every one (the session it
      was captured from transferred its files through the in-kernel helper).

Prints a one-line note; exit status 0 when equal (or admitted), 1 otherwise.
"""

import argparse
import json
import sys

FIELDS = ("dir", "kind", "announced", "rewritten", "verdict", "reason", "parse_error", "expect")
ANNOUNCEMENTS = {"port", "eprt", "lprt", "pasv227", "epsv229", "lpsv228"}
DAEMON_ONLY = {"withdraw"}


def load(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{n}: not JSON ({e})")
    return out


def key(e):
    return tuple(json.dumps(e.get(f), sort_keys=True) for f in FIELDS)


def short(e):
    return " ".join(f"{f}={e[f]}" for f in ("kind", "announced", "rewritten", "verdict", "reason")
                    if f in e)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", required=True)
    p.add_argument("--replay", required=True)
    p.add_argument("--daemon", required=True)
    a = p.parse_args()
    replay = load(a.replay)
    ann = [e for e in replay if e.get("kind") in ANNOUNCEMENTS]
    if not ann:
        print(f"replay found no announcement in the capture ({len(replay)} events)")
        return 1
    if a.mode != "ftpalgd":
        refused = [e for e in ann if e.get("verdict") != "admit"]
        if refused:
            print("replay refused what the kernel helper admitted: " + short(refused[0]))
            return 1
        kinds = sorted({e["kind"] for e in ann})
        print(f"replay admits all {len(ann)} announcements ({','.join(kinds)})")
        return 0
    flows = {e.get("flow") for e in replay}
    mine = [e for e in load(a.daemon) if e.get("flow") in flows]
    daemon = [e for e in mine if e.get("kind") not in DAEMON_ONLY]
    if [key(e) for e in daemon] == [key(e) for e in replay]:
        kinds = sorted({e["kind"] for e in ann})
        print(f"daemon and replay agree on {len(replay)} events ({','.join(kinds)}) "
              f"in {len(flows)} control connections (and {len(mine) - len(daemon)} withdrawals)")
        return 0
    for i in range(max(len(daemon), len(replay))):
        d = daemon[i] if i < len(daemon) else None
        r = replay[i] if i < len(replay) else None
        if d is None or r is None or key(d) != key(r):
            print(f"event {i + 1} differs: daemon [{short(d) if d else 'none'}] "
                  f"replay [{short(r) if r else 'none'}] "
                  f"({len(daemon)} daemon vs {len(replay)} replay events)")
            return 1
    return 1


if __name__ == "__main__":
    sys.exit(main())
