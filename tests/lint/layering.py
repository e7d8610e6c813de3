#!/usr/bin/env python3
"""Checks the include graph against the layer rules of docs/design.md.

  core    <- report, kernel, daemon, cli   (core includes only core and the common headers)
  report  <- daemon, cli
  kernel  <- daemon, cli
  daemon, cli: never each other; kernel never daemon or cli.

A file's layer is its folder: src/<layer>/ or include/ftpalg/<layer>/; include/ftpalg/*.h is
"common" (vocabulary every layer may use). Quoted includes name a layer by their path:
"ftpalg/<layer>/x.h" (the public header of a layer) or, inside a layer, a path relative to
src/ or to the file itself, which must stay inside the file's own layer (src/ is not an
include path across layers). System headers are checked per layer against a forbidden list.

Also: every tests/unit/<path>/x_test.cc mirrors a source (src/<path>/x.*, include/ftpalg/<path>/x.h
or tests/<path>/x.*).

usage: layering.py ROOT        check the tree at ROOT; exit 1 and list every violation
       layering.py --self-test check that each rule catches a planted violation
"""
import os
import re
import sys
import tempfile

LAYERS = ("core", "report", "kernel", "daemon", "cli")
ALLOWED = {
    "common": {"common"},
    "core": {"core", "common"},
    "report": {"report", "core", "common"},
    "kernel": {"kernel", "core", "common"},
    "daemon": {"daemon", "kernel", "report", "core", "common"},
    "cli": {"cli", "kernel", "report", "core", "common"},
}
NETFILTER = r"(libnetfilter|libmnl|libnftnl|linux/netfilter|linux/netlink)"
FORBIDDEN_SYSTEM = {
    "common": re.compile(r"^(linux/|sys/|netinet/|arpa/|libnetfilter|libmnl|libnftnl|pcap|fmt/)"),
    "core": re.compile(r"^(linux/|sys/|netinet/|arpa/|libnetfilter|libmnl|libnftnl|pcap|unistd|"
                       r"fcntl|iostream|fstream|cstdio|stdio|chrono|thread|ctime|time\.h|fmt/|"
                       r"systemd/)"),
    "report": re.compile(r"^(linux/|sys/socket|netinet/|" + NETFILTER[1:-1] + r"|pcap|systemd/)"),
    "kernel": re.compile(r"^(pcap|systemd/|toml)"),
    "daemon": re.compile(r"^" + NETFILTER + r"|^pcap"),
    "cli": re.compile(r"^(systemd/|" + NETFILTER[1:-1] + r")"),
}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(rel):
    parts = rel.split("/")
    if parts[0] == "src" and len(parts) > 2 and parts[1] in LAYERS:
        return parts[1]
    if parts[:2] == ["include", "ftpalg"]:
        if len(parts) == 3:
            return "common"
        if parts[2] in LAYERS:
            return parts[2]
    return None


def target_layer(path, src_layer, rel, root):
    """The layer a quoted include names, or None when it resolves outside the layers."""
    parts = path.split("/")
    if parts[0] == "ftpalg":
        if len(parts) == 2:
            return "common"
        return parts[1] if parts[1] in LAYERS else "unknown"
    if parts[0] in LAYERS and os.path.exists(os.path.join(root, "src", path)):
        return parts[0] if parts[0] == src_layer else "src:" + parts[0]
    here = os.path.dirname(os.path.join(root, rel))
    if os.path.exists(os.path.join(here, path)):
        return layer_of(os.path.relpath(os.path.normpath(os.path.join(here, path)), root))
    return "unknown"


