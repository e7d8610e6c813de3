#!/usr/bin/env python3
"""Golden tests of `ftpalg replay` against captures whose announcements are known.

  run_golden.py --ftpalg BUILD/ftpalg --shared ../shared/captures/public --work TMPDIR
                [--check own|nat|thirdparty|all]

Checks (each prints one PASS/FAIL line, with the reasons underneath; exit 1 on any FAIL):
  own         tests/golden/captures/*.pcap (recorded by scripts/record-golden.sh): every
              announcement in <name>.expected.jsonl (derived with tshark, never with ftpalg)
              is reported in order, same flow, dir, kind and endpoint, verdict admit; no
              other event; exit status 0.
  nat         the same captures with --snat CLIENT=PUBLIC (and an identity --dnat for passive
              ones): PORT/EPRT are reported rewritten to PUBLIC, the output capture carries
              the rewritten text, passive sessions pass through byte for byte, and the output
              has no more bad TCP checksums, lost segments or ACKed unseen segments than the
              input (tshark's TCP analysis).
  thirdparty  the public captures in --shared (read in place) against their truth/*.jsonl:
              every truth announcement is reported with the same flow, dir, kind and
              endpoint; every extra or missing event and every verdict other than admit is
              explained in the tables below, or the check fails.
Python 3 standard library and tshark only.
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(HERE))
import expected_from_tshark  # noqa: E402  (our own tshark-only extractor)

ANNOUNCE_KINDS = {"port", "eprt", "lprt", "pasv227", "epsv229", "lpsv228"}
REPLAY_TIMEOUT = 300
SNAT_PUBLIC = {4: "198.51.100.7", 6: "2001:db8:5100::7"}

# --- Third-party explanations ------------------------------------------------------------------
# Every difference between ftpalg's events and the truth of a public capture must be listed
# here with a one-line reason. The truth splits each TCP stream into lines as RFC 959 defines
# them (a reassembled byte stream, CRLF-terminated); where tshark's FTP dissector disagrees
# (it reads only the first line of each segment and does not reassemble, e.g. 8 of 25 lines
# in zeek-ipv6-violation, 38 frames for 74 lines in zeek-ipv4) the truth and the RFC win. Keys: (capture, frame) for one line, (capture, kind) for every
# event of that kind in the capture. Entries no event used are printed as stale (not a failure).

# Events ftpalg reports that are not announcements in the truth.
CWD_HOLES = "a capture hole in the control connection (truth: 'control line cut by a capture " \
            "hole', 9 lines): the engine cannot tell whether the next byte starts a line, skips " \
            "to the next LF and reports desync/pass"
EXPLAINED_EXTRA = {
    ("zeek-ftp-auth-tls", "auth_tls"):
        "AUTH TLS answered by 234 (frame 21): the engine reports that the channel goes opaque; "
        "the truth lists announcements only",
    **{("zeek-cwd-navigation", frame): CWD_HOLES
       for frame in (718, 831, 832, 3204, 3205, 3630, 3940, 7151, 7152)},
}

# Truth announcements ftpalg does not report.
EXPLAINED_MISSING = {
    ("zeek-cwd-navigation", 831):
        "the 227 is the first s2c bytes after a hole (the 200 reply to TYPE was not captured); "
        "the truth reassembler knows the hole ends on a line boundary, the engine does not and "
        "skips the line (desync event at frame 831). Fail-closed: the data connection is not "
        "admitted",
}

# Verdicts other than admit that are correct. Keys as above, value (verdict, reason, why).
EXPECTED_VERDICTS = {
    ("zeek-ftp-many-port-expected", "port"): (
        "refuse", "bounce_address",
        "the 500 PORTs from 10.0.0.1 announce 10.0.0.200, a third host (bounce, RFC 2577)"),
    ("zeek-cwd-navigation", "pasv227"): (
        "refuse", "pasv_address_mismatch",
        "every 227 names 205.167.25.101, not the server 10.167.25.101 (a NATed server or an "
        "anonymised capture); refused under the default pasv_address_mismatch = refuse"),
    ("zeek-cwd-navigation", 3206): (
        "refuse", "unsolicited",
        "its PASV (frame 3205) directly follows a c2s capture hole and is skipped, so the 227 "
        "answers nothing the engine saw"),
    ("zeek-cwd-navigation", "desync"): ("pass", "ok", "desync events carry no verdict"),
    ("zeek-fake-long-commands", 24): (
        "refuse", "parse_failed", "'227 Response to PASV command' carries no h1..p2 tuple"),
    ("zeek-fake-long-commands", 32): (
        "refuse", "parse_failed", "'PORT 114,115' carries no h1..p2 tuple"),
    ("zeek-fake-server-delays-all", 16): (
        "refuse", "parse_failed", "'PORT 114,115' carries no h1..p2 tuple"),
    ("zeek-fake-server-delays-all", 30): (
        "refuse", "parse_failed", "'227 Fake response PASV' carries no h1..p2 tuple"),
    ("zeek-ftp-auth-tls", "auth_tls"): (
        "pass", "tls_opaque", "nothing after 234 can be inspected"),
}


# --- Helpers ---------------------------------------------------------------------------------------
class Report:
    """Collects the failures of one check; prints them with its PASS/FAIL line."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.notes = []
        self.items = 0

    def fail(self, item, message):
        self.failures.append(f"{item}: {message}")

    def note(self, item, message):
        self.notes.append(f"{item}: {message}")

    def finish(self):
        for line in self.notes:
            print(f"  note: {line}")
        for line in self.failures:
            print(f"  FAIL: {line}")
        verdict = "FAIL" if self.failures else "PASS"
        print(f"{verdict} {self.name}: {self.items} captures, {len(self.failures)} failures",
              flush=True)
        return not self.failures


