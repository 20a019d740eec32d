#!/usr/bin/env python3
"""open_loop.py: the targets and the reading of an open-loop run of vegeta (tools/vegeta.sh).

  open_loop.py targets URL USER PREFIX COUNT > targets.jsonl
      COUNT creates for USER as vegeta JSON targets, each with its own idempotency key
      PREFIX-N (vegeta's -format=json, bodies base64).
  open_loop.py summary RATE < results.jsonl      (vegeta encode --to json)
      one JSON object: answers by status, p50/p99 of the 201s and of the 503s measured
      from the intended send time (start + seq/RATE: a request vegeta sent late counts
      its lateness, so that coordinated omission does not hide it), errors, timeouts.
  open_loop.py answers < results.jsonl
      one line per answer: key status error-code retry-after order-id (for the tests).
"""
import base64
import json
import sys


def targets(url, user, prefix, count):
    body = json.dumps({"user_id": user, "currency": "EUR", "total_amount": 2,
                       "items": [{"sku_id": "sku-1", "quantity": 2, "price": 1}]},
                      separators=(",", ":"))
    b64 = base64.b64encode(body.encode()).decode()
    out = sys.stdout
    for n in range(count):
        out.write('{"method":"POST","url":"%s/api/v1/orders","body":"%s","header":'
                  '{"Content-Type":["application/json"],"X-Idempotency-Key":["%s-%d"]}}\n'
                  % (url, b64, prefix, n))


def results():
    for line in sys.stdin:
        if line.strip():
            yield json.loads(line)


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100.0 * len(values)))]


def summary(rate):
    rows = list(results())
    start = min((r["timestamp"] for r in rows), default=None)
    by_status, lat, errors, timeouts, lag_max = {}, {201: [], 503: []}, 0, 0, 0.0
    for r in rows:
        code = r["code"]
        by_status[code] = by_status.get(code, 0) + 1
        sent = parse_time(r["timestamp"]) - parse_time(start)
        intended = r["seq"] / rate
        lag = max(0.0, sent - intended)
        lag_max = max(lag_max, lag)
        latency = lag + r["latency"] / 1e9
        if code in lat:
            lat[code].append(latency)
        if code == 0:
            errors += 1
            if "timeout" in r.get("error", "").lower() or "deadline" in r.get("error", ""):
                timeouts += 1
    ms = lambda v: None if v is None else round(v * 1000, 1)
    print(json.dumps({
        "offered_per_s": rate, "sent": len(rows),
        "status": {str(k): v for k, v in sorted(by_status.items())},
        "created_share": round(by_status.get(201, 0) / max(1, len(rows)), 4),
        "p50_201_ms": ms(percentile(lat[201], 50)), "p99_201_ms": ms(percentile(lat[201], 99)),
        "p50_503_ms": ms(percentile(lat[503], 50)), "p99_503_ms": ms(percentile(lat[503], 99)),
        "errors": errors, "timeouts": timeouts, "max_send_lag_ms": ms(lag_max)}))


def parse_time(text):
    """RFC 3339 with nanoseconds, as vegeta writes it, to seconds since the day began
    (differences within one run are all that is needed)."""
    clock = text.split("T")[1]
    for sign in ("Z", "+", "-"):
        clock = clock.split(sign)[0]
    h, m, s = clock.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def answers():
    for r in results():
        headers = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
        body = base64.b64decode(r.get("body") or "").decode("utf-8", "replace")
        code, order = "-", "-"
        try:
            doc = json.loads(body) if body else {}
            code = (doc.get("error") or {}).get("code", "-")
            order = (doc.get("data") or {}).get("id", "-")
        except ValueError:
            code = "not-json"
        retry = (headers.get("retry-after") or ["-"])[0]
        print(r["seq"], r["code"], code, retry, order)


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "targets":
        targets(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "summary":
        summary(float(sys.argv[2]))
    elif cmd == "answers":
        answers()
    else:
        sys.exit(__doc__)
