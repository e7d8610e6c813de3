#!/usr/bin/env python3
"""Reads ftpalgd's metrics with the Prometheus client library's parser (a real parser, not
ours) and checks them against the events file.

    metrics_scrape.py live FILE              exposition in FILE: prints "packets sessions"
    metrics_scrape.py final FILE EVENTS      the run is over: every ftpalg_events_total series
                                             equals the events file's count of its kind,
                                             verdict and reason (and no other exists); the
                                             latency histogram counts every packet's verdict
Exit status 0 when every check holds; the failures are printed.
"""
import collections
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def samples(path):
    """{(sample name, frozenset(labels)): value}; the parser raises on malformed text."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out = {}
    types = {}
    for fam in text_string_to_metric_families(text):
        types[fam.name] = fam.type
        for s in fam.samples:
            key = (s.name, frozenset(s.labels.items()))
            if key in out:
                raise SystemExit("duplicate series %s %s" % key)
            out[key] = s.value
    return out, types


def total(ss, name, **want):
    return sum(v for (n, labels), v in ss.items()
               if n == name and all(dict(labels).get(k) == w for k, w in want.items()))


def main():
    mode, path = sys.argv[1], sys.argv[2]
    ss, types = samples(path)
    fails = []
    packets = total(ss, "ftpalg_queue_packets_total")
    sessions = total(ss, "ftpalg_sessions")
    if mode == "live":
        print(int(packets), int(sessions))
        return 0
    for fam, t in (("ftpalg_events", "counter"), ("ftpalg_verdict_latency_seconds", "histogram"),
                   ("ftpalg_sessions", "gauge"), ("ftpalg_engine_segments", "counter")):
        if types.get(fam) != t:
            fails.append("family %s has type %s, want %s" % (fam, types.get(fam), t))
    want = collections.Counter()
    with open(sys.argv[3], encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            want[(e["kind"], e["verdict"], e["reason"])] += 1
    got = collections.Counter()
    for (n, labels), v in ss.items():
        if n == "ftpalg_events_total":
            l = dict(labels)
            got[(l["kind"], l["verdict"], l["reason"])] += int(v)
    for key in sorted(set(want) | set(got)):
        mark = "ok  " if want[key] == got[key] else "FAIL"
        print("%s events %-30s file %3d metrics %3d" % (mark, "/".join(key), want[key], got[key]))
        if want[key] != got[key]:
            fails.append("events %s: file %d, metrics %d" % ("/".join(key), want[key], got[key]))
    count = total(ss, "ftpalg_verdict_latency_seconds_count")
    inf = total(ss, "ftpalg_verdict_latency_seconds_bucket", le="+Inf")
    held = total(ss, "ftpalg_held_packets")
    print("packets %d, verdicts timed %d (+Inf bucket %d), held %d, engine segments %d"
          % (packets, count, inf, held, total(ss, "ftpalg_engine_segments_total")))
    if packets <= 0:
        fails.append("no packets counted")
    if count != packets - held or inf != count:
        fails.append("latency histogram count %d, +Inf %d; packets %d held %d"
                     % (count, inf, packets, held))
    for f in fails:
        print("FAIL - " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
