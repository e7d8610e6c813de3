#!/usr/bin/env python3
"""The verdict of the hostile-load test (tests/netns/hostile/run.sh) from what the run left in
its scratch directory: the legitimate clients' reports and uploads, the sampled pinhole table,
conntrack's marked entries, the attackers' reports, the daemon's log and events.

Prints one "ok"/"FAIL" line per check and the figures; exit status 1 when any check failed.
"""

import argparse
import glob
import hashlib
import ipaddress
import json
import os
import re
import sys

# Counters (ftpalgd's closing "counters:" line) that show each attack: any one of a group > 0.
ATTACK_COUNTERS = {
    "SYN flood": ("session_evicted", "half_open_expired"),
    "unanswered data": ("buffer_reclaimed",),
    "partial-announcement holders": ("hold_timeout", "hold_limit"),
    "junk PORT floods": ("refused",),
    "spoofed RSTs": ("rst_out_of_window",),
    "spoofed SYNs": ("syn_ignored",),
}


class Verdict:
    def __init__(self):
        self.failed = 0

    def check(self, ok, what, detail=""):
        print(f"{'ok  ' if ok else 'FAIL'} - {what}{': ' + detail if detail else ''}")
        if not ok:
            self.failed += 1


def load_json(path):
    try:
        with open(path) as f:
            lines = [ln for ln in f.read().splitlines() if ln.strip()]
        return json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def addresses(obj):
    """Every IPv4/IPv6 address text inside a JSON value."""
    if isinstance(obj, str):
        try:
            return [str(ipaddress.ip_address(obj))]
        except ValueError:
            return []
    if isinstance(obj, dict):
        return [a for v in obj.values() for a in addresses(v)]
    if isinstance(obj, list):
        return [a for v in obj for a in addresses(v)]
    return []


def table_elements(path):
    """(set or map name, element) for every element of every sample of table inet ftpalg."""
    out = []
    try:
        f = open(path)
    except OSError:
        return out
    with f:
        for line in f:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            for o in doc.get("nftables", []):
                s = o.get("set") or o.get("map")
                if s:
                    for e in s.get("elem", []):
                        out.append((s["name"], json.dumps(e, sort_keys=True)))
    return out


def log_line(log, prefix):
    found = [ln for ln in log.splitlines() if prefix in ln]
    return found[-1] if found else ""


def check_legit(v, a):
    downloads = uploads = conns = 0
    for path in sorted(glob.glob(os.path.join(a.tmp, "legit*.json"))):
        r = load_json(path)
        name = os.path.basename(path)[:-5]
        if r is None:
            err = open(os.path.join(a.tmp, name + ".err")).read()[-300:]
            v.check(False, f"{name} reported", err.replace("\n", " "))
            continue
        downloads += r["downloads"]
        uploads += r["uploads"]
        conns += r["data_connections"]
        v.check(not r["failures"] and r["sessions"] >= 2 and r["downloads"] >= 4,
                f"{name}: every session and transfer passed",
                f"{r['sessions']} sessions, {r['downloads']} downloads sha256 ok, "
                f"{r['uploads']} uploads, {r.get('quit_lost', 0)} QUIT replies lost; "
                f"failures: {r['failures'][:2]}")
        files = glob.glob(os.path.join(a.tmp, "srv", "upload", name + "-*.bin"))
        bad = [f for f in files if sha256(f) != a.up_sha]
        v.check(not bad and len(files) >= r["uploads"],
                f"{name}: uploads arrived whole",
                f"{len(files)} files on the server, {len(bad)} with a wrong sha256")
    v.check(a.legit_fail == 0, "legitimate clients exited 0")
    return downloads, uploads, conns


def check_pinholes(v, a, legit_conns, log):
    allowed = set(a.allowed.split(","))
    elems = table_elements(os.path.join(a.tmp, "tables.jsonl"))
    distinct = set(elems)
    foreign = sorted({x for _, e in distinct for x in addresses(json.loads(e))} - allowed)
    v.check(not foreign, "no pinhole or NAT element names an attacker",
            f"{len(distinct)} distinct elements sampled; foreign addresses: {foreign[:5]}")
    try:
        marked = open(os.path.join(a.tmp, "marked.txt")).read()
    except OSError:
        marked = ""
    addrs = set(re.findall(r"(?:src|dst)=(\S+)", marked))
    foreign = sorted(addrs - allowed)
    v.check(not foreign, "admitted data connections only between legitimate hosts",
            f"{len(marked.splitlines())} marked conntrack entries; foreign: {foreign[:5]}")
    m = re.search(r"stopped: .*?(\d+) admitted", log)
    admitted = int(m.group(1)) if m else -1
    v.check(0 <= admitted <= legit_conns, "admitted no more than the legitimate data connections",
            f"{admitted} admitted, {legit_conns} legitimate data connections")


