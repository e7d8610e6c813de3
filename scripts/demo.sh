#!/usr/bin/env bash
# The main job (root): installs what is needed, builds ftpalg and ftpalgd, then
#  1. runs the gateway demo: client - NAT gateway running ftpalgd - vsftpd server in network
#     namespaces it creates, transfers in active and passive mode over IPv4 and IPv6, checks
#     every file by SHA-256 and prints what ftpalgd did (events, pinhole table, data SYNs);
#  2. replays the sample capture tests/data/sample-ftp.pcap with the client behind SNAT and
#     prints the events `ftpalg replay` reports for it.
# Usage: scripts/demo.sh [--ftpalgd PATH --ftpalg PATH]
#   --ftpalgd PATH --ftpalg PATH   run the demo with these binaries of a tree already built,
#                                  installing and building nothing (the demo's test does so)
# Exit status 0 when every transfer was right and the replay succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${FTPALG_BUILD_ROOT:-build}
ftpalgd='' ftpalg=''
while (($#)); do
  case $1 in
    --ftpalgd) ftpalgd=$(readlink -f "${2:?--ftpalgd PATH}"); shift ;;
    --ftpalg) ftpalg=$(readlink -f "${2:?--ftpalg PATH}"); shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
gateway_args=()
if [[ -z $ftpalgd && -z $ftpalg ]]; then
  bash scripts/install-deps.sh build
  cmake -S . -B "$root/release" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$root/release" ftpalg ftpalgd
  ftpalgd=$root/release/src/daemon/ftpalgd
  ftpalg=$root/release/src/cli/ftpalg
elif [[ -n $ftpalgd && -n $ftpalg ]]; then
  gateway_args=(--no-install)
else
  echo "--ftpalgd and --ftpalg go together (see --help)" >&2
  exit 2
fi

bash scripts/demo-gateway.sh --ftpalgd "$ftpalgd" "${gateway_args[@]}"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo
echo "== ftpalg replay tests/data/sample-ftp.pcap, client 198.18.0.2 behind SNAT as 198.51.100.7"
"$ftpalg" replay --in tests/data/sample-ftp.pcap --out "$out/rewritten.pcap" \
  --events - --snat 198.18.0.2=198.51.100.7
