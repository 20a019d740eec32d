"""Schemathesis hooks for test_schemathesis.sh (SCHEMATHESIS_HOOKS names this file).

A create is valid only when total_amount equals the sum of quantity x price over its
items, which JSON Schema cannot say; random valid-by-schema bodies would almost all be
refused with 400 VALIDATION_FAILED and no 201 would ever be tested. For the cases that
Schemathesis generated as valid (positive mode), this sets every price to its value
with two decimals (a generated float such as 0.5700000000000001 becomes 0.57, at least
0.01), scales prices and quantities down when their sum would pass the maximum amount,
and sets total_amount to the exact sum, so that they are orders the service takes.
Negative cases are left as generated.
"""

from decimal import Decimal, ROUND_DOWN

import schemathesis
from schemathesis import GenerationMode

CREATE_PATHS = {"/api/v1/orders", "/api/v1/orders/order"}
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 13


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _two_decimals(value):
    return Decimal(repr(value)).quantize(CENT, rounding=ROUND_DOWN)


def _as_json_number(amount):
    # An int when whole, else a float whose shortest repr is the two-decimal text.
    return int(amount) if amount == amount.to_integral_value() else float(amount)


@schemathesis.hook
def map_case(ctx, case):
    meta = case.meta
    if (
        case.method.upper() != "POST"
        or case.path not in CREATE_PATHS
        or meta is None
        or meta.generation.mode != GenerationMode.POSITIVE
    ):
        return case
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        return case
    items = body["items"]
    if not items or not all(
        isinstance(i, dict) and _number(i.get("price")) and isinstance(i.get("quantity"), int)
        for i in items
    ):
        return case
    prices = [max(_two_decimals(item["price"]), CENT) for item in items]
    quantities = [item["quantity"] for item in items]
    if not all(1 <= q <= 10000 for q in quantities):
        return case
    total = sum(p * q for p, q in zip(prices, quantities))
    if total > MAX_AMOUNT:  # each within its bounds, the sum is not: scale down
        cap = (MAX_AMOUNT / len(items)).quantize(CENT, rounding=ROUND_DOWN)
        prices = [min(p, cap) for p in prices]
        quantities = [1] * len(items)
        total = sum(prices)
    for item, price, quantity in zip(items, prices, quantities):
        item["price"] = _as_json_number(price)
        item["quantity"] = quantity
    body["total_amount"] = _as_json_number(total)
    case.body = body
    return case
