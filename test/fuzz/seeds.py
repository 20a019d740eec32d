#!/usr/bin/env python3
"""Writes the seed corpora in test/fuzz/corpus/<target>/ (run from anywhere; the
files are committed, this only documents and regenerates them)."""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
U = "123e4567-e89b-42d3-a456-426614174000"
O = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def body(items, total=None, user=U, currency="EUR", extra=""):
    if total is None:
        total = "%.2f" % sum(q * p for _, q, p in items)
    its = ",".join('{"sku_id":%s,"quantity":%s,"price":%s}' % (json.dumps(s), q, p)
                   for s, q, p in items)
    return '{"user_id":"%s","currency":"%s","total_amount":%s,"items":[%s]%s}' % (
        user, currency, total, its, extra)


def create():
    t = "create_request"
    write(t, "valid_one", body([("SKU-1", 2, 12.5)], "25.00"))
    write(t, "valid_two", body([("A", 1, 0.01), ("B", 3, 100)], "300.01"))
    write(t, "valid_unicode_sku", body([("caf\u00e9-\U0001F600", 1, 5)], "5"))
    write(t, "valid_escaped_pair", '{"user_id":"%s","currency":"USD","total_amount":1,'
          '"items":[{"sku_id":"\\ud83d\\ude00","quantity":1,"price":1}]}' % U)
    write(t, "valid_exponent", body([("X", "1e1", "1.5E2")], "15e2"))
    write(t, "valid_upper_uuid", body([("X", 1, 1)], "1", user=U.upper()))
    write(t, "valid_100_items", body([("S%d" % i, 1, 1) for i in range(100)], "100"))
    write(t, "valid_max_quantity", body([("X", 10000, "100000000000")], "1000000000000000"))
    write(t, "lone_low_surrogate", '{"user_id":"%s","currency":"EUR","total_amount":1,'
          '"items":[{"sku_id":"\\udc00","quantity":1,"price":1}]}' % U)
    write(t, "lone_high_surrogate", '{"user_id":"%s","currency":"EUR","total_amount":1,'
          '"items":[{"sku_id":"a\\ud800b","quantity":1,"price":1}]}' % U)
    write(t, "surrogate_in_key", '{"user_id":"%s","\\udc00":1,"currency":"EUR","total_amount":1,'
          '"items":[{"sku_id":"a","quantity":1,"price":1}]}' % U)
    write(t, "surrogate_key_huge_number", '{"\\udc00":1e999}')
    write(t, "raw_surrogate_bytes", b'{"user_id":"' + U.encode() + b'","currency":"EUR",'
          b'"total_amount":1,"items":[{"sku_id":"\xed\xb0\x80","quantity":1,"price":1}]}')
    write(t, "overlong_utf8", b'{"user_id":"' + U.encode() + b'","currency":"EUR",'
          b'"total_amount":1,"items":[{"sku_id":"\xc0\xaf","quantity":1,"price":1}]}')
    write(t, "nul_inside", body([("X", 1, 1)], "1").replace('"X"', '"X\x00Y"'))
    write(t, "nul_after", body([("X", 1, 1)], "1") + "\x00garbage")
    write(t, "escaped_nul", body([("X", 1, 1)], "1").replace('"X"', '"\\u0000"'))
    write(t, "huge_total", body([("X", 1, 1)], "1" + "0" * 400))
    write(t, "huge_exponent", body([("X", 1, 1)], "1e999999999999999999"))
    write(t, "negative_exponent", body([("X", 1, 1)], "100e-2"))
    write(t, "too_many_decimals", body([("X", 1, "1.001")], "1.001"))
    write(t, "quantity_fraction", body([("X", "1.5", 2)], "3"))
    write(t, "quantity_string", body([("X", '"5"', 2)], "10"))
    write(t, "total_mismatch", body([("X", 2, 2)], "5"))
    write(t, "overflow_sum", body([("X", 10000, "99999999999999"), ("Y", 10000, "99999999999999")],
                                  "1999999999999980000"))
    write(t, "negative_price", body([("X", 1, -1)], "-1"))
    write(t, "zero_items", body([], "1"))
    write(t, "101_items", body([("S", 1, 1)] * 101, "101"))
    write(t, "10k_empty_items", '{"user_id":"%s","currency":"EUR","total_amount":1,"items":[%s]}'
          % (U, ",".join(["{}"] * 10000)))
    write(t, "10k_numbers", '{"items":[%s]}' % ",".join(["1"] * 10000))
    write(t, "deep_nesting", "[" * 5000 + "]" * 5000)
    write(t, "deep_objects", '{"a":' * 40 + "1" + "}" * 40)
    write(t, "duplicate_key", body([("X", 1, 1)], "1", extra=',"currency":"USD"'))
    write(t, "bad_uuid", body([("X", 1, 1)], "1", user="123e4567-e89b-42d3-a456-42661417400g"))
    write(t, "lower_currency", body([("X", 1, 1)], "1", currency="eur"))
    write(t, "sku_65_chars", body([("x" * 65, 1, 1)], "1"))
    write(t, "sku_control_char", body([("a\nb", 1, 1)], "1"))
    write(t, "sku_del", body([("a\x7fb", 1, 1)], "1"))
    write(t, "not_json", "hello")
    write(t, "empty", "")
    write(t, "whitespace", " \r\n\t")
    write(t, "array_root", "[1,2,3]")
    write(t, "cancel_user", '{"reason":"USER_CANCEL"}')
    write(t, "cancel_stock", '{"reason":"STOCK_EXHAUSTED"}')
    write(t, "cancel_other", '{"reason":"PLEASE"}')
    write(t, "trailing_garbage", body([("X", 1, 1)], "1") + "}")
    write(t, "over_64k", body([("X", 1, 1)], "1") + " " * (64 * 1024))


