#!/usr/bin/env python3
"""Expected FTP announcements of a capture, derived with tshark only (never with ftpalg).

Usage: expected_from_tshark.py CAPTURE.pcap [--ports 2811,...] [-o OUT.jsonl]

Writes one JSON object per announcement line, in capture order:
  {"frame": N, "flow": "client_ip:port-server_ip:port", "dir": "c2s"|"s2c",
   "kind": "port"|"eprt"|"lprt"|"pasv227"|"epsv229"|"lpsv228", "announced": "ip:port"|null,
   "line": "<the line as tshark shows it>"}
IPv6 addresses are in brackets and in RFC 5952 form. For a 229 reply the announced address is
the server address of the flow (RFC 2428 leaves it out). A line that names an announcement but
does not parse gets "announced": null and "malformed": true.

tshark's FTP dissector splits the lines; this script parses the address text itself and
cross-checks the result against tshark's own ftp.active/passive/eprt/epsv fields. A
disagreement is an error (exit 2), because the golden files must not rest on either parser
alone. Limits, inherited from tshark 4.0: it reads only the first line of each TCP segment and
does not reassemble lines split across segments; the captures recorded by
scripts/record-golden.sh have one line per segment. Retransmitted segments are skipped.
"""

import argparse
import ipaddress
import json
import re
import subprocess
import sys

FIELDS = [
    "frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport",
    "ftp.request.command", "ftp.request.arg", "ftp.response.code", "ftp.response.arg",
    "ftp.active.cip", "ftp.active.port", "ftp.passive.ip", "ftp.passive.port",
    "ftp.eprt.ip", "ftp.eprt.ipv6", "ftp.eprt.port", "ftp.epsv.port",
]

COMMAND_KINDS = {"PORT": "port", "EPRT": "eprt", "LPRT": "lprt"}
REPLY_KINDS = {"227": "pasv227", "229": "epsv229", "228": "lpsv228"}


def endpoint(ip, port):
    """'a.b.c.d:p' or '[v6]:p' in canonical text."""
    addr = ipaddress.ip_address(ip)
    if addr.version == 6:
        return f"[{addr.compressed}]:{port}"
    return f"{addr}:{port}"


