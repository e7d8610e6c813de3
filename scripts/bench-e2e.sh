#!/usr/bin/env bash
# The end-to-end benchmark (docs/performance.md): builds what it needs, makes the topology
# client - gateway - server (network namespaces, 198.18.0.0/15, routes nonat, vsftpd on the
# server) and measures, in alternating rounds, ftpalgd (pinhole mode), the null NFQUEUE consumer
# (ftpalg_null_queue), the in-kernel helper (nf_conntrack_ftp + nf_nat_ftp) and no queue; then
# two queues, a sustained run, idle-connection RSS and the engine microbenchmarks. Prints the
# table, writes one JSON file and the generated page (tests/bench/e2e/report.py).
#
#   scripts/bench-e2e.sh [--smoke] [--docs] [--profile] [--no-build] [--build-dir DIR] [--out DIR]
#     --smoke      one short round of everything, small counts (the CTest bench_e2e_smoke)
#     --docs       write docs/performance.md, .png and .json (the run) from this run
#     --profile    also record ftpalgd with perf under the NOOP and the session load (its top
#                  entries: a section of the page and performance-profile.txt)
#     --build-dir  the CMake build tree (default build/); --no-build uses it as it is
#     --out        where run.json, performance.md and performance.png go (default DIR/bench-e2e)
# Needs root (exit 77 without). A full run takes about 10-13 minutes on 2 cores.
set -euo pipefail
repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
smoke='' docs='' profile='' build=1 bdir=$repo/build out=''
while (($#)); do
  case $1 in
    --smoke) smoke=1 ;;
    --docs) docs=1 ;;
    --profile) profile=1 ;;
    --no-build) build='' ;;
    --build-dir) bdir=$(readlink -f "$2"); shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--smoke] [--docs] [--profile] [--no-build] [--build-dir DIR] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-$bdir/bench-e2e}
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root (network namespaces)"
  exit 77
fi
bash "$repo/scripts/install-deps.sh" bench >&2
if [[ -n $build ]]; then
  [[ -f $bdir/build.ninja ]] || cmake -S "$repo" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  ninja -C "$bdir" ftpalgd ftpalg_null_queue engine_bench engine_memory_bench
fi
ftpalgd=$bdir/src/daemon/ftpalgd
null=$bdir/tests/bench/e2e/ftpalg_null_queue
for f in "$ftpalgd" "$null" "$bdir/tests/bench/engine_bench"; do
  [[ -x $f ]] || { echo "missing $f (build it or drop --no-build)" >&2; exit 2; }
done
mkdir -p "$out"

export NETNS_PREFIX="ftbench-$$-"
# shellcheck source=scripts/lib/netns.sh
. "$repo/scripts/lib/netns.sh"
# shellcheck source=tests/netns/lib/e2e.sh
. "$repo/tests/netns/lib/e2e.sh"
E2E_TMP=$(mktemp -d /tmp/ftpalg-bench.XXXXXX)
chmod 755 "$E2E_TMP"
export E2E_TMP
# shellcheck disable=SC2317 # called by the exit trap
bench_cleanup() { rm -rf "$E2E_TMP"; }
netns_install_trap bench_cleanup

modprobe nf_conntrack_ftp 2>/dev/null || true
modprobe nf_nat_ftp 2>/dev/null || true
netns_topology_gw nonat
# Extra client addresses: 100 000 idle connections need more than one source address's ports.
sources=198.18.1.20,198.18.1.21,198.18.1.22,198.18.1.23
for a in ${sources//,/ }; do netns_addr client veth0 "$a/24"; done
netns_exec client sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1
netns_exec server sysctl -qw net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192
netns_exec gw sysctl -qw net.netfilter.nf_conntrack_max=524288 2>/dev/null || true
# Control packets crossing the gateway, whatever the configuration.
netns_exec gw nft -f - <<'NFT'
table inet benchcnt {
  counter ctl { }
  chain tally {
    type filter hook forward priority -300; policy accept;
    tcp dport 21 counter name ctl
    tcp sport 21 counter name ctl
  }
}
NFT
e2e_files
head -c 1024 /dev/urandom >"$E2E_TMP/srv/pub/1k.bin"
if [[ -n $smoke ]]; then bulk_mib=8; else bulk_mib=256; fi
head -c $((bulk_mib << 20)) /dev/zero >"$E2E_TMP/srv/pub/bulk.bin"
chmod 644 "$E2E_TMP/srv/pub/"*.bin
# The e2e server configuration without its per-command logs (they would dominate) and with a
# wide passive port range: the kernel helper keeps an unused PASV expectation until its control
# connection's entry goes, and a later session drawing the same port from a narrow range clashes
# with it (the helper drops the 227; the session stalls).
e2e_vsftpd_conf | sed -e 's/^log_ftp_protocol=YES/log_ftp_protocol=NO/' \
  -e 's/^xferlog_enable=YES/xferlog_enable=NO/' -e 's/^pasv_min_port=.*/pasv_min_port=20000/' \
  -e 's/^pasv_max_port=.*/pasv_max_port=59999/' >"$E2E_TMP/vsftpd.conf"
# No client limits (vsftpd's default allows 50 connections per address: the NOOP phase has 64).
printf 'max_clients=0\nmax_per_ip=0\n' >>"$E2E_TMP/vsftpd.conf"

json=$out/run.json
# Debian's interpreter: the report needs Debian's python3-matplotlib (install-deps.sh bench).
py=/usr/bin/python3
[[ -x $py ]] || py=python3
rc=0
"$py" "$repo/tests/bench/e2e/bench.py" ${smoke:+--smoke} ${profile:+--profile} --prefix "$NETNS_PREFIX" \
  --tmp "$E2E_TMP" --ftpalgd "$ftpalgd" --null "$null" --bench-dir "$bdir/tests/bench" \
  --vsftpd-conf "$E2E_TMP/vsftpd.conf" --server "$NETNS_SERVER4" --sources "$sources" \
  --queue "${BENCH_QUEUE:-160}" --out "$json" || rc=$?
[[ -f $json ]] || exit "$((rc ? rc : 1))"
"$py" "$repo/tests/bench/e2e/report.py" "$json" --md "$out/performance.md" \
  --png "$out/performance.png" --profile-txt "$out/performance-profile.txt"
if [[ -n $docs ]]; then
  cp "$out/performance.md" "$repo/docs/performance.md"
  cp "$out/performance.png" "$repo/docs/performance.png"
  cp "$json" "$repo/docs/performance.json"
  [[ ! -s $out/performance-profile.txt ]] || cp "$out/performance-profile.txt" "$repo/docs/"
  echo "wrote docs/performance.md, docs/performance.png and docs/performance.json"
fi
exit "$rc"
