#!/usr/bin/env python3
"""Makes docs/performance.md and its plot from one run's JSON (scripts/bench-e2e.sh). Every
figure and every sentence of the analysis comes from the JSON; nothing is typed in by hand.

  report.py RUN.json --md OUT.md --png OUT.png
"""

import argparse
import json
import os

COLS = ["ftpalgd", "null", "helper", "noqueue", "ftpalgd-2q", "null-2q"]
RCOLS = ["ftpalgd/null", "ftpalgd/helper", "ftpalgd/noqueue", "ftpalgd-2q/ftpalgd",
         "null-2q/null"]
NAMES = {"ftpalgd": "ftpalgd", "null": "null consumer", "helper": "kernel helper",
         "noqueue": "no queue", "ftpalgd-2q": "ftpalgd, 2 queues", "null-2q": "null, 2 queues"}


def fmt(v):
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.3g}"
    return f"{v:,}" if isinstance(v, int) else str(v)


class Run:
    def __init__(self, doc):
        self.doc = doc
        self.rows = {r["measure"]: r for r in doc["rows"]}

    def v(self, measure, cfg="ftpalgd"):
        r = self.rows.get(measure)
        return None if r is None else r["values"].get(cfg)

    def ratio(self, measure, key):
        r = self.rows.get(measure)
        return None if r is None else r["ratios"].get(key)

    def find(self, prefix):
        return [m for m in self.rows if m.startswith(prefix)]


