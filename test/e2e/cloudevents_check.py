"""Reads Kafka messages as `kcat -J` prints them (one JSON object a line) on stdin and
checks each one whose key is among the arguments with the CloudEvents Python SDK's Kafka
protocol binding (binary mode), against CONTRACT §5: ce_specversion 1.0, ce_id =
event_id, ce_type = event_type, ce_source /flashsale/order-service, ce_time =
occurred_at, ce_subject = the order id, content-type application/json, and the value
(the data) our envelope. Prints one line per message checked; exits 1 on any mismatch
or when no message was checked."""

import json
import sys

from dateutil.parser import isoparse

from cloudevents.core.bindings import kafka

wanted = set(sys.argv[1:])
checked, failures = 0, []

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    m = json.loads(line)
    if m.get("key") not in wanted:
        continue
    h = m.get("headers") or []
    headers = {h[i]: (h[i + 1] or "").encode() for i in range(0, len(h), 2)}
    message = kafka.KafkaMessage(headers=headers, key=m["key"].encode(),
                                 value=m["payload"].encode())
    event = kafka.from_binary_event(message)  # raises when it is no valid CloudEvent
    envelope = json.loads(m["payload"])
    a = event.get_attributes()
    expect = {
        "specversion": "1.0",
        "id": envelope["event_id"],
        "type": envelope["event_type"],
        "source": "/flashsale/order-service",
        "time": isoparse(envelope["occurred_at"]),
        "subject": m["key"],
        "datacontenttype": "application/json",
    }
    for name, value in expect.items():
        if a.get(name) != value:
            failures.append(f"{m['key']} {envelope['event_type']}: {name} is "
                            f"{a.get(name)!r}, expected {value!r}")
    if event.get_data() != envelope:
        failures.append(f"{m['key']} {envelope['event_type']}: data is not the envelope")
    if headers.get("event_type", b"").decode() != envelope["event_type"]:
        failures.append(f"{m['key']} {envelope['event_type']}: header event_type differs")
    checked += 1
    print(f"cloudevent ok: {envelope['event_type']} id={a['id']} time={a['time'].isoformat()}")

for f in failures:
    print("FAIL: " + f, file=sys.stderr)
if checked == 0:
    print("FAIL: no message of the given orders", file=sys.stderr)
sys.exit(1 if failures or checked == 0 else 0)
