#!/usr/bin/env python3
"""A stampede of creates that waits for every answer (issue 12, CONTRACT §3 "Overload").

Each of --conns connections sends creates one after the other on one persistent
connection, each with its own idempotency key, until --duration seconds have passed (or
--requests-per-conn are sent). A request started before the cut-off is always awaited to
its answer (up to --answer-timeout), so that "committed but the client got no 201" counts
real losses, not requests a load generator abandoned at the end of its run.

After a 503 a connection waits Retry-After before its next request, as a well-behaved
client does (--ignore-retry-after: at once). Writes one line per request to --out: key, status, error code, Retry-After, latency ms
(status 0: no answer, the connection failed). Prints a JSON summary on stdout.
"""
import argparse
import asyncio
import json
import sys
import time


def body_for(user):
    return json.dumps({"user_id": user, "currency": "EUR", "total_amount": 2,
                       "items": [{"sku_id": "sku-1", "quantity": 2, "price": 1}]}).encode()


async def read_answer(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return status, headers, body


async def connection(n, args, body, results, cutoff):
    reader = writer = None
    i = 0
    while time.monotonic() < cutoff and (args.requests_per_conn == 0 or i < args.requests_per_conn):
        key = f"{args.prefix}-{n}-{i}"
        i += 1
        started = time.monotonic()
        record = [key, 0, "-", "-", 0.0]
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", args.port), args.answer_timeout)
            request = (f"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\n"
                       f"Content-Type: application/json\r\nX-Idempotency-Key: {key}\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            writer.write(request)
            await writer.drain()
            status, headers, answer = await asyncio.wait_for(read_answer(reader),
                                                             args.answer_timeout)
            record[1] = status
            if status >= 400:
                try:
                    record[2] = json.loads(answer)["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    record[2] = "NOT_JSON"
            record[3] = headers.get("retry-after", "-")
            if headers.get("connection", "").lower() == "close":
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError,
                IndexError, asyncio.LimitOverrunError):
            if writer is not None:
                writer.close()
            writer = None
        record[4] = (time.monotonic() - started) * 1000
        results.append(record)
        if record[1] == 0:
            await asyncio.sleep(0.05)  # a refused connection: do not spin
        elif record[1] == 503 and args.honour_retry_after and record[3] != "-":
            await asyncio.sleep(float(record[3]))  # as a well-behaved client does
    if writer is not None:
        writer.close()


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))], 1)


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, default=2000)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--requests-per-conn", type=int, default=0, help="0: until --duration")
    ap.add_argument("--answer-timeout", type=float, default=30.0)
    ap.add_argument("--ignore-retry-after", dest="honour_retry_after", action="store_false",
                    help="send the next request at once after a 503 (a retry storm)")
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    body = body_for(args.user)
    results = []
    start = time.monotonic()
    cutoff = start + args.duration
    await asyncio.gather(*(connection(n, args, body, results, cutoff) for n in range(args.conns)))
    wall = time.monotonic() - start
    with open(args.out, "w") as f:
        for r in results:
            f.write(f"{r[0]} {r[1]} {r[2]} {r[3]} {r[4]:.1f}\n")
    by_status = {}
    for r in results:
        by_status[str(r[1])] = by_status.get(str(r[1]), 0) + 1
    ok = [r[4] for r in results if r[1] == 201]
    refused = [r[4] for r in results if r[1] == 503]
    print(json.dumps({
        "conns": args.conns, "requests": len(results), "wall_s": round(wall, 2),
        "by_status": by_status, "goodput_per_s": round(len(ok) / wall, 1),
        "created_p50_ms": percentile(ok, 0.5), "created_p99_ms": percentile(ok, 0.99),
        "refused_p50_ms": percentile(refused, 0.5), "refused_p99_ms": percentile(refused, 0.99),
    }))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