def canon_ip(text):
    return ipaddress.ip_address(text.strip("[]")).compressed


def canon_endpoint(text):
    """'ip:port' / '[v6]:port' -> canonical text; None stays None."""
    if text is None:
        return None
    host, _, port = text.rpartition(":")
    return expected_from_tshark.endpoint(canon_ip(host), int(port))


def canon_flow(flow):
    match = re.fullmatch(r"(.+:\d+)-(.+:\d+)", flow)
    if not match:
        return flow
    return f"{canon_endpoint(match.group(1))}-{canon_endpoint(match.group(2))}"


def split_endpoint(text):
    host, _, port = text.rpartition(":")
    return canon_ip(host), int(port)


def ts_micros(text):
    """'1700000000.123456789' -> integer microseconds, truncated (exact, no float)."""
    text = str(text)
    sec, _, frac = text.partition(".")
    return int(sec) * 1_000_000 + int((frac + "000000")[:6])


def tshark(args, timeout=300):
    proc = subprocess.run(["tshark", "-n"] + args, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"tshark {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def frame_times(capture):
    """{microseconds: [frame numbers]} of a capture."""
    out = defaultdict(list)
    for line in tshark(["-r", str(capture), "-T", "fields", "-e", "frame.number",
                        "-e", "frame.time_epoch"]).splitlines():
        number, epoch = line.split("\t")
        out[ts_micros(epoch)].append(int(number))
    return out


def count_frames(capture, display_filter):
    return len(tshark(["-r", str(capture), "-o", "tcp.check_checksum:TRUE", "-Y", display_filter,
                       "-T", "fields", "-e", "frame.number"]).splitlines())


def ftp_lines(capture, ports=()):
    """Every FTP command and reply text tshark sees, in frame order."""
    args = ["-r", str(capture), "-Y", "ftp", "-T", "fields", "-E", "occurrence=a",
            "-e", "ftp.request.command", "-e", "ftp.request.arg", "-e", "ftp.response.code",
            "-e", "ftp.response.arg"]
    for port in ports:
        args += ["-d", f"tcp.port=={port},ftp"]
    return tshark(args).splitlines()


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class Replay:
    """One `ftpalg replay` run."""

    def __init__(self, ftpalg, capture, work, tag, out=False, snat=(), dnat=(), ports=()):
        self.capture = Path(capture)
        self.events_path = Path(work) / f"{tag}.events.jsonl"
        self.out_path = Path(work) / f"{tag}.out.pcap" if out else None
        cmd = [ftpalg, "replay", "--in", str(capture), "--events", str(self.events_path)]
        if self.out_path:
            cmd += ["--out", str(self.out_path)]
        for rule in snat:
            cmd += ["--snat", rule]
        for rule in dnat:
            cmd += ["--dnat", rule]
        if ports:
            cmd += ["--ports", ",".join(str(p) for p in ports)]
        self.cmd = cmd
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=REPLAY_TIMEOUT,
                                  check=False)
            self.rc, self.stderr = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired:
            self.rc, self.stderr = None, f"timed out after {REPLAY_TIMEOUT} s"
        self.events = []
        self.bad_json = []
        if self.events_path.exists():
            with open(self.events_path, encoding="utf-8", errors="replace") as handle:
                for number, line in enumerate(handle, 1):
                    try:
                        self.events.append(json.loads(line))
                    except json.JSONDecodeError as err:
                        self.bad_json.append(f"events line {number}: {err}: {line[:120]!r}")
        self._times = None

    def problems(self):
        """Reasons the run itself failed (crash, exit status, unreadable events)."""
        out = []
        if self.rc is None or self.rc != 0:
            what = (f"killed by signal {-self.rc}" if self.rc is not None and self.rc < 0
                    else f"exit status {self.rc}")
            tail = " | ".join(self.stderr.strip().splitlines()[-3:])
            out.append(f"{what}: {' '.join(self.cmd)}: {tail}")
        for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            if marker in self.stderr:
                out.append(f"sanitizer report: {marker}")
        out += self.bad_json
        if "read stopped" in self.stderr:
            out.append("capture read stopped early: "
                       + next(l for l in self.stderr.splitlines() if "read stopped" in l))
        return out

    def frames_of(self, event):
        """Frame numbers whose timestamp equals the event's (the packet with the line's end)."""
        if self._times is None:
            self._times = frame_times(self.capture)
        frames = self._times.get(ts_micros(event.get("ts", "0")), [])
        return frames

    def where(self, event):
        frames = self.frames_of(event)
        return f"frame {'/'.join(map(str, frames))}" if frames else f"ts {event.get('ts')}"


