#!/usr/bin/env python3
"""Load client of the end-to-end benchmark (scripts/bench-e2e.sh): speaks FTP to a real server
and prints one JSON object with what it measured. Every mode is bounded in time and count.

  noop     --conns C --procs P --seconds S   logged-in connections each sending NOOP in a loop
  rtt      --cmd NOOP|PASV|PORT --count N    one connection, round trip of N commands (p50/p99/p99.9)
  sessions --mode pasv|port --workers W --seconds S --path F
                                             login, PASV or PORT, RETR F, QUIT, in a loop per worker
  bulk     --path F                          one PASV download of F (throughput)
  idle     --count N --sources A,B,..        N idle control connections, held until stdin closes
  idle-server --port P                       a listener that greets and then only holds connections
  serve                                      reads one argument list (JSON) a line from stdin, runs
                                             it and prints its JSON: no start-up cost per measure
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import select
import socket
import sys
import time


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, n)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Ftp:
    """A blocking FTP control connection with a reply reader that handles multi-line replies."""

    def __init__(self, host, port=21, timeout=5.0, source=None):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.host = host

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("control connection closed")
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln.decode("latin-1")

    def reply(self):
        first = self.line()
        code = first[:3]
        if len(first) > 3 and first[3] == "-":
            while True:
                ln = self.line()
                if ln.startswith(code + " "):
                    break
        return int(code), first

    def cmd(self, text):
        self.sock.sendall(text.encode("latin-1") + b"\r\n")
        return self.reply()

    def expect(self, text, ok):
        code, line = self.cmd(text)
        if code // 100 != ok:
            raise RuntimeError(f"{text!r}: {line}")
        return line

    def login(self):
        code, line = self.reply()
        if code != 220:
            raise RuntimeError(f"banner: {line}")
        code, line = self.cmd("USER anonymous")
        if code == 331:
            code, line = self.cmd("PASS bench@ftpalg.test")
        if code != 230:
            raise RuntimeError(f"login: {line}")

    def pasv(self):
        line = self.expect("PASV", 2)
        nums = line[line.index("(") + 1:line.index(")")].split(",")
        return ".".join(nums[:4]), int(nums[4]) * 256 + int(nums[5])

    def port_listener(self):
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.bind((self.sock.getsockname()[0], 0))
        lst.listen(1)
        lst.settimeout(5.0)
        addr, port = lst.getsockname()
        arg = ",".join(addr.split(".") + [str(port >> 8), str(port & 255)])
        return lst, arg

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def read_all(sock):
    n = 0
    while True:
        chunk = sock.recv(262144)
        if not chunk:
            return n
        n += len(chunk)


def one_session(host, mode, path):
    """login, TYPE I, PASV|PORT, RETR path, QUIT; returns the bytes received."""
    f = Ftp(host)
    try:
        f.login()
        f.expect("TYPE I", 2)
        if mode == "pasv":
            dhost, dport = f.pasv()
            data = socket.create_connection((dhost, dport), timeout=5.0)
            f.sock.sendall(f"RETR {path}\r\n".encode())
        else:
            lst, arg = f.port_listener()
            try:
                f.expect(f"PORT {arg}", 2)
                f.sock.sendall(f"RETR {path}\r\n".encode())
                data, _ = lst.accept()
                data.settimeout(5.0)
            finally:
                lst.close()
        code, line = f.reply()
        if code != 150 and code != 125:
            data.close()
            raise RuntimeError(f"RETR: {line}")
        n = read_all(data)
        data.close()
        code, line = f.reply()
        if code != 226:
            raise RuntimeError(f"RETR end: {line}")
        f.cmd("QUIT")
        return n
    finally:
        f.close()


def session_worker(args):
    host, mode, path, seconds = args
    end = time.monotonic() + seconds
    ok = fail = 0
    errors = {}
    while time.monotonic() < end:
        try:
            one_session(host, mode, path)
            ok += 1
        except (OSError, RuntimeError, ValueError, ConnectionError) as e:
            fail += 1
            key = type(e).__name__ + ": " + str(e)[:60]
            errors[key] = errors.get(key, 0) + 1
    return ok, fail, errors


POOL = None  # serve mode: one pool of worker processes for every measure


def pool_map(fn, items):
    if POOL is not None and len(items) <= POOL_SIZE:
        return POOL.map(fn, items, chunksize=1)
    with multiprocessing.Pool(len(items)) as pool:
        return pool.map(fn, items, chunksize=1)


POOL_SIZE = 4


def run_sessions(a):
    t0 = time.monotonic()
    res = pool_map(session_worker, [(a.server, a.mode, a.path, a.seconds)] * a.workers)
    dt = time.monotonic() - t0
    ok = sum(r[0] for r in res)
    fail = sum(r[1] for r in res)
    errors = {}
    for r in res:
        for k, v in r[2].items():
            errors[k] = errors.get(k, 0) + v
    return {"sessions": ok, "failures": fail, "seconds": round(dt, 3),
            "sessions_per_s": round(ok / dt, 2), "errors": dict(list(errors.items())[:5])}


def ready(state):
    """One more connection logged in (or failed); the last one starts the clock."""
    state["ready"] += 1
    if state["ready"] >= state["conns"] and not state["go"].is_set():
        state["end"] = time.monotonic() + state["seconds"]
        state["go"].set()


async def noop_conn(host, state, counts, idx, gate):
    """Logs in (at most 8 connection attempts at once: a burst would overflow the server's
    listen backlog), waits for every connection to be ready, then sends NOOPs until the end.
    Every read is bounded."""
    async with gate:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, 21), 10)
    try:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        async def reply():
            ln = await asyncio.wait_for(reader.readline(), 10)
            if not ln:
                raise ConnectionError("closed")
            return ln

        await reply()
        writer.write(b"USER anonymous\r\n")
        ln = await reply()
        if ln.startswith(b"331"):
            writer.write(b"PASS bench@ftpalg.test\r\n")
            await reply()
        ready(state)
        await asyncio.wait_for(state["go"].wait(), 60)
        n = 0
        while time.monotonic() < state["end"]:
            writer.write(b"NOOP\r\n")
            await reply()
            n += 1
        counts[idx] = n
        writer.write(b"QUIT\r\n")
    except BaseException:
        if not state["go"].is_set():
            ready(state)  # counted as done so the others start
        raise
    finally:
        writer.close()


async def noop_many(host, conns, seconds):
    state = {"ready": 0, "conns": conns, "go": asyncio.Event(), "end": 0.0, "seconds": seconds}
    counts = [0] * conns
    gate = asyncio.Semaphore(8)
    res = await asyncio.gather(*(noop_conn(host, state, counts, i, gate) for i in range(conns)),
                               return_exceptions=True)
    return sum(counts), sum(1 for r in res if isinstance(r, BaseException))


def noop_proc(args):
    host, conns, seconds = args
    return asyncio.run(noop_many(host, conns, seconds))


def run_noop(a):
    per = [a.conns // a.procs + (1 if i < a.conns % a.procs else 0) for i in range(a.procs)]
    t0 = time.monotonic()
    res = pool_map(noop_proc, [(a.server, n, a.seconds) for n in per])
    dt = time.monotonic() - t0
    n = sum(r[0] for r in res)
    return {"commands": n, "errors": sum(r[1] for r in res), "seconds": round(dt, 3),
            "commands_per_s": round(n / a.seconds, 1)}


def pct(sorted_ns, q):
    i = min(len(sorted_ns) - 1, int(q * len(sorted_ns)))
    return round(sorted_ns[i] / 1e6, 4)


def run_rtt(a):
    f = Ftp(a.server)
    f.login()
    lst = None
    samples = []
    end = time.monotonic() + a.max_seconds
    try:
        if a.cmd == "PORT":
            lst, arg = f.port_listener()
            text = f"PORT {arg}"
        else:
            text = a.cmd
        for _ in range(a.warmup):
            f.cmd(text)
        for _ in range(a.count):
            t = time.perf_counter_ns()
            code, line = f.cmd(text)
            samples.append(time.perf_counter_ns() - t)
            if code // 100 != 2:
                raise RuntimeError(f"{text}: {line}")
            if time.monotonic() > end:
                break
        f.cmd("QUIT")
    finally:
        if lst:
            lst.close()
        f.close()
    samples.sort()
    return {"n": len(samples), "p50_ms": pct(samples, 0.5), "p99_ms": pct(samples, 0.99),
            "p999_ms": pct(samples, 0.999)}


def run_bulk(a):
    f = Ftp(a.server, timeout=60.0)
    try:
        f.login()
        f.expect("TYPE I", 2)
        dhost, dport = f.pasv()
        data = socket.create_connection((dhost, dport), timeout=60.0)
        t = time.monotonic()
        f.sock.sendall(f"RETR {a.path}\r\n".encode())
        code, line = f.reply()
        if code // 100 != 1:
            raise RuntimeError(f"RETR: {line}")
        n = read_all(data)
        dt = time.monotonic() - t
        data.close()
        f.reply()
        f.cmd("QUIT")
    finally:
        f.close()
    return {"bytes": n, "seconds": round(dt, 4), "mbit_s": round(n * 8 / dt / 1e6, 1)}


def run_idle(a):
    """Opens a.count connections (non-blocking, at most 512 in flight), prints one JSON line,
    then holds them until stdin closes (or a.hold seconds)."""
    raise_nofile(a.count + 1024)
    sources = a.sources.split(",") if a.sources else [None]
    ep = select.epoll()
    pending = {}
    done = []
    failed = 0
    t0 = time.monotonic()
    deadline = t0 + a.max_seconds
    i = 0
    while (i < a.count or pending) and time.monotonic() < deadline:
        while i < a.count and len(pending) < 512:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            src = sources[i % len(sources)]
            if src:
                s.bind((src, 0))
            s.connect_ex((a.server, 21))
            ep.register(s.fileno(), select.EPOLLOUT)
            pending[s.fileno()] = s
            i += 1
        for fd, _ in ep.poll(0.5):
            s = pending.pop(fd)
            ep.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                done.append(s)
            else:
                failed += 1
                s.close()
    for s in pending.values():
        s.close()
    print(json.dumps({"open": len(done), "failed": failed + len(pending),
                      "seconds": round(time.monotonic() - t0, 2)}), flush=True)
    end = time.monotonic() + a.hold
    while time.monotonic() < end:
        r, _, _ = select.select([sys.stdin], [], [], 0.5)
        if r and not sys.stdin.readline():
            break
    for s in done:
        s.close()
    return None


class IdleServer(asyncio.Protocol):
    conns = []

    def connection_made(self, transport):
        transport.write(b"220 bench idle server\r\n")
        IdleServer.conns.append(transport)

    def data_received(self, data):
        pass


async def idle_server(port, ready):
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(IdleServer, host="0.0.0.0", port=port, backlog=4096,
                                   reuse_address=True, reuse_port=True)
    ready()
    async with srv:
        await srv.serve_forever()


def idle_servers(port, procs):
    """procs listeners sharing the port (SO_REUSEPORT): the open-file limit is per process."""
    children = []
    for _ in range(procs):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            asyncio.run(idle_server(port, lambda: os.close(w)))
            os._exit(0)
        os.close(w)
        os.read(r, 1)  # EOF once the child listens
        os.close(r)
        children.append(pid)
    print("listening", flush=True)
    try:
        for pid in children:
            os.waitpid(pid, 0)
    finally:
        for pid in children:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["noop", "rtt", "sessions", "bulk", "idle", "idle-server",
                                    "serve"])
    p.add_argument("--server", default="198.19.1.2")
    p.add_argument("--conns", type=int, default=64)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--cmd", default="NOOP")
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--max-seconds", type=float, default=60.0)
    p.add_argument("--mode", default="pasv")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--path", default="pub/1k.bin")
    p.add_argument("--sources", default="")
    p.add_argument("--hold", type=float, default=120.0)
    p.add_argument("--port", type=int, default=21)
    a = p.parse_args()
    raise_nofile(4096)
    if a.what == "idle-server":
        raise_nofile(300000)
        idle_servers(a.port, a.procs)
        return
    fns = {"noop": run_noop, "rtt": run_rtt, "sessions": run_sessions, "bulk": run_bulk,
           "idle": run_idle}
    if a.what != "serve":
        out = fns[a.what](a)
        if out is not None:
            print(json.dumps(out), flush=True)
        return
    global POOL
    POOL = multiprocessing.Pool(POOL_SIZE)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        args = p.parse_args(json.loads(line))
        try:
            out = fns[args.what](args)
        except (OSError, RuntimeError, ValueError) as e:
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)
    POOL.close()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
