#!/usr/bin/env bash
# Installs what ftpalg needs on Debian 12, from Debian's own packages.
#   install-deps.sh build   compilers and libraries to build ftpalg and its unit tests
#   install-deps.sh test    build + everything the whole test suite runs (tshark, FTP servers
#                           and clients, nftables/iptables/conntrack, clang for the fuzzers)
set -euo pipefail

what=${1:-build}
build_pkgs=(build-essential cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libfmt-dev nlohmann-json3-dev
  libtomlplusplus-dev libpcap-dev libmnl-dev libnetfilter-queue-dev libnetfilter-conntrack-dev
  libnftnl-dev libnetfilter-cthelper-dev libsystemd-dev python3)
test_pkgs=(clang libclang-rt-14-dev tshark tcpdump vsftpd lftp curl iproute2 nftables iptables
  conntrack procps psmisc)

pkgs=("${build_pkgs[@]}")
case "$what" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter here.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