def key_of(row):
    return (canon_flow(row["flow"]), row["dir"], row["kind"], canon_endpoint(row["announced"]))


def show(row):
    return f"{row['dir']} {row['kind']} {row.get('announced')}"


def compare_in_order(report, name, expected, replay, want_verdict="admit"):
    """Announcement events must equal `expected` in order; nothing else may be reported."""
    got = replay.events
    for i in range(max(len(expected), len(got))):
        want = expected[i] if i < len(expected) else None
        have = got[i] if i < len(got) else None
        if want is None:
            report.fail(name, f"extra event #{i + 1} at {replay.where(have)}: {json.dumps(have)}")
        elif have is None:
            report.fail(name, f"missing event #{i + 1} (frame {want.get('frame')}): {show(want)}")
        elif key_of(want) != key_of(have):
            report.fail(name, f"event #{i + 1}: expected {show(want)} on {want['flow']} "
                              f"(frame {want.get('frame')}), got {show(have)} on {have['flow']} "
                              f"at {replay.where(have)}")
        elif want_verdict and have.get("verdict") != want_verdict:
            report.fail(name, f"event #{i + 1} (frame {want.get('frame')}) {show(want)}: verdict "
                              f"{have.get('verdict')} ({have.get('reason')}), want {want_verdict}")


def own_captures(captures_dir):
    out = []
    for pcap in sorted(Path(captures_dir).glob("*.pcap")):
        expected = pcap.with_suffix(".expected.jsonl")
        out.append((pcap, expected if expected.exists() else None))
    return out


# --- Check a: own captures ---------------------------------------------------------------------
def check_own(opts):
    report = Report("golden_own")
    captures = own_captures(opts.captures)
    if not captures:
        report.fail(opts.captures, "no captures")
    for pcap, expected_path in captures:
        report.items += 1
        name = pcap.stem
        if expected_path is None:
            report.fail(name, "no .expected.jsonl beside the capture")
            continue
        expected = read_jsonl(expected_path)
        replay = Replay(opts.ftpalg, pcap, opts.work, f"own-{name}")
        for problem in replay.problems():
            report.fail(name, problem)
        compare_in_order(report, name, expected, replay)
    return report.finish()