def money():
    t = "money"
    for name, s in [("int", "12"), ("cents", "12.50"), ("one_decimal", "12.5"),
                    ("trailing_zeros", "12.340"), ("three_decimals", "12.345"),
                    ("exp", "1e2"), ("exp_upper_plus", "1.5E+2"), ("exp_neg", "1234e-2"),
                    ("exp_neg_too_small", "1e-3"), ("zero", "0"), ("neg_zero", "-0.00"),
                    ("negative", "-5.05"), ("max", "10000000000000"),
                    ("max_cents", "10000000000000.00"), ("max_plus_cent", "10000000000000.01"),
                    ("huge", "9" * 400), ("huge_exp", "1e999999999999999999999"),
                    ("tiny_exp", "1e-999999999999999999999"), ("zero_huge_exp", "0e999999999"),
                    ("leading_zero", "012"), ("dot_only", "1."), ("dot_first", ".5"),
                    ("plus", "+1"), ("exp_empty", "1e"), ("hex", "0x10"), ("space", " 1"),
                    ("nul", "1\x00"), ("int64_max", "9223372036854775807"),
                    ("int64_overflow", "18446744073709551617"), ("long_fraction", "1." + "0" * 300 + "1"),
                    ("long_zero_fraction", "1." + "0" * 300), ("exp_compensates", "100000e-5")]:
        write(t, name, s)
    import struct
    write(t, "int64_min_pair", struct.pack("<qq", -2**63, -1))
    write(t, "int64_max_pair", struct.pack("<qq", 2**63 - 1, 2))
    write(t, "max_money_pair", struct.pack("<qq", 10**15, 1))
    write(t, "price_quantity", struct.pack("<qq", 100000000000, 10000))


def envelope(payload, **top):
    d = {"event_id": "6f1c9d2e-1b2a-4c3d-9e8f-0a1b2c3d4e5f", "event_type": "INVENTORY_RESERVED",
         "occurred_at": "2026-01-01T00:00:00.000Z", "schema_version": 1, "payload": payload}
    d.update(top)
    return json.dumps(d, ensure_ascii=False)


