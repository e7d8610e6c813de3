#!/usr/bin/env bash
# Records the golden FTP control-connection captures under tests/golden/captures/ and derives
# each capture's expected announcements (<name>.expected.jsonl) with
# tests/golden/expected_from_tshark.py, independently of ftpalg.
#
# Real sessions: vsftpd in a server namespace, lftp and curl in a client namespace (see
# scripts/lib/netns.sh for addresses), IPv4 and IPv6, active (PORT/EPRT) and passive
# (PASV/EPSV). Each session lists a directory, downloads a file, uploads a file and downloads
# it again; every transfer is checked with SHA-256. tcpdump in the server namespace keeps only
# the control connection (tcp port 21, full packets); transmit checksum offload is off, so every
# captured TCP checksum is valid.
#
# Usage: sudo scripts/record-golden.sh [OUT_DIR]      (default: tests/golden/captures)
#        KEEP_TMP=1 keeps the scratch directory (configs, logs, raw captures) for debugging.
# Ports and MAC addresses change on every run; the expected files are regenerated with the
# captures, so commit both together.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$repo/tests/golden/captures}
# shellcheck source=scripts/lib/netns.sh
. "$repo/scripts/lib/netns.sh"

log() { printf '[record-golden] %s\n' "$*" >&2; }
die() {
  log "FAIL: $*"
  exit 1
}

[[ $(id -u) == 0 ]] || die "needs root (network namespaces, vsftpd on port 21)"

# --- Dependencies (fast when all are present). ------------------------------------------------
bash "$repo/scripts/install-deps.sh" golden >&2 || die "scripts/install-deps.sh golden failed"
vsftpd_bin=$(command -v vsftpd || echo /usr/sbin/vsftpd)