def spread(row):
    """The largest (max - min) / median over the rounds of any configuration, as a percentage:
    how far one round's figure strays (empty with one round)."""
    worst = None
    for vals in row.get("rounds", {}).values():
        if len(vals) < 2:
            continue
        mid = sorted(vals)[len(vals) // 2]
        if mid:
            d = (max(vals) - min(vals)) / abs(mid) * 100
            worst = d if worst is None else max(worst, d)
    return "" if worst is None else f"{worst:.0f} %"


def table(run):
    present = [c for c in COLS if any(c in r["values"] for r in run.doc["rows"])]
    rpresent = [c for c in RCOLS if any(c in r["ratios"] for r in run.doc["rows"])]
    out = ["| measure | unit | " + " | ".join(NAMES[c] for c in present) + " | " +
           " | ".join(rpresent) + " | spread |",
           "|---|---|" + "---:|" * (len(present) + len(rpresent) + 1)]
    for r in run.doc["rows"]:
        cells = [fmt(r["values"].get(c)) for c in present]
        rats = [fmt(r["ratios"].get(c)) for c in rpresent]
        out.append(f"| {r['measure']} | {r['unit']} | " + " | ".join(cells) + " | " +
                   " | ".join(rats) + f" | {spread(r)} |")
    return "\n".join(out)


def verdict(ok):
    return "n/a (not measured)" if ok is None else ("met" if ok else "**missed**")


def targets(run):
    """(target text, figure text, met?) for each target of the performance issue."""
    t = []

    def ratio_target(text, measure, key, bound):
        x = run.ratio(measure, key)
        sp = spread(run.rows[measure]) if measure in run.rows else ""
        noisy = f" (rounds spread {sp}: unreliable)" if sp and float(sp[:-2]) > 30 else ""
        t.append((text, "—" if x is None else f"{x:.3f}×{noisy}",
                  None if x is None else x >= bound))

    ratio_target("control packets/s ≥ 1.0× the null consumer", "control packets/s (noop)",
                 "ftpalgd/null", 1.0)
    ratio_target("control packets/s ≥ 0.95× no queue", "control packets/s (noop)",
                 "ftpalgd/noqueue", 0.95)
    for m in ("PASV", "PORT"):
        for w in ("1 worker", "4 workers"):
            ratio_target(f"{m} sessions/s, {w} ≥ 0.95× the kernel helper",
                         f"{m} sessions/s, {w}", "ftpalgd/helper", 0.95)
    for c in ("NOOP", "PASV", "PORT"):
        for q, slack in (("p99", 0.020), ("p99.9", 0.100)):
            m = f"{c} round trip {q}"
            d, n = run.v(m), run.v(m, "null")
            ok = None if d is None or n is None else d <= n + slack
            fig = "—" if ok is None else f"{d:.3f} ms vs {n:.3f} ms ({(d - n) * 1000:+.0f} µs)"
            t.append((f"{c} round trip {q} ≤ the null consumer's + {slack * 1000:.0f} µs", fig,
                      ok))
    ratio_target("bulk ≥ 0.98× the kernel helper", "bulk throughput, one transfer",
                 "ftpalgd/helper", 0.98)
    late = run.v("data SYNs before their pinhole (late)")
    t.append(("0 late data SYNs", fmt(late), None if late is None else late == 0))
    for m in run.find("sessions not inspected"):
        x = run.v(m)
        t.append((f"0 {m}", fmt(x), None if x is None else x == 0))
    x = run.v("engine heap per session slot")
    t.append(("≤ 512 B engine state per idle session (engine heap per session slot)",
              "—" if x is None else f"{fmt(x)} B", None if x is None else x <= 512))
    x = run.v("engine resident per idle session, 100000")
    if x is not None:
        t.append(("≤ 512 B engine state per idle session (resident, 100 000 idle sessions)",
                  f"{fmt(x)} B", x <= 512))
    rss = run.v("daemon RSS, 100000 idle control connections")
    t.append(("≤ 64 MiB daemon RSS at 100 000 idle sessions",
              "not measured" if rss is None else f"{rss:.1f} MiB",
              None if rss is None else rss <= 64))
    for m, bound in (("engine ns/segment, no announcement (NOOP)", 100),
                     ("engine ns/segment, PORT rewrite", 500),
                     ("engine ns/segment, 227 rewrite", 500)):
        x = run.v(m)
        t.append((f"{m} ≤ {bound} ns", fmt(x), None if x is None else x <= bound))
    return t


def analysis(run):
    """Sentences computed from the figures: where the time goes, and what limits a missed
    target."""
    s = []
    pd = run.v("cpu_per_queued_packet noop")
    pn = run.v("cpu_per_queued_packet noop", "null")
    if pd is not None and pn is not None:
        s.append(f"- **CPU per queued packet** (NOOP loops): ftpalgd {pd:.2f} µs, the null "
                 f"consumer {pn:.2f} µs: the queue round trip alone (receive, verdict, "
                 f"re-injection) costs {pn:.2f} µs, ftpalgd's own work on top "
                 f"{pd - pn:.2f} µs ({(pd - pn) / pd * 100:.0f} % of its per-packet cost).")
    qn = run.ratio("control packets/s (noop)", "ftpalgd/null")
    nq = run.v("control packets/s (noop)", "null")
    nn = run.v("control packets/s (noop)", "noqueue")
    if qn is not None and nq and nn:
        load = run.doc["meta"]["loadavg_start"][0]
        if nq / nn < 0.95:
            why = ("a consumer that queues every packet cannot reach no queue's rate; only "
                   "queueing fewer packets can.")
        elif qn > 1.05:
            why = (f"ftpalgd does strictly more work than the null consumer, so a ratio above 1 "
                   f"is noise of the shared machine (load average {load:.1f} at the start; see "
                   f"the spread column): these control-throughput ratios are not reliable.")
        elif nq / nn <= 1.05:
            why = "the queue is not what limits this load (the load client or the server is)."
        else:
            why = (f"the null consumer beat no queue, so differences of this size are noise of "
                   f"the shared machine (load average {load:.1f} at the start), not the queue.")
        s.append(f"- **Control throughput**: ftpalgd carries {qn:.2f}× the packets/s of the null "
                 f"consumer, and the null consumer itself {nq / nn:.2f}× no queue: {why}")
    for m in ("PASV", "PORT"):
        qp = run.v(f"queued packets per session {m} 4w")
        cs = run.v(f"cpu_per_session {m} 4w")
        r = run.ratio(f"{m} sessions/s, 4 workers", "ftpalgd/helper")
        if qp is not None and cs is not None:
            s.append(f"- **{m} session** (4 workers): {qp:.1f} queued packets and {cs:.0f} µs "
                     f"daemon CPU per session ({cs / qp if qp else 0:.1f} µs per queued packet); "
                     f"sessions/s {fmt(r)}× the kernel helper.")
    for c in ("PASV", "PORT", "NOOP"):
        d, n, h = (run.v(f"{c} round trip p99.9", k) for k in ("ftpalgd", "null", "helper"))
        d50, h50 = run.v(f"{c} round trip p50"), run.v(f"{c} round trip p50", "helper")
        if None not in (d, n, h, d50, h50):
            s.append(f"- **{c} round trip**: p50 {d50:.3f} ms (helper {h50:.3f}), p99.9 "
                     f"{d:.3f} ms vs {n:.3f} (null) and {h:.3f} (helper).")
    two = run.ratio("control packets/s (noop)", "ftpalgd-2q/ftpalgd")
    ntwo = run.ratio("control packets/s (noop)", "null-2q/null")
    if two is not None:
        s2 = run.ratio("PASV sessions/s, 4 workers", "ftpalgd-2q/ftpalgd")
        m = run.doc["meta"]
        pq = []
        for cfg in ("ftpalgd-2q", "null-2q"):
            parts = []
            for k in (1, 2):
                c = run.v(f"cpu_per_queued_packet noop, queue {k} of 2", cfg)
                sh = run.v(f"queued packet share noop, busier queue {k} of 2", cfg)
                if c is not None and sh is not None:
                    parts.append(f"queue {k}: {sh:.0f} % of the packets, {c:.2f} µs CPU each")
            if parts:
                pq.append(f"{NAMES.get(cfg, cfg)}: " + "; ".join(parts))
        spread = m.get("queue_spread", "iptables `--queue-balance` (hashes the address pair: "
                       "all connections of one client-server pair land on one queue)")
        s.append(f"- **Two queues**: control packets/s {two:.2f}× one queue (null consumer "
                 f"{fmt(ntwo)}×), PASV sessions/s (4 workers) {fmt(s2)}×. Spread: {spread}; "
                 f"pinning: {m.get('pinning', 'none')}, {m.get('cpus')} CPUs in all"
                 + (" (one CPU for the consumer: two queue threads share it, so a second queue "
                    "cannot add capacity here, only show the per-queue cost)"
                    if m.get("cpus") == 2 and not m.get("pinning", "none").startswith("none") else "")
                 + ". " + (". ".join(pq) + "." if pq else ""))
    sus = run.doc.get("extra", {}).get("sustained")
    if sus:
        c = sus.get("daemon_counters", {})
        s.append(f"- **Sustained** {sus['seconds']:g} s of PASV sessions at the load client's "
                 f"highest rate: {sus['sessions']} sessions, {sus['failures']} failed, "
                 f"session_table_full={c.get('session_table_full', 0)}, limits hit "
                 f"{c.get('_limits_hit', 0)}.")
    idle = run.doc.get("extra", {}).get("idle", {})
    for n, r in idle.items():
        rss = run.v(f"daemon RSS, {n} idle control connections")
        s.append(f"- **{n} idle connections**: {r['open']} opened in {r['seconds']} s "
                 f"({r['failed']} failed); daemon RSS {fmt(rss)} MiB.")
    ic = run.doc.get("extra", {}).get("idle_counters")
    if ic:
        shown = ", ".join(f"{k}={v}" for k, v in ic.items() if not k.startswith("_"))
        per = [run.v(m) for m in run.find("RSS per idle session")]
        grow = (per[-1] or 0) if per else 0
        s.append(f"- ftpalgd's counters after the idle phase: {shown}; limits hit "
                 f"{ic.get('_limits_hit', 0)}. RSS growth per idle session: {fmt(grow)} B"
                 + (" — small because the daemon allocates its tables at start" if grow < 256
                    else "")
                 + f" (engine heap per session slot: "
                 f"{fmt(run.v('engine heap per session slot'))} B).")
    if ic and ic.get("pool_exhausted"):
        s.append(f"- pool_exhausted={ic['pool_exhausted']}: while the idle connections were "
                 "opened (every server greeting in flight at once), the engine's pool of "
                 "per-direction buffers (`max_buffers`) ran out and those packets were dropped "
                 "(TCP retransmitted them); a burst of new sessions needs more buffers than the "
                 "default.")
    if not run.v("daemon RSS, 100000 idle control connections"):
        s.append("- 100 000 idle connections were not measured in this run (smoke run, or "
                 "infeasible: see the notes).")
    return "\n".join(s)


def plot(run, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    thr = ["control packets/s (noop)", "PASV sessions/s, 1 worker", "PASV sessions/s, 4 workers",
           "PORT sessions/s, 1 worker", "PORT sessions/s, 4 workers",
           "bulk throughput, one transfer"]
    thr = [m for m in thr if m in run.rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    refs = ["null", "helper", "noqueue"]
    w = 0.8 / len(refs)
    top = 2.0  # ratios above are clipped and labelled (a reference that barely ran)
    for i, ref in enumerate(refs):
        ys = [run.ratio(m, f"ftpalgd/{ref}") or 0 for m in thr]
        xs = [x + i * w for x in range(len(thr))]
        ax1.bar(xs, [min(y, top) for y in ys], w, label=f"ftpalgd / {NAMES[ref]}")
        for x, y in zip(xs, ys):
            ax1.text(x, min(y, top) + 0.02, f"{y:.2f}", ha="center", fontsize=6, rotation=90)
    ax1.set_ylim(0, top + 0.25)
    ax1.axhline(1.0, color="black", linewidth=0.8)
    ax1.set_xticks([x + w for x in range(len(thr))])
    ax1.set_xticklabels([m.replace(" sessions/s, ", "\n").replace(" (noop)", "\n(NOOP)")
                         .replace("bulk throughput, one transfer", "bulk")
                         for m in thr], fontsize=8)
    ax1.set_ylabel("ratio (higher is better)")
    ax1.set_title("Throughput relative to the references")
    ax1.legend(fontsize=8)
    lat = [f"{c} round trip {q}" for c in ("NOOP", "PASV", "PORT") for q in ("p50", "p99", "p99.9")]
    lat = [m for m in lat if m in run.rows]
    cfgs = ["ftpalgd", "null", "helper", "noqueue"]
    w2 = 0.8 / len(cfgs)
    for i, c in enumerate(cfgs):
        ys = [run.v(m, c) or 0 for m in lat]
        ax2.bar([x + i * w2 for x in range(len(lat))], ys, w2, label=NAMES[c])
    ax2.set_xticks([x + 1.5 * w2 for x in range(len(lat))])
    ax2.set_xticklabels([m.replace(" round trip ", "\n") for m in lat], fontsize=8)
    ax2.set_ylabel("ms (lower is better)")
    ax2.set_yscale("log")
    ax2.set_title("Command round trip")
    ax2.legend(fontsize=8)
    meta = run.doc["meta"]
    fig.suptitle(f"ftpalg end-to-end benchmark, {meta['started']} ({meta['mode']} run, "
                 f"load {meta['loadavg_start'][0]:.1f})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def markdown(run, png_name):
    m = run.doc["meta"]
    notes = run.doc.get("notes", {})
    lines = [
        "# Performance",
        "",
        "<!-- Generated by tests/bench/e2e/report.py from one run of scripts/bench-e2e.sh "
        "(its JSON: docs/performance.json); do not edit by hand. New run: "
        "`sudo scripts/bench-e2e.sh --docs --profile`; same run: `tests/bench/e2e/report.py "
        "docs/performance.json --md docs/performance.md --png docs/performance.png "
        "--profile-txt docs/performance-profile.txt`. -->",
        "",
        "Generated from one run of `scripts/bench-e2e.sh` (all figures and the analysis below "
        "come from that run's JSON, `docs/performance.json`). Only ratios within one run count: "
        "the machine is shared, and a busier machine gives lower absolute figures.",
        "",
        "## The run",
        "",
        f"- started {m['started']}, {m['mode']} run: {m['rounds']} alternating rounds × "
        f"{m['seconds_per_measure']} s per measure and configuration, {m.get('seconds')} s in all",
        f"- load average {m['loadavg_start'][0]:.2f} at the start, "
        f"{m.get('loadavg_end', [0])[0]:.2f} at the end; {m['cpus']} CPUs; kernel {m['kernel']}",
        f"- topology: {m['topology']}; the load client (tests/bench/e2e/load_client.py) runs "
        "in the client namespace; CPU pinning: " + m.get("pinning", "none (the load client, "
                                                        "the server and the consumer share the "
                                                        "cores)"),
        "- configurations: **ftpalgd** (pinhole mode, one queue), **null consumer** "
        "(ftpalg_null_queue: the daemon's queue adapter and loop, accepts every packet), "
        "**kernel helper** (nf_conntrack_ftp, ct helper assigned by nft), **no queue**; "
        "ftpalgd and the null consumer also with two queues ("
        + m.get("queue_spread", "`--queue-balance`") + ")",
        "- figures are medians over the rounds; ratios are ftpalgd's figure over the "
        "reference's (for round trips lower is better, for the rest higher); spread: the "
        "largest (max - min) / median over the rounds of any configuration of that row",
        "- not run: " + "; ".join(m.get("not_run", [])),
        "",
        "## Table",
        "",
        table(run),
        "",
        f"![throughput ratios and round trips]({png_name})",
        "",
        "## Targets",
        "",
        "| target | this run | |",
        "|---|---|---|",
    ]
    for text, fig, ok in targets(run):
        lines.append(f"| {text} | {fig} | {verdict(ok)} |")
    lines += ["", "## Analysis (computed from the run)", "", analysis(run), ""]
    prof = profile_text(run, md=True)
    if prof:
        lines += ["## Profile of ftpalgd (perf record -g, this run)", "",
                  "The top of `perf report --no-children` for the daemon's process under each "
                  "load (also in performance-profile.txt): the evidence for where its CPU goes.",
                  "", profile_findings(run), "", prof]
    if notes:
        lines += ["## Notes of the run", ""]
        for cfg, ns in notes.items():
            for n in ns:
                lines.append(f"- {NAMES.get(cfg, cfg)}: {n}")
        lines.append("")
    lines += [
        "## How the figures are taken",
        "",
        "- control packets/s: an nft counter on the gateway (forward, port 21 both ways) over "
        "the NOOP phase; queued packets: `id_sequence` of /proc/net/netfilter/nfnetlink_queue",
        "- CPU: utime + stime of the consumer from /proc/<pid>/stat over the phase, divided by "
        "the queued packets or the completed sessions",
        "- late data SYNs: the e2e firewall's sets (tests/netns/lib/e2e.sh, `e2e_late_syn`): a "
        "data SYN dropped by the forward policy whose connection was admitted later",
        "- sessions not inspected: the daemon's `session_table_full` counter (its stop line) "
        "after the sustained phase",
        "- RSS: VmRSS of ftpalgd with N idle control connections held open to a listener that "
        "only greets (vsftpd forks per connection and does not scale to 100 000)",
        "- engine: tests/bench/engine_bench (Google Benchmark; one iteration is one segment)",
        "",
    ]
    return "\n".join(lines)


def profile_findings(run):
    """What the profile phase shows, computed from it: the kernel's share of the daemon's
    samples, its own code's share, and the wall time its queue thread spent blocked in system
    calls on other sockets than the queue's (pinhole transactions) during the session load (the
    withdrawal thread's apart: it holds no packet)."""
    out = []
    for p in run.doc.get("extra", {}).get("profile", []):
        dso = {}
        for ln in p.get("by_dso", []):
            parts = ln.split(None, 1)
            if len(parts) == 2 and parts[0].endswith("%"):
                dso[parts[1].strip()] = float(parts[0][:-1])
        kern = dso.get("[kernel.kallsyms]", 0.0)
        own = sum(v for k, v in dso.items() if k != "[kernel.kallsyms]")
        text = (f"- **{p['load']}**: {kern:.0f} % of the daemon's samples are kernel code, "
                f"{own:.0f} % user space (ftpalgd {dso.get('ftpalgd', 0.0):.0f} %, the rest "
                "libc, libmnl and the vDSO)")
        slow = p.get("slow", [])
        recv_fds = {s["call"].split("fd ")[1].rstrip(")") for s in slow
                    if s["call"].startswith("recvfrom(fd")}
        other = [s for s in slow if s["call"].startswith(("sendto(fd", "recvmsg(fd"))
                 and s["call"].split("fd ")[1].rstrip(")") not in recv_fds]
        if other:
            tot = sum(s["total_ms"] for s in other)
            worst = max(s["max_ms"] for s in other)
            n = sum(s["calls"] for s in other)
            secs = p.get("trace_seconds") or 1
            text += (f"; {n} system calls of 1 ms or more on a socket other than the queue's "
                     f"({', '.join(s['call'] for s in other)}: the nf_tables socket of the "
                     f"pinhole transactions) held the queue thread for {tot:.0f} ms in "
                     f"{secs} s ({100 * tot / 1000 / secs:.0f} % of the time, longest "
                     f"{worst:.0f} ms): every packet queued meanwhile waits")
        wd = [s for s in slow if s["call"].startswith("withdrawal thread: ")]
        if wd:
            secs = p.get("trace_seconds") or 1
            text += (f"; the withdrawal thread (ended sessions' pinhole withdrawals, off the "
                     f"packet path) spent {sum(s['total_ms'] for s in wd):.0f} ms in {secs} s "
                     f"in {sum(s['calls'] for s in wd)} such calls, holding no packet")
        out.append(text + ".")
    return "\n".join(out)


def profile_text(run, md=False):
    """The profile phase (bench.py --profile): per load, the top of `perf report --no-children`
    by shared object and by symbol, as text (md: inside code blocks). "" without one."""
    prof = run.doc.get("extra", {}).get("profile")
    if not prof:
        return ""
    out = []
    for p in prof:
        head = (f"{p['load']}, {p['seconds']} s: {p['queued_packets']} queued packets, "
                f"{p['daemon_cpu_us'] / 1000:.0f} ms daemon CPU"
                + (f", {p['cpu_us_per_queued_packet']} µs per queued packet"
                   if p.get("cpu_us_per_queued_packet") else ""))
        out += [f"### {head}" if md else f"== {head}", ""]
        for key, title in (("by_dso", "by shared object"), ("by_symbol", "by symbol"),
                           ("callers", "call chains of the entries over 10 % (caller view)"),
                           ("slow_syscalls", f"system calls of 1 ms or more, the same load again for "
                            f"{p.get('trace_seconds', '?')} s under perf trace --duration 1 (fd 5 "
                            "is typically the queue socket: its blocking receive waits for "
                            "packets; poll and rt_sigtimedwait are the daemon's other threads)")):
            if key == "slow_syscalls":
                out += [title + ":", ""]
                out += (["```"] if md else []) + (p.get(key) or ["(none)"]) + \
                    (["```"] if md else []) + [""]
                continue
            out += [f"perf report --no-children, {title}:", ""]
            out += (["```"] if md else []) + p.get(key, []) + (["```"] if md else []) + [""]
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("json")
    p.add_argument("--md", required=True)
    p.add_argument("--png", required=True)
    p.add_argument("--profile-txt", help="also write the profile section here (with --profile)")
    a = p.parse_args()
    with open(a.json) as f:
        run = Run(json.load(f))
    plot(run, a.png)
    with open(a.md, "w") as f:
        f.write(markdown(run, os.path.basename(a.png)))
    print(f"wrote {a.md} and {a.png}")
    prof = profile_text(run)
    if a.profile_txt and prof:
        with open(a.profile_txt, "w") as f:
            f.write("# Generated by tests/bench/e2e/report.py from the profile phase of one run of "
                    "scripts/bench-e2e.sh --profile (perf record -g -F 1999 on ftpalgd); "
                    f"run started {run.doc['meta']['started']}\n\n" + prof)
        print(f"wrote {a.profile_txt}")


if __name__ == "__main__":
    main()
