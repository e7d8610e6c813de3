#!/usr/bin/env python3
"""The options in `ftpalgd --help` and `ftpalg [replay|rules|check|status] --help` are exactly those the man
pages (docs/man/*.scd) document, and the bash completion offers exactly ftpalg's.

    man_flags_test.py BUILD_DIR SOURCE_DIR
"""
import re
import subprocess
import sys

OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][a-zA-Z-]*)")


def help_options(argv):
    """Options named at the start of the lines of the Options: block of a CLI11 --help."""
    out = subprocess.run(argv + ["--help"], capture_output=True, text=True, check=True).stdout
    opts = set()
    in_options = False
    for line in out.splitlines():
        stripped = line.strip()
        if stripped in ("Options:", "OPTIONS:"):
            in_options = True
            continue
        if not stripped:  # the options block ends at the first blank line
            in_options = False
        if not in_options or not stripped.startswith("-"):
            continue
        names = stripped.split("  ")[0]  # "-h,--help" or "--queues N[-M][,...]"
        for part in names.split(","):
            m = OPTION.match(part.strip())
            if m:
                opts.add(m.group(1))
    return opts


def man_options(path, section=None):
    """Options of definition lines ("*--flag* _ARG_", "*-h*, *--help*") in the man page's
    OPTIONS section (or the named section)."""
    opts = set()
    current = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# "):
                current = line[2:].strip()
                continue
            wanted = current == section if section else (current or "").endswith("OPTIONS")
            if wanted and line.startswith("*-"):
                opts.update(re.findall(r"\*(--?[a-zA-Z][a-zA-Z-]*)\*", line))
    return opts


def completion_options(path, var):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(var + r'="([^"]*)"', text)
    return set(m.group(1).split()) if m else set()


def main():
    build, src = sys.argv[1], sys.argv[2]
    ftpalgd = f"{build}/src/daemon/ftpalgd"
    ftpalg = f"{build}/src/cli/ftpalg"
    man = f"{src}/docs/man"
    comp = f"{src}/packaging/bash-completion/ftpalg"
    checks = [
        ("ftpalgd --help vs ftpalgd(8) OPTIONS", help_options([ftpalgd]),
         man_options(f"{man}/ftpalgd.8.scd")),
        ("ftpalg --help vs ftpalg(1) GLOBAL OPTIONS", help_options([ftpalg]),
         man_options(f"{man}/ftpalg.1.scd", "GLOBAL OPTIONS")),
        ("ftpalg replay --help vs ftpalg(1) REPLAY OPTIONS", help_options([ftpalg, "replay"]),
         man_options(f"{man}/ftpalg.1.scd", "REPLAY OPTIONS") | {"-h", "--help"}),
        ("ftpalg rules --help vs ftpalg(1) RULES OPTIONS", help_options([ftpalg, "rules"]),
         man_options(f"{man}/ftpalg.1.scd", "RULES OPTIONS") | {"-h", "--help"}),
        ("ftpalg check --help vs ftpalg(1) CHECK OPTIONS", help_options([ftpalg, "check"]),
         man_options(f"{man}/ftpalg.1.scd", "CHECK OPTIONS") | {"-h", "--help"}),
        ("ftpalg status --help vs ftpalg(1) STATUS OPTIONS", help_options([ftpalg, "status"]),
         man_options(f"{man}/ftpalg.1.scd", "STATUS OPTIONS") | {"-h", "--help"}),
        ("ftpalg status --help vs bash completion", help_options([ftpalg, "status"]),
         completion_options(comp, "status_opts")),
        ("ftpalg replay --help vs bash completion", help_options([ftpalg, "replay"]),
         completion_options(comp, "replay_opts")),
        ("ftpalg rules --help vs bash completion", help_options([ftpalg, "rules"]),
         completion_options(comp, "rules_opts")),
        ("ftpalg check --help vs bash completion", help_options([ftpalg, "check"]),
         completion_options(comp, "check_opts")),
    ]
    failed = 0
    for what, have, documented in checks:
        if have == documented:
            print(f"ok   {what}: {len(have)} options")
            continue
        failed += 1
        print(f"FAIL {what}")
        if have - documented:
            print(f"     in --help only: {' '.join(sorted(have - documented))}")
        if documented - have:
            print(f"     documented only: {' '.join(sorted(documented - have))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
