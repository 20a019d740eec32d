#!/usr/bin/env python3
"""Hostile HTTP clients for the e2e tests (test_connections.sh, test_fd_limit.sh,
test_stalled_reader.sh).

slowloris PORT MODE INTERVAL_S: trickles one byte every INTERVAL_S of a request's head
  (MODE head), of its body (MODE body), or of a second request's head on a persistent
  connection (MODE keepalive). Prints "cut STATUS CODE" when the server ended the
  connection before the request was complete (STATUS/CODE of what it answered, 0/- for
  none), "complete STATUS CODE" when the whole request went out first.
idle PORT COUNT READY_FILE [EXPECT_CLOSED]: opens COUNT connections that never send a
  byte, writes how many it opened to READY_FILE, holds them until stdin closes, then
  (waiting up to 10 s for EXPECT_CLOSED of them to be closed, when given) prints how many
  the server had closed meanwhile and the first answer one of them got (or "-").
stall PORT TARGET COUNT REQUESTS READY_FILE: opens COUNT connections with a small receive
  buffer that never read; sends GET TARGET REQUESTS times on each, each time once the
  service has counted one more answer of that route (http_requests_total), so that the
  answers overflow the socket buffers and Pistache is left writing; writes COUNT to
  READY_FILE. Then a line "reset" on stdin resets every connection (SO_LINGER 0) and
  prints "reset COUNT"; the end of stdin prints "ended N of COUNT", N being how many the
  server had ended (reset or closed) meanwhile.
"""
import json
import re
import select
import socket
import struct
import sys
import time
import urllib.error
import urllib.request


def answer_of(data):
    if not data.startswith(b"HTTP/"):
        return "0 -"
    status = data.split(b" ", 2)[1].decode()
    code = "-"
    if b"\r\n\r\n" in data:
        try:
            code = json.loads(data.split(b"\r\n\r\n", 1)[1])["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = "NOT_JSON"
    return f"{status} {code}"


def read_all(sock, timeout):
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def closed_by_server(sock):
    """True when the server has sent something or ended the connection (does not block)."""
    poller = select.poll()  # select() cannot take descriptors past 1023
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def slowloris(port, mode, interval):
    body = b'{"user_id":"00000000-0000-4000-8000-000000000000"}'
    head = (b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nX-Idempotency-Key: slow\r\n"
            b"Content-Type: application/json\r\nX-Pad: " + b"a" * 40 + b"\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    sock = socket.create_connection(("127.0.0.1", port))
    if mode == "keepalive":
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200"), first
    if mode == "body":
        sock.sendall(head)
        trickle = body
    else:
        trickle = head + body
    for i in range(len(trickle)):
        if closed_by_server(sock):
            print("cut", answer_of(read_all(sock, 2)))
            return
        try:
            sock.send(trickle[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            print("cut", answer_of(read_all(sock, 2)))
            return
        time.sleep(interval)
    print("complete", answer_of(read_all(sock, 5)))


def idle(port, count, ready_file, expect_closed=None):
    socks = []
    for _ in range(count):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            break
    with open(ready_file, "w") as f:
        f.write(f"{len(socks)}\n")
    sys.stdin.read()
    deadline = time.monotonic() + 10
    while expect_closed is not None and time.monotonic() < deadline:
        if sum(closed_by_server(s) for s in socks) >= expect_closed:
            break
        time.sleep(0.1)
    closed, first = 0, "-"
    for s in socks:
        if closed_by_server(s):
            closed += 1
            if first == "-":
                first = answer_of(read_all(s, 1)).replace(" ", "/")
    print(closed, first)


def answers_counted(port, route):
    """The service's count of answers of `route` (GET), from /metrics; None when refused."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    pattern = re.compile(r'^http_requests_total\{route="' + re.escape(route)
                         + r'",method="GET",status="\d+"\} (\d+)$', re.M)
    return sum(int(n) for n in pattern.findall(text))


def wait_counted(port, route, at_least):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        n = answers_counted(port, route)
        if n is not None and n >= at_least:
            return
        time.sleep(0.05)
    sys.exit(f"the service did not count answer {at_least} of {route} in time")


def ended_by_server(sock):
    """True when the server has reset or closed the connection (the unread answer does not count)."""
    poller = select.poll()
    poller.register(sock, select.POLLRDHUP)
    return any(ev & (select.POLLERR | select.POLLHUP | select.POLLRDHUP)
               for _, ev in poller.poll(0))


def stall(port, target, count, requests, ready_file):
    route = target.split("?", 1)[0]
    counted = answers_counted(port, route) or 0
    socks = []
    for _ in range(count):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        socks.append(sock)
        for _ in range(requests):
            sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            counted += 1
            wait_counted(port, route, counted)
    with open(ready_file, "w") as f:
        f.write(f"{count}\n")
    if sys.stdin.readline().strip() == "reset":
        for sock in socks:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        print("reset", count)
        return
    print("ended", sum(ended_by_server(s) for s in socks), "of", count)


if __name__ == "__main__":
    if sys.argv[1] == "slowloris":
        slowloris(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
    elif sys.argv[1] == "idle":
        idle(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4],
             int(sys.argv[5]) if len(sys.argv) > 5 else None)
    elif sys.argv[1] == "stall":
        stall(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    else:
        sys.exit(__doc__)
