#!/usr/bin/env python3
"""Hostile HTTP clients for test_connections.sh.

slowloris PORT MODE INTERVAL_S: trickles one byte every INTERVAL_S of a request's head
  (MODE head), of its body (MODE body), or of a second request's head on a persistent
  connection (MODE keepalive). Prints "cut STATUS CODE" when the server ended the
  connection before the request was complete (STATUS/CODE of what it answered, 0/- for
  none), "complete STATUS CODE" when the whole request went out first.
idle PORT COUNT READY_FILE: opens COUNT connections that never send a byte, writes how
  many it opened to READY_FILE, holds them until stdin closes, then prints how many the
  server had closed meanwhile and the first answer one of them got (or "-").
"""
import json
import select
import socket
import sys
import time


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


def idle(port, count, ready_file):
    socks = []
    for _ in range(count):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            break
    with open(ready_file, "w") as f:
        f.write(f"{len(socks)}\n")
    sys.stdin.read()
    closed, first = 0, "-"
    for s in socks:
        if closed_by_server(s):
            closed += 1
            if first == "-":
                first = answer_of(read_all(s, 1)).replace(" ", "/")
    print(closed, first)


if __name__ == "__main__":
    if sys.argv[1] == "slowloris":
        slowloris(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
    elif sys.argv[1] == "idle":
        idle(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(__doc__)
