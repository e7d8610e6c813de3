#!/usr/bin/env python3
"""Size limits of the pure core: no function over 60 lines, no file over 400 lines.

Function extents come from universal-ctags (kind f, with end lines). Prints the ten longest
functions of the whole src/ tree for reference, then the core's violations.

usage: size_limits.py ROOT [--max-function N] [--max-file N]
"""
import argparse
import os
import subprocess
import sys


def functions(root, dirs):
    out = subprocess.run(
        ["ctags", "-R", "--languages=C++", "--kinds-C++=f", "--fields=+ne", "-x",
         "--_xformat=%{end}\t%n\t%N\t%F", *dirs],
        cwd=root, check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        end, start, name, path = line.split("\t")
        if end != "-":
            rows.append((int(end) - int(start) + 1, name, f"{path}:{start}"))
    return sorted(rows, reverse=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--max-function", type=int, default=60)
    ap.add_argument("--max-file", type=int, default=400)
    a = ap.parse_args()
    print("ten longest functions in src/:")
    for n, name, where in functions(a.root, ["src"])[:10]:
        print(f"  {n:4d}  {name}  {where}")
    bad = []
    core = functions(a.root, ["src/core", "include/ftpalg/core"])
    if not core:
        bad.append("ctags found no function in src/core (is universal-ctags installed?)")
    for n, name, where in core:
        if n > a.max_function:
            bad.append(f"{where}: {name} has {n} lines (at most {a.max_function})")
    for top in ("src/core", "include/ftpalg/core"):
        for dirpath, _, files in os.walk(os.path.join(a.root, top)):
            for f in files:
                path = os.path.join(dirpath, f)
                with open(path, encoding="utf-8") as fh:
                    n = sum(1 for _ in fh)
                if n > a.max_file:
                    bad.append(f"{os.path.relpath(path, a.root)}: {n} lines (at most {a.max_file})")
    for b in bad:
        print(b)
    print(f"core size limits: {len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
