#!/usr/bin/env python3
"""Writes sample-ftp.pcap: one IPv4 FTP control session, deterministic to the byte.

Client 198.18.0.2:45000 talks to server 198.19.0.2:21 over Ethernet: 3-way handshake, 220
greeting, USER/PASS, PORT 198,18,0,2,195,80 + 200, PASV + 227 (198,19,0,2,156,64), EPSV + 229,
QUIT + 221, FIN/ACK teardown. Sequence and acknowledgement numbers are consistent; IPv4 and TCP
checksums are correct. Classic pcap, microsecond timestamps, LINKTYPE_ETHERNET.

Usage: make_sample.py [OUTPUT]   (default: sample-ftp.pcap next to this script)
Python 3 standard library only.
"""

import os
import struct
import sys

CLIENT_MAC = bytes.fromhex("020000000001")
SERVER_MAC = bytes.fromhex("020000000002")
CLIENT_IP = bytes([198, 18, 0, 2])
SERVER_IP = bytes([198, 19, 0, 2])
CLIENT_PORT = 45000
SERVER_PORT = 21
CLIENT_ISN = 0x1A2B3C4D
SERVER_ISN = 0x5E6F7081
START_US = 1_700_000_000 * 1_000_000
STEP_US = 2_500  # 2.5 ms between frames

FIN, SYN, PSH, ACK = 0x01, 0x02, 0x08, 0x10


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Capture:
    def __init__(self):
        self.frames = []
        self.ip_id = {True: 0x1000, False: 0x2000}
        self.seq = {True: CLIENT_ISN, False: SERVER_ISN}  # next sequence number to send
        self.ack = {True: 0, False: 0}                     # next byte expected from the peer

    def segment(self, from_client: bool, flags: int, payload: bytes = b"", mss: int = 0):
        src_ip, dst_ip = (CLIENT_IP, SERVER_IP) if from_client else (SERVER_IP, CLIENT_IP)
        sport, dport = (CLIENT_PORT, SERVER_PORT) if from_client else (SERVER_PORT, CLIENT_PORT)
        options = struct.pack("!BBH", 2, 4, mss) if mss else b""
        offset_words = (20 + len(options)) // 4
        ack = self.ack[from_client] if flags & ACK else 0
        tcp = struct.pack("!HHIIBBHHH", sport, dport, self.seq[from_client], ack,
                          offset_words << 4, flags, 64240, 0, 0) + options + payload
        pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]

        self.ip_id[from_client] += 1
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), self.ip_id[from_client],
                         0x4000, 64, 6, 0, src_ip, dst_ip)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]

        dst_mac, src_mac = (SERVER_MAC, CLIENT_MAC) if from_client else (CLIENT_MAC, SERVER_MAC)
        frame = dst_mac + src_mac + b"\x08\x00" + ip + tcp
        self.frames.append(frame)

        advance = len(payload) + (1 if flags & (SYN | FIN) else 0)
        self.seq[from_client] = (self.seq[from_client] + advance) & 0xFFFFFFFF
        self.ack[not from_client] = self.seq[from_client]

    def client(self, line: str):
        self.segment(True, PSH | ACK, line.encode("ascii") + b"\r\n")

    def server(self, line: str):
        self.segment(False, PSH | ACK, line.encode("ascii") + b"\r\n")

    def write(self, path: str):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for i, frame in enumerate(self.frames):
                ts = START_US + i * STEP_US
                f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000,
                                    len(frame), len(frame)))
                f.write(frame)


def main() -> int:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "sample-ftp.pcap")
    c = Capture()
    c.segment(True, SYN, mss=1460)
    c.segment(False, SYN | ACK, mss=1460)
    c.segment(True, ACK)
    c.server("220 ftpalg sample server ready")
    c.client("USER anonymous")
    c.server("331 Please specify the password.")
    c.client("PASS guest@example.org")
    c.server("230 Login successful.")
    c.client("PORT 198,18,0,2,195,80")
    c.server("200 PORT command successful.")
    c.client("PASV")
    c.server("227 Entering Passive Mode (198,19,0,2,156,64).")
    c.client("EPSV")
    c.server("229 Entering Extended Passive Mode (|||40001|)")
    c.client("QUIT")
    c.server("221 Goodbye.")
    c.segment(False, FIN | ACK)
    c.segment(True, FIN | ACK)
    c.segment(False, ACK)
    c.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