# --- Scratch space and cleanup. ----------------------------------------------------------------
tmp=$(mktemp -d /tmp/ftpalg-golden.XXXXXX)
remove_tmp() {
  if [[ -n ${KEEP_TMP:-} ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
netns_install_trap remove_tmp

chmod 755 "$tmp"
srv=$tmp/srv       # anonymous FTP root: root-owned, not writable (vsftpd chroots into it)
cli=$tmp/cli       # client files
rec=$tmp/rec       # captures before they are moved into place
mkdir -p "$srv/pub" "$srv/upload" "$tmp/empty" "$cli" "$rec"
chown ftp:ftp "$srv/upload"
chmod 755 "$srv" "$srv/pub" "$srv/upload"

# Small deterministic payloads (a few KiB; the data connections are not captured anyway).
for i in $(seq 1 200); do printf 'ftpalg golden download line %04d\n' "$i"; done >"$srv/pub/hello.txt"
for i in $(seq 1 300); do printf 'ftpalg golden upload line %04d\n' "$i"; done >"$cli/upload.bin"
chmod 644 "$srv/pub/hello.txt"
hello_sha=$(sha256sum <"$srv/pub/hello.txt" | cut -d' ' -f1)
upload_sha=$(sha256sum <"$cli/upload.bin" | cut -d' ' -f1)

cat >"$tmp/vsftpd.conf" <<EOF
listen=NO
listen_ipv6=YES
background=NO
anonymous_enable=YES
local_enable=NO
no_anon_password=YES
anon_root=$srv
write_enable=YES
anon_upload_enable=YES
anon_other_write_enable=YES
anon_mkdir_write_enable=NO
anon_umask=022
anon_world_readable_only=YES
pasv_enable=YES
port_enable=YES
pasv_min_port=40000
pasv_max_port=40100
connect_from_port_20=NO
seccomp_sandbox=NO
secure_chroot_dir=$tmp/empty
ftp_username=ftp
nopriv_user=nobody
hide_ids=YES
dirmessage_enable=NO
ftpd_banner=ftpalg golden test server
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=$tmp/vsftpd.log
EOF

# --- Topology and server. -------------------------------------------------------------------------
netns_topology_pair
# Valid TCP checksums in the captures (veth offload would leave them all "Bad").
netns_csum_off client veth0
netns_csum_off server veth0
netns_spawn server "$vsftpd_bin" "$tmp/vsftpd.conf"
vsftpd_pid=$NETNS_LAST_PID
for _ in $(seq 1 50); do
  netns_exec server ss -Hltn 'sport = :21' | grep -q . && break
  kill -0 "$vsftpd_pid" 2>/dev/null || die "vsftpd exited (see config $tmp/vsftpd.conf)"
  sleep 0.1
done
netns_exec server ss -Hltn 'sport = :21' | grep -q . || die "vsftpd does not listen on port 21"

# --- One recorded session. ---------------------------------------------------------------------------
# start_capture FILE / stop_capture: tcpdump on the server's link, control connection only.
start_capture() {
  cap_err=$tmp/tcpdump.err
  : >"$cap_err"
  netns_spawn server tcpdump -i veth0 -s 0 -U --immediate-mode -n -Z root -w "$1" 'tcp port 21' 2>"$cap_err"
  cap_pid=$NETNS_LAST_PID
  for _ in $(seq 1 50); do
    grep -q 'listening on' "$cap_err" && return 0
    sleep 0.1
  done
  die "tcpdump did not start: $(cat "$cap_err")"
}
stop_capture() {
  sleep 0.3 # let the last FIN/ACK reach the capture
  kill -INT "$cap_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$cap_pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$cap_pid" 2>/dev/null || true
}

check_sha() { # FILE WANT WHAT
  local got
  [[ -f $1 ]] || die "$3: $1 missing"
  got=$(sha256sum <"$1" | cut -d' ' -f1)
  [[ $got == "$2" ]] || die "$3: sha256 $got, want $2"
}

# run_lftp NAME HOST SETTINGS: list, get, put, get back, over one control connection.
run_lftp() {
  local name=$1 host=$2 settings=$3
  netns_exec client timeout 60 lftp -f /dev/stdin <<EOF
set cmd:fail-exit yes
set net:max-retries 1
set net:timeout 10
set net:reconnect-interval-base 1
set ftp:ssl-allow no
set xfer:clobber on
$settings
open -u anonymous,golden@ftpalg.test ftp://$host
cls -l pub > $cli/$name.list
get pub/hello.txt -o $cli/$name.hello
put $cli/upload.bin -o upload/$name.bin
get upload/$name.bin -o $cli/$name.back
bye
EOF
}

# run_curl NAME URLHOST OPTION...: the same four transfers, one control connection (--next
# keeps it open).
run_curl() {
  local name=$1 host=$2
  shift 2
  netns_exec client timeout 60 curl -sS --fail --max-time 30 -u anonymous:golden@ftpalg.test \
    "$@" --list-only "ftp://$host/pub/" -o "$cli/$name.list" \
    --next "$@" -u anonymous:golden@ftpalg.test "ftp://$host/pub/hello.txt" -o "$cli/$name.hello" \
    --next "$@" -u anonymous:golden@ftpalg.test -T "$cli/upload.bin" "ftp://$host/upload/$name.bin" \
    --next "$@" -u anonymous:golden@ftpalg.test "ftp://$host/upload/$name.bin" -o "$cli/$name.back"
}

# session NAME KIND CLIENT ARGS...: record one session; KIND is the announcement every data
# connection must use (checked on the derived expectations).
session() {
  local name=$1 kind=$2 client=$3
  shift 3
  log "recording $name ($kind)"
  start_capture "$rec/$name.pcap"
  if ! "run_$client" "$name" "$@"; then
    stop_capture
    tail -n 30 "$tmp/vsftpd.log" >&2 || true
    die "$name: $client session failed"
  fi
  stop_capture
  check_sha "$cli/$name.hello" "$hello_sha" "$name download"
  check_sha "$srv/upload/$name.bin" "$upload_sha" "$name upload"
  check_sha "$cli/$name.back" "$upload_sha" "$name download of the upload"
  python3 "$repo/tests/golden/expected_from_tshark.py" "$rec/$name.pcap" \
    >"$rec/$name.expected.jsonl" || die "$name: expected_from_tshark.py failed"
  python3 - "$rec/$name.expected.jsonl" "$kind" "$name" <<'EOF' || die "$name: wrong announcements"
import json, sys
path, kind, name = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]
kinds = [r["kind"] for r in rows]
flows = {r["flow"] for r in rows}
# list, download, upload, download again: four data connections, one control connection.
if len(rows) != 4 or set(kinds) != {kind} or len(flows) != 1:
    sys.exit(f"{name}: want 4 x {kind} on one flow, got {kinds} on {sorted(flows)}")
EOF
  local size bad
  bad=$(tshark -n -r "$rec/$name.pcap" -o tcp.check_checksum:TRUE \
    -Y 'tcp.checksum.status == "Bad" || tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment' \
    2>/dev/null | wc -l)
  ((bad == 0)) || die "$name: $bad frames with a bad checksum or a capture hole"
  size=$(stat -c %s "$rec/$name.pcap")
  ((size < 50000)) || die "$name: capture is $size bytes (limit 50000)"
}

v4=$NETNS_SERVER4
v6="[$NETNS_SERVER6]"
session v4-lftp-active-port port lftp "$v4" 'set ftp:passive-mode off'
session v4-lftp-passive-pasv pasv227 lftp "$v4" 'set ftp:passive-mode on
set ftp:prefer-epsv no'
session v4-lftp-passive-epsv epsv229 lftp "$v4" 'set ftp:passive-mode on
set ftp:prefer-epsv yes'
session v4-curl-active-port port curl "$v4" --ftp-port "$NETNS_CLIENT4" --disable-eprt
session v4-curl-active-eprt eprt curl "$v4" --ftp-port "$NETNS_CLIENT4"
session v4-curl-passive-pasv pasv227 curl "$v4" --ftp-pasv --disable-epsv
session v4-curl-passive-epsv epsv229 curl "$v4" --ftp-pasv
session v6-lftp-active-eprt eprt lftp "$v6" 'set ftp:passive-mode off'
session v6-lftp-passive-epsv epsv229 lftp "$v6" 'set ftp:passive-mode on
set ftp:prefer-epsv yes'
session v6-curl-active-eprt eprt curl "$v6" --ftp-port "$NETNS_CLIENT6"
session v6-curl-passive-epsv epsv229 curl "$v6" --ftp-pasv

# --- Move into place (only after every session passed). ---------------------------------------
mkdir -p "$out"
rm -f "$out"/*.pcap "$out"/*.expected.jsonl
cp "$rec"/*.pcap "$rec"/*.expected.jsonl "$out"/
log "wrote $(find "$rec" -name '*.pcap' | wc -l) captures to $out"
ls -l "$out" >&2
