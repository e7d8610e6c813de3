# shellcheck shell=bash
# Tiny TCP endpoints for netns tests that check where a connection lands (a published port
# forward, a diverted data connection). Sourced after scripts/lib/netns.sh; needs $PYTHON.

# listen NS PORT WORD: in namespace NS, answers every connection to PORT with WORD (background;
# stopped by netns_cleanup through NETNS_PIDS).
listen() {
  ip netns exec "$(netns_name "$1")" "$PYTHON" - "$2" "$3" <<'PY' &
import socket, sys
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen(16)
while True:
    c, _ = srv.accept()
    c.sendall((sys.argv[2] + "\n").encode())
    c.close()
PY
  NETNS_PIDS+=($!)
}

# greeting NS ADDR PORT: what the listener reached from NS says, or "none".
greeting() {
  in_ns "$1" "$PYTHON" - "$2" "$3" <<'PY' || echo none
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1.5)
print(s.recv(100).decode().strip())
PY
}