def events():
    t = "event_decoder"
    write(t, "reserved", envelope({"order_id": O}))
    write(t, "failed", envelope({"order_id": O, "reason": "OUT_OF_STOCK"},
                                event_type="INVENTORY_RESERVATION_FAILED"))
    write(t, "intent", envelope({"order_id": O, "payment_intent_id": "pi_123"},
                                event_type="PAYMENT_INTENT_CREATED"))
    write(t, "succeeded", envelope({"order_id": O, "payment_intent_id": "pi_123"},
                                   event_type="PAYMENT_SUCCEEDED"))
    write(t, "payment_failed", envelope({"order_id": O, "payment_intent_id": "pi_1",
                                         "reason": "CARD_DECLINED"}, event_type="PAYMENT_FAILED"))
    write(t, "released", envelope({"order_id": O}, event_type="INVENTORY_RELEASED"))
    write(t, "unknown_type", envelope({"order_id": O}, event_type="SOMETHING_ELSE"))
    write(t, "upper_uuids", envelope({"order_id": O.upper()}, event_id="6F1C9D2E-1B2A-4C3D-9E8F-0A1B2C3D4E5F"))
    write(t, "offset_time", envelope({"order_id": O}, occurred_at="2026-01-01T01:30:00.123456+01:30"))
    write(t, "leap_second", envelope({"order_id": O}, occurred_at="2016-12-31T23:59:60Z"))
    write(t, "year_zero", envelope({"order_id": O}, occurred_at="0000-01-01T00:00:00+23:59"))
    write(t, "year_9999", envelope({"order_id": O}, occurred_at="9999-12-31T23:59:59.999-23:59"))
    write(t, "bad_time", envelope({"order_id": O}, occurred_at="yesterday"))
    write(t, "feb_29", envelope({"order_id": O}, occurred_at="2023-02-29T00:00:00Z"))
    write(t, "lone_surrogate_reason",
          envelope({"order_id": O, "reason": "X"}, event_type="PAYMENT_FAILED").replace('"X"', '"\\udc00"'))
    write(t, "lone_surrogate_intent",
          envelope({"order_id": O, "payment_intent_id": "X"}).replace('"X"', '"a\\ud800"'))
    write(t, "lone_surrogate_type", envelope({"order_id": O}, event_type="X").replace('"X"', '"\\udfff"'))
    write(t, "surrogate_pair", envelope({"order_id": O, "reason": "\U0001F600"}))
    write(t, "raw_surrogate_bytes", envelope({"order_id": O, "reason": "X"}).encode().replace(b'"X"', b'"\xed\xa0\x80"'))
    write(t, "nul_inside", envelope({"order_id": O}).replace("INVENTORY", "INV\x00ENTORY"))
    write(t, "escaped_nul", envelope({"order_id": O, "reason": "X"}).replace('"X"', '"\\u0000"'))
    write(t, "huge_reason", envelope({"order_id": O, "reason": "r" * 5000}))
    write(t, "huge_number", envelope({"order_id": O, "n": 1}).replace('"n": 1', '"n": 1' + "0" * 400))
    write(t, "deep_nesting", '{"x":' + "[" * 5000 + "]" * 5000 + "}")
    write(t, "deep_payload", envelope({"order_id": O}).replace('"payload": {', '"payload": {"d":' + "[" * 3000 + "]" * 3000 + ","))
    write(t, "10k_items", envelope({"order_id": O, "items": [0] * 10000}))
    write(t, "missing_payload", json.dumps({"event_id": "6f1c9d2e-1b2a-4c3d-9e8f-0a1b2c3d4e5f", "event_type": "X"}))
    write(t, "payload_array", envelope([O]))
    write(t, "order_id_number", envelope({"order_id": 5}))
    write(t, "bad_order_id", envelope({"order_id": O[:-1] + "g"}))
    write(t, "empty_type", envelope({"order_id": O}, event_type=""))
    write(t, "duplicate_keys", envelope({"order_id": O}).replace('{"event_id"', '{"event_id": "x", "event_id"'))
    write(t, "not_json", "not json")
    write(t, "empty", "")
    write(t, "array", "[]")
    write(t, "rfc3339_plain", "2026-01-01T00:00:00Z")
    write(t, "rfc3339_fraction", "2026-06-30t12:34:56.789012+05:45")
    write(t, "rfc3339_space", "1999-12-31 23:59:59-00:00")