def check_attackers(v, a):
    want = {
        "synflood": lambda r: r["sent"] >= 7000,
        "junkdata": lambda r: r["sent"] >= 2500,
        "holders": lambda r: r["sessions"] >= 32 and r["bytes"] >= 32 * 20,
        "junkport": lambda r: r["lines"] >= 2000,
        "junkpre": lambda r: r["lines"] >= 2000,
        "spoof": lambda r: r["syn"] > 0 and ("rst" not in a.spoof_kinds or
                                              (r["rst_c2s"] > 0 and r["rst_s2c"] > 0)),
    }
    reports = {}
    for name, ok in want.items():
        r = load_json(os.path.join(a.tmp, name + ".json"))
        reports[name] = r
        if r is None:
            err = ""
            try:
                err = open(os.path.join(a.tmp, name + ".err")).read()[-200:]
            except OSError:
                pass
            v.check(False, f"attacker {name} ran", err.replace("\n", " "))
        else:
            v.check(ok(r), f"attacker {name} ran", json.dumps(r))
    return reports


def check_daemon(v, a, log, reports):
    v.check(a.alive == 1 and a.daemon_rc == 0, "ftpalgd survived and stopped cleanly",
            f"alive {a.alive}, exit status {a.daemon_rc}")
    v.check(a.cpu <= a.cpu_max, "ftpalgd CPU bounded",
            f"{a.cpu:.2f} s utime+stime over the run (bound {a.cpu_max} s)")
    v.check(0 < a.hwm_kb <= a.rss_max_kb, "ftpalgd memory bounded",
            f"peak RSS {a.hwm_kb} KiB (bound {a.rss_max_kb} KiB)")
    line = log_line(log, "counters: ")
    counters = dict((k, int(n)) for k, n in re.findall(r"(\w+)=(\d+)", line))
    v.check(bool(line), "ftpalgd printed its counters", line.split("counters: ", 1)[-1][:400])
    for attack, names in ATTACK_COUNTERS.items():
        if attack == "spoofed RSTs" and "rst" not in a.spoof_kinds:
            continue
        got = {n: counters.get(n, 0) for n in names}
        v.check(any(got.values()), f"counters show the {attack}", json.dumps(got))
    events_path = os.path.join(a.tmp, "events.jsonl")
    events = open(events_path).read() if os.path.exists(events_path) else ""
    for reason in ("before_login", "bounce_address", "special_address", "low_port"):
        v.check(f'"reason":"{reason}"' in events, f"event with reason {reason} logged")
    suppressed = "events suppressed" in log or '"kind":"suppressed"' in events
    v.check(suppressed, "events over budget suppressed and said so")
    junk = sum((reports.get(k) or {}).get("line_bytes", 0) for k in ("junkport", "junkpre"))
    print(f"figure - events file {len(events)} bytes for {junk} bytes of junk lines "
          f"({len(events) / junk if junk else 0:.3f} bytes per junk byte, legitimate events "
          f"included)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tmp", required=True)
    p.add_argument("--legit", required=True)
    p.add_argument("--legit-fail", type=int, required=True)
    p.add_argument("--up-sha", required=True)
    p.add_argument("--allowed", required=True)
    p.add_argument("--alive", type=int, required=True)
    p.add_argument("--daemon-rc", type=int, required=True)
    p.add_argument("--cpu", type=float, required=True)
    p.add_argument("--cpu-max", type=float, required=True)
    p.add_argument("--hwm-kb", type=int, required=True)
    p.add_argument("--rss-max-kb", type=int, required=True)
    p.add_argument("--spoof-kinds", default="rst,syn")
    a = p.parse_args()
    log = open(os.path.join(a.tmp, "ftpalgd.log"), errors="replace").read()
    v = Verdict()
    downloads, uploads, conns = check_legit(v, a)
    print(f"figure - legitimate: {downloads} downloads, {uploads} uploads, {conns} data "
          f"connections")
    check_pinholes(v, a, conns, log)
    reports = check_attackers(v, a)
    check_daemon(v, a, log, reports)
    try:
        q = open(os.path.join(a.tmp, "queue.txt")).read().split()
        print(f"figure - kernel queue: {q[5]} dropped (full), {q[6]} dropped (user), "
              f"{q[2]} waiting at the end" if len(q) >= 7 else "figure - kernel queue: ?")
    except OSError:
        pass
    print(f"{'FAIL' if v.failed else 'PASS'}: {v.failed} check(s) failed")
    return 1 if v.failed else 0


if __name__ == "__main__":
    sys.exit(main())
