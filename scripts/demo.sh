#!/usr/bin/env bash
# The main job (root): installs what is needed, builds ftpalg and ftpalgd, then
#  1. runs the gateway demo: client - NAT gateway running ftpalgd - vsftpd server in network
#     namespaces it creates, transfers in active and passive mode over IPv4 and IPv6, checks
#     every file by SHA-256 and prints what ftpalgd did (events, pinhole table, data SYNs);
#  2. replays the sample capture tests/data/sample-ftp.pcap with the client behind SNAT and
#     prints the events `ftpalg replay` reports for it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${FTPALG_BUILD_ROOT:-build}
bash scripts/install-deps.sh build
cmake -S . -B "$root/release" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$root/release" ftpalg ftpalgd

bash scripts/demo-gateway.sh --ftpalgd "$root/release/src/daemon/ftpalgd"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo
echo "== ftpalg replay tests/data/sample-ftp.pcap, client 198.18.0.2 behind SNAT as 198.51.100.7"
"$root/release/src/cli/ftpalg" replay --in tests/data/sample-ftp.pcap --out "$out/rewritten.pcap" \
  --events - --snat 198.18.0.2=198.51.100.7