def number(text, low, high):
    """Strict decimal in [low, high] (no sign, no spaces, at most 5 digits), else None."""
    if not re.fullmatch(r"[0-9]{1,5}", text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_h1_p2(text):
    """'h1,h2,h3,h4,p1,p2' -> 'ip:port' or None. RFC 959 host-port."""
    parts = text.strip().split(",")
    if len(parts) != 6:
        return None
    values = [number(p, 0, 255) for p in parts]
    if None in values:
        return None
    return endpoint(".".join(str(v) for v in values[:4]), values[4] * 256 + values[5])


def parse_long(text):
    """'af,hal,h...,pal,p...' (RFC 1639) -> 'ip:port' or None."""
    parts = text.strip().split(",")
    values = [number(p, 0, 255) for p in parts]
    if len(parts) < 4 or None in values:
        return None
    af, hal = values[0], values[1]
    if (af, hal) not in ((4, 4), (6, 16)) or len(values) != 2 + hal + 1 + 2:
        return None
    host = values[2:2 + hal]
    if values[2 + hal] != 2:
        return None
    port = values[3 + hal] * 256 + values[4 + hal]
    if af == 4:
        return endpoint(".".join(str(v) for v in host), port)
    return endpoint(str(ipaddress.IPv6Address(bytes(host))), port)


def parse_eprt(text):
    """'|1|132.235.1.2|6275|' or '|2|1080::8:800:200C:417A|5282|' (RFC 2428) -> 'ip:port'."""
    text = text.strip()
    if len(text) < 2 or not (33 <= ord(text[0]) <= 126):
        return None
    delim = text[0]
    parts = text.split(delim)
    if len(parts) != 5 or parts[0] != "" or parts[4] != "":
        return None
    af, addr, port_text = parts[1], parts[2], parts[3]
    port = number(port_text, 1, 65535)
    if port is None or af not in ("1", "2"):
        return None
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return None
    if (af == "1") != (ip.version == 4):
        return None
    return endpoint(addr, port)


def parse_227(text):
    """'Entering Passive Mode (192,0,2,1,156,64).' -> 'ip:port'. RFC 1123 4.1.2.6: scan for
    the first run of six comma-separated numbers, parentheses optional."""
    match = re.search(r"(\d{1,3}(?:,\d{1,3}){5})", text)
    return parse_h1_p2(match.group(1)) if match else None


def parse_228(text):
    """'Entering Long Passive Mode (4,4,192,0,2,1,2,156,64)' -> 'ip:port'."""
    match = re.search(r"\(([0-9,]+)\)", text)
    return parse_long(match.group(1)) if match else None


def parse_229(text, server_ip):
    """'Entering Extended Passive Mode (|||6446|)' -> server_ip:port (RFC 2428)."""
    match = re.search(r"\((.)\1\1([0-9]{1,5})\1\)", text)
    if not match:
        return None
    port = number(match.group(2), 1, 65535)
    return endpoint(server_ip, port) if port is not None else None


def first(layers, name):
    values = layers.get(name) or []
    return values[0] if values else None


def run_tshark(capture, ports):
    cmd = ["tshark", "-n", "-r", capture, "-Y", "ftp && !tcp.analysis.retransmission",
           "-T", "json"]
    for port in ports:
        if port != 21:
            cmd += ["-d", f"tcp.port=={port},ftp"]
    for field in FIELDS:
        cmd += ["-e", field]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        sys.exit(f"tshark failed ({proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout or "[]")


def announcements(capture, ports):
    """Yields (row, problems) for every announcement line."""
    for packet in run_tshark(capture, ports):
        layers = packet["_source"]["layers"]
        frame = int(first(layers, "frame.number"))
        src = first(layers, "ipv6.src") or first(layers, "ip.src")
        dst = first(layers, "ipv6.dst") or first(layers, "ip.dst")
        sport = int(first(layers, "tcp.srcport"))
        dport = int(first(layers, "tcp.dstport"))
        if dport in ports:
            direction, client, server = "c2s", (src, sport), (dst, dport)
        elif sport in ports:
            direction, client, server = "s2c", (dst, dport), (src, sport)
        else:
            continue
        flow = f"{endpoint(*client)}-{endpoint(*server)}"
        commands = layers.get("ftp.request.command") or []
        args = layers.get("ftp.request.arg") or []
        codes = layers.get("ftp.response.code") or []
        rargs = layers.get("ftp.response.arg") or []
        lines = []
        if direction == "c2s":
            for i, command in enumerate(commands):
                kind = COMMAND_KINDS.get(command.upper())
                if kind:
                    arg = args[i] if i < len(args) else ""
                    lines.append((kind, f"{command} {arg}", arg))
        else:
            for i, code in enumerate(codes):
                kind = REPLY_KINDS.get(str(code))
                if kind:
                    arg = rargs[i] if i < len(rargs) else ""
                    lines.append((kind, f"{code} {arg}", arg))
        for kind, line, arg in lines:
            if kind == "port":
                announced = parse_h1_p2(arg)
                theirs = (first(layers, "ftp.active.cip"), first(layers, "ftp.active.port"))
            elif kind == "eprt":
                announced = parse_eprt(arg)
                theirs = (first(layers, "ftp.eprt.ipv6") or first(layers, "ftp.eprt.ip"),
                          first(layers, "ftp.eprt.port"))
            elif kind == "lprt":
                announced, theirs = parse_long(arg), (None, None)  # tshark 4.0: no fields
            elif kind == "pasv227":
                announced = parse_227(arg)
                theirs = (first(layers, "ftp.passive.ip"), first(layers, "ftp.passive.port"))
            elif kind == "epsv229":
                announced = parse_229(arg, server[0])
                port = first(layers, "ftp.epsv.port")
                theirs = (server[0] if port else None, port)
            else:
                announced, theirs = parse_228(arg), (None, None)
            problems = []
            if theirs[0] and theirs[1] and len(lines) == 1:
                tshark_view = endpoint(theirs[0], int(theirs[1]))
                if tshark_view != announced:
                    problems.append(f"frame {frame}: tshark says {tshark_view}, "
                                    f"own parse says {announced} for {line!r}")
            row = {"frame": frame, "flow": flow, "dir": direction, "kind": kind,
                   "announced": announced, "line": line}
            if announced is None:
                row["malformed"] = True
            yield row, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture")
    parser.add_argument("--ports", default="", help="extra FTP control ports, comma-separated")
    parser.add_argument("-o", "--out", help="output file (default: stdout)")
    opts = parser.parse_args()
    ports = {21} | {int(p) for p in opts.ports.split(",") if p}
    rows, problems = [], []
    for row, row_problems in announcements(opts.capture, ports):
        rows.append(row)
        problems += row_problems
    text = "".join(json.dumps(row) + "\n" for row in rows)
    if opts.out:
        with open(opts.out, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    for problem in problems:
        print(f"expected_from_tshark: {problem}", file=sys.stderr)
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