def routes():
    t = "routes"
    for name, s in [("create", "POST\n/api/v1/orders"), ("create_alias", "POST\n/api/v1/orders/order"),
                    ("list", "GET\n/api/v1/orders?user_id=" + U + "&limit=5"),
                    ("get", "GET\n/api/v1/orders/" + O), ("get_upper", "GET\n/api/v1/orders/" + O.upper()),
                    ("cancel", "POST\n/api/v1/orders/" + O + "/cancel"),
                    ("cancel_get", "GET\n/api/v1/orders/" + O + "/cancel"),
                    ("delete", "DELETE\n/api/v1/orders/" + O), ("healthz", "GET\n/healthz"),
                    ("readyz", "GET\n/readyz/"), ("metrics", "GET\n//metrics?x"),
                    ("metrics_post", "POST\n/metrics"), ("unknown", "GET\n/api/v2/orders"),
                    ("dotdot", "GET\n/api/v1/orders/../orders/" + O), ("encoded_slash", "GET\n/api/v1/orders/a%2Fb"),
                    ("bad_id", "GET\n/api/v1/orders/" + O[:-1] + "g"), ("long_id", "GET\n/api/v1/orders/" + O + "0"),
                    ("nul_id", "GET\n/api/v1/orders/" + O[:10] + "\x00" + O[11:]),
                    ("many_slashes", "GET\n" + "/" * 5000 + "api/v1/orders"),
                    ("many_segments", "GET\n" + "/a" * 5000), ("empty", ""), ("no_method", "/healthz"),
                    ("query_only", "GET\n?user_id=1"), ("extra_segment", "POST\n/api/v1/orders/" + O + "/cancel/x"),
                    ("list_query", "GET\n/api/v1/orders\n" + U + "\n20\n0"),
                    ("list_query_upper", "GET\n/api/v1/orders\n" + U.upper() + "\n100\n999999999"),
                    ("list_limit_0", "GET\n/\n" + U + "\n0\n0"), ("list_limit_101", "GET\n/\n" + U + "\n101"),
                    ("list_negative", "GET\n/\n" + U + "\n-1\n-0"),
                    ("list_huge", "GET\n/\n" + U + "\n" + "9" * 400 + "\n" + "9" * 400),
                    ("list_leading_zeros", "GET\n/\n" + U + "\n" + "0" * 50 + "7\n00000000001000000000"),
                    ("list_offset_limit", "GET\n/\n" + U + "\n1\n999999999"),
                    ("list_plus", "GET\n/\n" + U + "\n+5\n 1"), ("list_empty", "GET\n/\n" + U + "\n\n"),
                    ("list_bad_uuid", "GET\n/\nnot-a-uuid"), ("list_only_minus", "GET\n/\n" + U + "\n-\n-"),
                    # Whole request lines for scan_foreign_method (the input as bytes buffered).
                    ("line_query", "QUERY /api/v1/orders?user_id=" + U + " HTTP/1.1\r\nHost: x\r\n\r\n"),
                    ("line_brew", "BREW /healthz HTTP/1.0\n\n"), ("line_partial", "QUERY /api/v1/ord"),
                    ("line_get", "GET /healthz HTTP/1.1\r\n"), ("line_not_token", "BR(W /healthz HTTP/1.1\r\n")]:
        write(t, name, s)


if __name__ == "__main__":
    create()
    money()
    events()
    routes()
