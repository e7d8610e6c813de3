#!/usr/bin/env python3
"""One FTP control session of tests/netns/restart_test.sh, run in steps with pauses between.

Steps (comma-separated, in order): login, pasv (RETR pub/big.bin passively, sha256-checked),
port (the same actively), noop, size (SIZE pub/big.bin), pwd, wait (write DIR/NAME.wait-K and
wait for DIR/NAME.go-K, K = 1, 2, ...), quit. Every step appends one JSON line to
DIR/NAME.jsonl: {"step", "ok", "detail", "t"}. Replies must be exactly what vsftpd says, so a
command or reply corrupted on the way fails its step. Exit status: 0 when every step passed.
The step runner: tests/netns/lib/ftp_steps.py.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ftp_steps  # noqa: E402


class Session(ftp_steps.Session):
    WAIT_LIMIT = 120.0  # seconds a pause may last before the session gives up
    POLL = 0.05


def main():
    # Session looked up at the call: ha_labels_client.py puts its subclass in its place.
    return ftp_steps.main(Session, __doc__.split("\n")[0], timeout=30)


if __name__ == "__main__":
    sys.exit(main())
