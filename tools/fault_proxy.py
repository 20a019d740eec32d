#!/usr/bin/env python3
"""A TCP fault proxy for end-to-end tests: forwards a listen port to a target and can be
switched at run time to misbehave the way networks do. Python 3 standard library only.

Start it (it prints nothing; it is ready once the listen port accepts):

    tools/fault_proxy.py --listen 127.0.0.1:15432 --target 127.0.0.1:5432 \
        --control /tmp/proxy.ctl &

then point the client at the listen port (e.g. DATABASE_URL=postgresql://...@127.0.0.1:15432/db)
and switch the mode by writing one word into the control file (atomically, e.g.
`echo blackhole >/tmp/proxy.ctl.tmp && mv /tmp/proxy.ctl.tmp /tmp/proxy.ctl`, or use
`fault_proxy.py --control /tmp/proxy.ctl --set blackhole`, which does exactly that and
waits until the proxy has taken the new mode):

    pass        forward bytes both ways (the default when the file is missing or empty)
    blackhole   keep every connection and accept new ones, but forward no byte either way
                and send no RST or FIN: what dropped packets look like to both ends
    delay MS    forward, each chunk held back MS milliseconds (e.g. `delay 1500`)
    cut         close every connection at once and refuse new ones (RST: SO_LINGER 0)

The proxy writes the mode it applies to CONTROL.applied, so a test knows when a switch
took effect. Bytes that arrive during a blackhole are discarded, as the network would
have lost them; a connection therefore rarely survives a blackhole intact, which is the
point: the client must notice through its own timeouts. Stop the proxy with SIGTERM.
"""

import argparse
import os
import selectors
import socket
import struct
import sys
import time

POLL_S = 0.05  # how often the control file is read, and the loop's tick
CHUNK = 65536


def parse_addr(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def read_mode(path):
    try:
        with open(path, encoding="ascii") as f:
            words = f.read().split()
    except (FileNotFoundError, UnicodeDecodeError):
        return ("pass", 0)
    if not words or words[0] not in ("pass", "blackhole", "delay", "cut"):
        return ("pass", 0)
    if words[0] == "delay":
        try:
            return ("delay", max(0, int(words[1])) if len(words) > 1 else 1000)
        except ValueError:
            return ("delay", 1000)
    return (words[0], 0)


def write_atomically(path, text):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(text + "\n")
    os.replace(tmp, path)


def set_mode(control, text, timeout_s=5.0):
    """Client side: switch a running proxy and wait until it reports the new mode."""
    write_atomically(control, text)
    want = " ".join(text.split())
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with open(control + ".applied", encoding="ascii") as f:
                if f.read().strip() == want:
                    return 0
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    print(f"fault_proxy: mode '{want}' not applied within {timeout_s}s", file=sys.stderr)
    return 1


class Pipe:
    """One client connection and its upstream connection."""

    def __init__(self, client, upstream):
        self.ends = {client: upstream, upstream: client}
        self.queued = {client: [], upstream: []}  # (due time, bytes) to send to that end

    def close(self, sel, reset=False):
        for s in self.ends:
            try:
                sel.unregister(s)
            except (KeyError, ValueError):
                pass
            if reset:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()


def serve(listen, target, control):
    sel = selectors.DefaultSelector()
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(listen)
    server.listen(128)
    server.setblocking(False)
    sel.register(server, selectors.EVENT_READ)
    pipes = {}  # socket -> Pipe
    mode, applied = ("pass", 0), None
    next_poll = 0.0
    while True:
        now = time.monotonic()
        if now >= next_poll:
            next_poll = now + POLL_S
            mode = read_mode(control)
            if mode != applied:
                if mode[0] == "cut":
                    for p in set(pipes.values()):
                        p.close(sel, reset=True)
                    pipes.clear()
                applied = mode
                text = mode[0] + (f" {mode[1]}" if mode[0] == "delay" else "")
                write_atomically(control + ".applied", text)
        for key, _ in sel.select(timeout=POLL_S):
            s = key.fileobj
            if s is server:
                accept(server, target, mode, sel, pipes)
                continue
            pipe = pipes.get(s)
            if pipe is None:
                continue
            try:
                data = s.recv(CHUNK)
            except OSError:
                data = b""
            if not data:
                for end in pipe.ends:
                    pipes.pop(end, None)
                pipe.close(sel)
                continue
            if mode[0] == "blackhole":
                continue  # lost on the wire
            delay = mode[1] / 1000.0 if mode[0] == "delay" else 0.0
            pipe.queued[pipe.ends[s]].append((time.monotonic() + delay, data))
        flush(sel, pipes, mode)


def accept(server, target, mode, sel, pipes):
    try:
        client, _ = server.accept()
    except OSError:
        return
    if mode[0] == "cut":
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        return
    try:
        upstream = socket.create_connection(target, timeout=2)
    except OSError:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        return
    for s in (client, upstream):
        s.setblocking(True)
        s.settimeout(None)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sel.register(s, selectors.EVENT_READ)
    p = Pipe(client, upstream)
    pipes[client] = p
    pipes[upstream] = p


def flush(sel, pipes, mode):
    if mode[0] == "blackhole":
        return
    now = time.monotonic()
    for pipe in set(pipes.values()):
        for end, queue in pipe.queued.items():
            while queue and queue[0][0] <= now:
                _, data = queue.pop(0)
                try:
                    end.sendall(data)
                except OSError:
                    queue.clear()
                    break


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", help="host:port to accept on")
    ap.add_argument("--target", help="host:port to forward to")
    ap.add_argument("--control", required=True, help="file holding the mode")
    ap.add_argument("--set", help="switch a running proxy to this mode and wait for it")
    args = ap.parse_args()
    if args.set is not None:
        return set_mode(args.control, args.set)
    if not args.listen or not args.target:
        ap.error("--listen and --target are required to run the proxy")
    try:
        serve(parse_addr(args.listen), parse_addr(args.target), args.control)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