def check(root):
    bad = []
    for top in ("src", "include"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith((".h", ".cc")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                layer = layer_of(rel)
                if layer is None:
                    bad.append(f"{rel}: not inside a layer folder")
                    continue
                with open(os.path.join(root, rel), encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        kind, path = m.groups()
                        where = f"{rel}:{n}: {layer}: {line.strip()}"
                        if kind == "<":
                            if FORBIDDEN_SYSTEM[layer].search(path):
                                bad.append(where + ": system header forbidden in " + layer)
                            continue
                        to = target_layer(path, layer, rel, root)
                        if to is None or to == "unknown":
                            bad.append(where + ": does not resolve to a header of a layer")
                        elif to.startswith("src:"):
                            bad.append(where + ": another layer's private header (src/ is not "
                                       "an include path; use include/ftpalg/<layer>/)")
                        elif to not in ALLOWED[layer]:
                            bad.append(where + f": {layer} must not depend on {to}")
    return bad


# Unit tests that test a behaviour across files rather than one file of their own.
MIRROR_EXCEPTIONS = {"tests/unit/core/engine_regression_test.cc",
                     "tests/unit/core/engine_ack_bypass_test.cc",
                     "tests/unit/kernel/nftables/queue_rule_messages_ack_test.cc",
                     "tests/unit/daemon/queue_worker_shift_test.cc",
                     "tests/unit/daemon/expectation_admitter_announce_test.cc",
                     "tests/unit/cli/check_spread_test.cc"}


def check_mirror(root):
    """tests/unit/<path>/x_test.cc tests src/<path>/x.cc (or .h), include/ftpalg/<path>/x.h or
    tests/support/x.*: unit tests mirror the sources."""
    bad = []
    unit = os.path.join(root, "tests", "unit")
    for dirpath, _, files in os.walk(unit):
        for name in sorted(files):
            if not name.endswith("_test.cc"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            if rel in MIRROR_EXCEPTIONS:
                continue
            stem = os.path.relpath(os.path.join(dirpath, name[:-len("_test.cc")]), unit)
            candidates = [os.path.join("src", stem + ext) for ext in (".cc", ".h")]
            candidates.append(os.path.join("include", "ftpalg", stem + ".h"))
            candidates += [os.path.join("tests", stem + ext) for ext in (".cc", ".h")]
            if not any(os.path.exists(os.path.join(root, c)) for c in candidates):
                bad.append(f"{rel}: no source it mirrors (looked for {', '.join(candidates[:3])})")
    return bad


def self_test():
    cases = {
        "core includes kernel": ("src/core/a.cc", '#include "ftpalg/kernel/x.h"\n'),
        "core includes a socket header": ("src/core/a.cc", "#include <sys/socket.h>\n"),
        "core includes fmt": ("src/core/a.cc", "#include <fmt/format.h>\n"),
        "kernel includes daemon": ("src/kernel/a.cc", '#include "ftpalg/daemon/x.h"\n'),
        "kernel includes cli": ("src/kernel/a.cc", '#include "ftpalg/cli/x.h"\n'),
        "cli includes daemon": ("src/cli/a.cc", '#include "ftpalg/daemon/x.h"\n'),
        "daemon includes cli": ("src/daemon/a.cc", '#include "ftpalg/cli/x.h"\n'),
        "daemon includes libnftnl": ("src/daemon/a.cc", "#include <libnftnl/table.h>\n"),
        "daemon includes libmnl": ("src/daemon/a.cc", "#include <libmnl/libmnl.h>\n"),
        "daemon includes netfilter": ("src/daemon/a.cc",
                                      "#include <linux/netfilter/nfnetlink.h>\n"),
        "report includes kernel": ("src/report/a.cc", '#include "ftpalg/kernel/x.h"\n'),
        "daemon reaches into src/kernel": ("src/daemon/a.cc", '#include "kernel/p.h"\n'),
        "common includes core": ("include/ftpalg/a.h", '#include "ftpalg/core/x.h"\n'),
    }
    fixtures = {
        "include/ftpalg/kernel/x.h": "", "include/ftpalg/daemon/x.h": "",
        "include/ftpalg/cli/x.h": "", "include/ftpalg/core/x.h": "", "src/kernel/p.h": "",
    }
    failures = 0
    with tempfile.TemporaryDirectory() as clean:
        for path, text in fixtures.items():
            os.makedirs(os.path.dirname(os.path.join(clean, path)), exist_ok=True)
            open(os.path.join(clean, path), "w").write(text)
        ok_file = os.path.join(clean, "src/daemon/ok.cc")
        os.makedirs(os.path.dirname(ok_file), exist_ok=True)
        open(ok_file, "w").write('#include "ftpalg/kernel/x.h"\n#include "ftpalg/core/x.h"\n'
                                 '#include <sys/socket.h>\n')
        if check(clean):
            print("self-test: a clean tree reports", check(clean))
            failures += 1
        for what, (path, text) in cases.items():
            full = os.path.join(clean, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            open(full, "w").write(text)
            found = check(clean)
            os.remove(full)
            if not found:
                print(f"self-test: not caught: {what}")
                failures += 1
        stray = os.path.join(clean, "tests/unit/core/nothing_test.cc")
        os.makedirs(os.path.dirname(stray), exist_ok=True)
        open(stray, "w").write("")
        if not check_mirror(clean):
            print("self-test: not caught: a unit test without the source it mirrors")
            failures += 1
    print(f"layering self-test: {len(cases) + 1 - failures} of {len(cases) + 1} rules caught")
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    bad = check(sys.argv[1]) + check_mirror(sys.argv[1])
    for b in bad:
        print(b)
    print(f"layering: {len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
