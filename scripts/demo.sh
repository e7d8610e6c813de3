#!/usr/bin/env bash
# The main job: installs what is needed, builds ftpalg and replays the sample FTP capture through
# the engine with the client behind SNAT, printing every announcement and what was done with it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${FTPALG_BUILD_ROOT:-build}
bash scripts/install-deps.sh build
cmake -S . -B "$root/release" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$root/release" ftpalg
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== ftpalg replay tests/data/sample-ftp.pcap, client 198.18.0.2 behind SNAT as 198.51.100.7"
"$root/release/ftpalg" replay --in tests/data/sample-ftp.pcap --out "$out/rewritten.pcap" \
  --events - --snat 198.18.0.2=198.51.100.7
echo "== rewritten capture: $(stat -c %s "$out/rewritten.pcap") bytes (deleted on exit)"
