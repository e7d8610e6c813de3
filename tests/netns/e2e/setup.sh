#!/usr/bin/env bash
# CTest fixture of the end-to-end suite: installs the packages (fast when present), unpacks
# proftpd, and empties the results directory of this run.
# Usage: setup.sh RESULTS_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $(id -u) == 0 ]] || { echo "needs root" >&2; exit 2; }
[[ $# == 1 ]] || { echo "usage: $0 RESULTS_DIR" >&2; exit 2; }
# shellcheck source=tests/netns/lib/e2e.sh
. "$here/../lib/e2e.sh"
e2e_install_deps
echo "proftpd: $E2E_PROFTPD"
mkdir -p "$1"
rm -f "$1"/*.jsonl "$1"/interop.md