# --- Check b: NAT rewrite ------------------------------------------------------------------------
def port_text(kind, ip, port, family):
    if kind == "port":
        return ",".join(ip.split(".") + [str(port // 256), str(port % 256)])
    return f"|{1 if family == 4 else 2}|{ip}|{port}|"


def check_nat(opts):
    report = Report("golden_nat")
    captures = own_captures(opts.captures)
    if not captures:
        report.fail(opts.captures, "no captures")
    for pcap, expected_path in captures:
        report.items += 1
        name = pcap.stem
        if expected_path is None:
            report.fail(name, "no .expected.jsonl beside the capture")
            continue
        expected = read_jsonl(expected_path)
        if not expected:
            report.fail(name, "no announcements to rewrite")
            continue
        client_ep, server_ep = canon_flow(expected[0]["flow"]).split("-", 1)
        client_ip, _ = split_endpoint(client_ep)
        server_ip, _ = split_endpoint(server_ep)
        family = ipaddress.ip_address(client_ip).version
        public = SNAT_PUBLIC[family]
        active = expected[0]["kind"] in ("port", "eprt", "lprt")
        snat = [f"{client_ip}={public}"]
        # Passive: no NAT happened when the capture was taken, so the only honest --dnat is the
        # identity; it must change nothing.
        dnat = [] if active else [f"{server_ip}={server_ip}"]
        replay = Replay(opts.ftpalg, pcap, opts.work, f"nat-{name}", out=True, snat=snat,
                        dnat=dnat)
        problems = replay.problems()
        for problem in problems:
            report.fail(name, problem)
        if problems:
            continue
        compare_in_order(report, name, expected, replay)
        rewritten_texts = []
        for i, (want, have) in enumerate(zip(expected, replay.events)):
            if key_of(want) != key_of(have):
                continue
            ann_ip, ann_port = split_endpoint(want["announced"])
            where = f"event #{i + 1} (frame {want.get('frame')})"
            if active:
                want_rw = expected_from_tshark.endpoint(public, ann_port)
                if canon_endpoint(have.get("rewritten")) != want_rw:
                    report.fail(name, f"{where}: rewritten {have.get('rewritten')}, want {want_rw}")
                if have.get("reason") != "rewritten":
                    report.fail(name, f"{where}: reason {have.get('reason')}, want rewritten")
                expect = have.get("expect") or {}
                if (canon_endpoint(expect.get("dst")) != want_rw
                        or canon_endpoint(expect.get("nat_to")) != canon_endpoint(want["announced"])):
                    report.fail(name, f"{where}: expect dst {expect.get('dst')} nat_to "
                                      f"{expect.get('nat_to')}, want dst {want_rw} nat_to "
                                      f"{want['announced']}")
                rewritten_texts.append((want["kind"], port_text(want["kind"], public, ann_port,
                                                                family)))
            elif have.get("rewritten") not in (None, have.get("announced")):
                report.fail(name, f"{where}: identity NAT rewrote {have.get('announced')} to "
                                  f"{have.get('rewritten')}")
        if not replay.out_path.exists():
            report.fail(name, "no output capture written")
            continue
        check_output_capture(report, name, pcap, replay.out_path, expected, active, public,
                             rewritten_texts, client_ip, family)
    return report.finish()


def check_output_capture(report, name, pcap, out, expected, active, public, rewritten_texts,
                         client_ip, family):
    for label, display_filter in (
            ("bad TCP checksums", 'tcp.checksum.status == "Bad"'),
            ("lost segments", "tcp.analysis.lost_segment"),
            ("ACKed unseen segments", "tcp.analysis.ack_lost_segment"),
            ("retransmissions", "tcp.analysis.retransmission"),
            ("frames", "frame")):
        before, after = count_frames(pcap, display_filter), count_frames(out, display_filter)
        if label == "frames":
            if after != before:
                report.fail(name, f"output has {after} frames, input {before}")
        elif after > before:
            report.fail(name, f"output has {after} frames with {label}, input {before}")
    lines_in, lines_out = ftp_lines(pcap), ftp_lines(out)
    if not active:
        if lines_in != lines_out:
            diff = next((i for i, (a, b) in enumerate(zip(lines_in, lines_out)) if a != b),
                        min(len(lines_in), len(lines_out)))
            report.fail(name, f"passive session changed by identity NAT: FTP line {diff + 1}")
        return
    args = set()
    for line in lines_out:
        fields = line.split("\t")
        if len(fields) > 1 and fields[0] in ("PORT", "EPRT", "LPRT"):
            args.add(fields[1])
    for kind, text in rewritten_texts:
        if text not in args:
            report.fail(name, f"rewritten {kind.upper()} text {text!r} not in the output's "
                              f"ftp.request.arg")
    private = [f"|{1 if family == 4 else 2}|{client_ip}|"]
    if family == 4:
        private.append(",".join(client_ip.split(".")) + ",")
    for arg in sorted(args):
        if any(arg.startswith(p) for p in private):
            report.fail(name, f"output still announces the private address: {arg!r}")
    # The output's announcements, extracted with the same tshark-only code, must be the
    # expected ones with the public address.
    try:
        out_rows = [row for row, _ in expected_from_tshark.announcements(str(out), {21})]
    except SystemExit as err:
        report.fail(name, f"tshark on the output: {err}")
        return
    want = [(r["dir"], r["kind"], expected_from_tshark.endpoint(public,
                                                               split_endpoint(r["announced"])[1]))
            for r in expected]
    have = [(r["dir"], r["kind"], canon_endpoint(r["announced"])) for r in out_rows]
    if want != have:
        report.fail(name, f"output announcements {have} != expected {want}")


# --- Check c: third-party captures ------------------------------------------------------------
def explanation(table, capture, frames, kind):
    for frame in frames:
        if (capture, frame) in table:
            return (capture, frame)
    if (capture, kind) in table:
        return (capture, kind)
    return None


def check_thirdparty(opts):
    report = Report("golden_thirdparty")
    shared = Path(opts.shared)
    truth_dir = shared / "truth"
    if not truth_dir.is_dir():
        report.fail(str(shared), "third-party captures not found (need ../shared/captures/public "
                                 "beside the repository)")
        return report.finish()
    summary = json.loads((truth_dir / "summary.json").read_text(encoding="utf-8"))
    used = set()
    pcaps = sorted(shared.glob("*.pcap"))
    if not pcaps:
        report.fail(str(shared), "no captures")
    for pcap in pcaps:
        capture = pcap.stem
        truth_path = truth_dir / f"{capture}.jsonl"
        if not truth_path.exists():
            report.note(capture, "no truth file, skipped")
            continue
        report.items += 1
        truth = read_jsonl(truth_path)
        ports = summary.get(pcap.name, {}).get("nonstandard_control_ports", [])
        replay = Replay(opts.ftpalg, pcap, opts.work, f"tp-{capture}", ports=ports)
        problems = replay.problems()
        for problem in problems:
            report.fail(capture, problem)
        if replay.rc is None or (replay.rc != 0 and not replay.events):
            continue
        # Pair truth rows with events in stream order, by (flow, dir, kind, endpoint); a
        # malformed truth line pairs with a "malformed" event of the same flow and dir.
        pending = defaultdict(list)
        for index, event in enumerate(replay.events):
            kind = event.get("kind")
            pending[(canon_flow(event["flow"]), event["dir"], kind,
                     canon_endpoint(event.get("announced")))].append(index)
        matched = set()
        wrong = defaultdict(list)
        for row in truth:
            keys = [key_of(row)]
            if row.get("malformed"):
                keys.append((canon_flow(row["flow"]), row["dir"], "malformed", None))
            index = None
            for key in keys:
                if pending.get(key):
                    index = pending[key].pop(0)
                    break
            if index is None:
                exp = explanation(EXPLAINED_MISSING, capture, [row["frame"]], row["kind"])
                if exp:
                    used.add(("missing",) + exp)
                else:
                    report.fail(capture, f"truth frame {row['frame']} {show(row)} "
                                         f"({row.get('line')!r}) not reported")
                continue
            matched.add(index)
            event = replay.events[index]
            if ts_micros(event["ts"]) != ts_micros(row["ts"]):
                report.note(capture, f"truth frame {row['frame']} reported at "
                                     f"{replay.where(event)}")
            check_verdict(wrong, capture, event, [row["frame"]], used)
        for index, event in enumerate(replay.events):
            if index in matched:
                continue
            frames = replay.frames_of(event)
            exp = explanation(EXPLAINED_EXTRA, capture, frames, event.get("kind"))
            if exp:
                used.add(("extra",) + exp)
                check_verdict(wrong, capture, event, frames, used)
            else:
                report.fail(capture, f"unexplained event at {replay.where(event)}: "
                                     f"{json.dumps(event)}")
        report_verdicts(report, capture, wrong)
    for table, tag in ((EXPLAINED_EXTRA, "extra"), (EXPLAINED_MISSING, "missing"),
                       (EXPECTED_VERDICTS, "verdict")):
        for key in table:
            if (tag,) + key not in used:
                report.note(f"{key[0]}", f"stale {tag} explanation {key[1]!r}: no event needed it")
    return report.finish()


def check_verdict(wrong, capture, event, frames, used):
    """Records in `wrong` an event whose verdict is not the expected one."""
    exp = explanation(EXPECTED_VERDICTS, capture, frames, event.get("kind"))
    want = ("admit",) if exp is None else EXPECTED_VERDICTS[exp][:2]
    if exp:
        used.add(("verdict",) + exp)
    have = (event.get("verdict"), event.get("reason"))
    if have[:len(want)] != tuple(want):
        where = "/".join(map(str, frames)) if frames else f"ts {event.get('ts')}"
        wrong[(event["dir"], event.get("kind"), have, tuple(want))].append(where)


def report_verdicts(report, capture, wrong):
    """One failure line per kind of wrong verdict, with the frames (first 12)."""
    for (direction, kind, have, want), frames in wrong.items():
        shown = ", ".join(frames[:12]) + (", ..." if len(frames) > 12 else "")
        report.fail(capture, f"{len(frames)} x {direction} {kind}: verdict {have[0]} ({have[1]}), "
                             f"want {'/'.join(want)}; frames {shown}")


# --- Check d: third-party captures rewritten for NAT -------------------------------------------
def check_thirdparty_nat(opts):
    """Every public capture with announcements, replayed with each client behind SNAT (and, where
    a server announces an address other than the one dialled, that server behind DNAT): the run
    must succeed, rewrite what the policy admits, and the output's TCP streams must be as valid
    as the input's (tshark: no more bad checksums, lost or ACKed-unseen segments)."""
    report = Report("golden_thirdparty_nat")
    shared = Path(opts.shared)
    truth_dir = shared / "truth"
    if not truth_dir.is_dir():
        report.fail(str(shared), "third-party captures not found (need ../shared/captures/public "
                                 "beside the repository)")
        return report.finish()
    summary = json.loads((truth_dir / "summary.json").read_text(encoding="utf-8"))
    total_rewrites = 0
    for pcap in sorted(shared.glob("*.pcap")):
        capture = pcap.stem
        truth_path = truth_dir / f"{capture}.jsonl"
        truth = read_jsonl(truth_path) if truth_path.exists() else []
        if not truth:
            continue
        report.items += 1
        snat, dnat = set(), set()
        for row in truth:
            client_ep, server_ep = canon_flow(row["flow"]).split("-", 1)
            client_ip, _ = split_endpoint(client_ep)
            server_ip, _ = split_endpoint(server_ep)
            family = ipaddress.ip_address(client_ip).version
            snat.add(f"{client_ip}={SNAT_PUBLIC[family]}")
            if row["kind"] in ("pasv227", "lpsv228") and row.get("announced"):
                ann_ip, _ = split_endpoint(canon_endpoint(row["announced"]))
                if ann_ip != server_ip:
                    dnat.add(f"{server_ip}={ann_ip}")
        ports = summary.get(pcap.name, {}).get("nonstandard_control_ports", [])
        replay = Replay(opts.ftpalg, pcap, opts.work, f"tpnat-{capture}", out=True,
                        snat=sorted(snat), dnat=sorted(dnat), ports=ports)
        problems = replay.problems()
        for problem in problems:
            report.fail(capture, problem)
        if problems or not replay.out_path.exists():
            if not problems:
                report.fail(capture, "no output capture written")
            continue
        rewrites = sum(1 for e in replay.events if e.get("rewritten"))
        total_rewrites += rewrites
        for label, display_filter in (
                ("bad TCP checksums", 'tcp.checksum.status == "Bad"'),
                ("lost segments", "tcp.analysis.lost_segment"),
                ("ACKed unseen segments", "tcp.analysis.ack_lost_segment")):
            before, after = count_frames(pcap, display_filter), count_frames(replay.out_path,
                                                                              display_filter)
            if after > before:
                report.fail(capture, f"output has {after} frames with {label}, input {before}")
        report.note(capture, f"{len(replay.events)} events, {rewrites} rewritten, "
                             f"snat {sorted(snat)} dnat {sorted(dnat)}")
    if total_rewrites == 0:
        report.fail("all", "no announcement was rewritten: the check proves nothing")
    return report.finish()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ftpalg", required=True, help="the ftpalg binary")
    parser.add_argument("--shared", required=True, help="the public captures directory")
    parser.add_argument("--work", required=True, help="scratch directory (recreated)")
    parser.add_argument("--captures", default=str(HERE / "captures"))
    parser.add_argument("--check", choices=["own", "nat", "thirdparty", "thirdparty_nat", "all"],
                        default="all")
    opts = parser.parse_args()
    if not shutil.which("tshark"):
        print("FAIL golden: tshark not found (apt-get install tshark)")
        return 1
    if not os.access(opts.ftpalg, os.X_OK):
        print(f"FAIL golden: {opts.ftpalg} is not an executable")
        return 1
    work = Path(opts.work) / opts.check
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    opts.work = str(work)
    checks = {"own": check_own, "nat": check_nat, "thirdparty": check_thirdparty,
              "thirdparty_nat": check_thirdparty_nat}
    selected = list(checks) if opts.check == "all" else [opts.check]
    results = [checks[name](opts) for name in selected]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
