// kafkajs_inventory.js: the Inventory service of test_kafka_kafkajs.sh, written with
// kafkajs, a Kafka client that shares no code with librdkafka. It reads order.v1.events
// in a consumer group of its own and answers every ORDER_CREATED with an
// INVENTORY_RESERVED (the envelope of docs/API.md) on inventory.v1.events, sent by an
// idempotent producer. One JSON object a line on stdout says what it did.
//
// Environment: KAFKA_BROKERS (host:port,…), INVENTORY_GROUP (its consumer group),
// INVENTORY_USER_ID (only that user's orders: the broker may be shared by other tests).
'use strict';

const crypto = require('crypto');
const { Kafka, Partitioners, logLevel } = require('kafkajs');

const brokers = (process.env.KAFKA_BROKERS || '').split(',').filter(Boolean);
const group = process.env.INVENTORY_GROUP || 'kafkajs-inventory';
const onlyUser = process.env.INVENTORY_USER_ID || '';

const say = (what) => process.stdout.write(`${JSON.stringify(what)}\n`);

const kafka = new Kafka({ clientId: 'kafkajs-inventory', brokers, logLevel: logLevel.WARN });
// Idempotence in kafkajs needs acks=-1 on every send and one request in flight. The
// partitioner is the Java client's murmur2, as the order service's (murmur2_random).
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
});
const consumer = kafka.consumer({ groupId: group });
const answered = new Map(); // ORDER_CREATED event_id -> our INVENTORY_RESERVED event_id

function reservation(created, eventId) {
  const now = Date.now();
  return {
    event_id: eventId,
    event_type: 'INVENTORY_RESERVED',
    occurred_at: new Date(now).toISOString(),
    schema_version: 1,
    payload: {
      order_id: created.payload.order_id,
      items: created.payload.items.map((i) => ({ item_id: i.sku_id, quantity: i.quantity })),
      reservation_expires_at: new Date(now + 15 * 60 * 1000).toISOString(),
    },
  };
}

async function handle({ partition, message }) {
  let event;
  try {
    event = JSON.parse(message.value.toString());
  } catch (e) {
    if (!onlyUser) say({ msg: 'not_json', partition, offset: message.offset });
    return; // with onlyUser: another producer's message on the shared broker
  }
  // Only this user's orders are judged: other tests write their own rows to the topic
  // (e.g. test_db_blackhole's outbox rows inserted with psql).
  if (onlyUser && !(event.payload && event.payload.user_id === onlyUser)) return;
  const header = message.headers && message.headers.event_type ? message.headers.event_type.toString() : '';
  if (header !== event.event_type) {
    say({ msg: 'header_mismatch', partition, offset: message.offset, header, event_type: event.event_type });
  }
  if (event.event_type !== 'ORDER_CREATED' || !event.payload) return;
  const key = message.key ? message.key.toString() : '';
  if (key !== event.payload.order_id) say({ msg: 'key_mismatch', key, order_id: event.payload.order_id });
  // At least once in: a redelivered ORDER_CREATED gets the same answer (same event_id).
  const again = answered.has(event.event_id);
  const out = reservation(event, again ? answered.get(event.event_id) : crypto.randomUUID());
  try {
    await producer.send({
      topic: 'inventory.v1.events',
      acks: -1,
      messages: [{ key: out.payload.order_id, value: JSON.stringify(out), headers: { event_type: out.event_type } }],
    });
  } catch (e) {
    say({ msg: 'send_failed', error: `${e.name}: ${e.message}` });
    throw e; // kafkajs retries the message; its offset is not committed
  }
  answered.set(event.event_id, out.event_id);
  say({ msg: again ? 'reserved_again' : 'reserved', order_id: out.payload.order_id, event_id: out.event_id });
}

async function main() {
  consumer.on(consumer.events.GROUP_JOIN, (e) => say({ msg: 'joined', member: e.payload.memberId }));
  consumer.on(consumer.events.CRASH, (e) => say({ msg: 'crash', error: `${e.payload.error.name}: ${e.payload.error.message}` }));
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: 'order.v1.events', fromBeginning: true });
  await consumer.run({ eachMessage: handle });
}

async function stop() {
  await consumer.disconnect().catch(() => {});
  await producer.disconnect().catch(() => {});
  say({ msg: 'stopped' });
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

main().catch((e) => {
  say({ msg: 'failed', error: `${e.name}: ${e.message}` });
  process.exit(1);
});
