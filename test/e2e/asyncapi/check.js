// docs/asyncapi.yaml, read by @asyncapi/parser, as the judge of real messages (ajv):
//
//   node check.js DOC examples          validates the document (no errors), every example
//                                       against its message, every x-counter-examples
//                                       value against IncomingEnvelope (must fail); prints
//                                       one JSON line per example and counter-example
//   node check.js DOC messages < FILE   validates kcat -J lines (order.v1.events and
//                                       order.v1.dlq) against their message; prints a
//                                       summary object; exit 1 on any invalid message
'use strict';
const fs = require('fs');
const { Parser } = require('@asyncapi/parser');
const Ajv = require('ajv');
const addFormats = require('ajv-formats');

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const compiled = new Map();
function validator(schema) {
  if (!compiled.has(schema)) compiled.set(schema, ajv.compile(schema));
  return compiled.get(schema);
}
function problems(schema, value) {
  const v = validator(schema);
  return v(value) ? [] : v.errors.map((e) => `${e.instancePath || '/'} ${e.message}`);
}

async function load(path) {
  const { document, diagnostics } = await new Parser().parse(fs.readFileSync(path, 'utf8'));
  const errors = diagnostics.filter((d) => d.severity === 0);
  for (const d of errors) console.error(`asyncapi: ${d.message} at ${JSON.stringify(d.path)}`);
  if (!document || errors.length) process.exit(1);
  const byTopic = new Map();
  for (const ch of document.channels()) {
    const messages = new Map();
    for (const m of ch.messages()) {
      const kafka = m.bindings().get('kafka');
      messages.set(m.name(), {
        name: m.name(),
        payload: m.payload().json(),
        headers: m.hasHeaders() ? m.headers().json() : null,
        key: kafka && kafka.value().key ? kafka.value().key : null,
        examples: m.examples().all().map((e) => ({ payload: e.payload(), headers: e.headers() })),
      });
    }
    byTopic.set(ch.address(), messages);
  }
  const envelope = document.components().schemas().get('IncomingEnvelope').json();
  const counter = document.extensions().get('x-counter-examples').value();
  return { byTopic, envelope, counter };
}

function examples(doc) {
  let bad = 0;
  for (const [topic, messages] of doc.byTopic)
    for (const m of messages.values())
      for (const e of m.examples) {
        const isDlq = topic === 'order.v1.dlq';
        const p = problems(m.payload, e.payload).concat(e.headers && m.headers ? problems(m.headers, e.headers) : []);
        if (p.length) { bad++; console.error(`example of ${m.name} invalid: ${p.join('; ')}`); }
        const value = isDlq ? e.payload : JSON.stringify(e.payload);
        console.log(JSON.stringify({ kind: 'example', topic, message: m.name, value }));
      }
  for (const c of doc.counter) {
    let parsed;
    try { parsed = JSON.parse(c.value); } catch (_) { parsed = c.value; }
    if (problems(doc.envelope, parsed).length === 0) {
      bad++;
      console.error(`counter-example "${c.name}" is valid against IncomingEnvelope`);
    }
    console.log(JSON.stringify({ kind: 'counter', name: c.name, dlq_reason: c.dlq_reason, value: c.value }));
  }
  return bad === 0;
}

function headersOf(record) {
  const out = {};
  const h = record.headers || [];
  for (let i = 0; i + 1 < h.length; i += 2) out[h[i]] = h[i + 1];
  return out;
}

function messages(doc, lines) {
  const summary = { checked: 0, invalid: 0, by_type: {}, headers_checked: 0, headers_absent: 0, errors: [] };
  const fail = (what) => { summary.invalid++; if (summary.errors.length < 20) summary.errors.push(what); };
  for (const line of lines) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    const messagesOf = doc.byTopic.get(r.topic);
    if (!messagesOf) { fail(`${r.topic}: no such channel`); continue; }
    const headers = headersOf(r);
    summary.checked++;
    const where = `${r.topic}[${r.partition}]@${r.offset}`;
    let m;
    let value;
    if (r.topic === 'order.v1.dlq') {
      m = messagesOf.get('DEAD_LETTER');
      value = r.payload;
    } else {
      try { value = JSON.parse(r.payload); } catch (_) { fail(`${where}: not JSON`); continue; }
      m = messagesOf.get(value.event_type);
      if (!m) { fail(`${where}: event_type ${value.event_type} not in the channel`); continue; }
    }
    summary.by_type[m.name] = (summary.by_type[m.name] || 0) + 1;
    for (const p of problems(m.payload, value)) fail(`${where} ${m.name} payload: ${p}`);
    if (m.key && r.topic !== 'order.v1.dlq') for (const p of problems(m.key, r.key)) fail(`${where} key: ${p}`);
    // The CloudEvents and trace headers come with another branch (h-trace): until every
    // produced message has them, messages without ce_specversion are checked for
    // event_type only.
    if (m.headers && (r.topic === 'order.v1.dlq' || 'ce_specversion' in headers)) {
      summary.headers_checked++;
      for (const p of problems(m.headers, headers)) fail(`${where} ${m.name} headers: ${p}`);
    } else {
      summary.headers_absent++;
    }
    if (r.topic !== 'order.v1.dlq' && headers.event_type !== value.event_type)
      fail(`${where}: header event_type ${headers.event_type} != ${value.event_type}`);
  }
  console.log(JSON.stringify(summary));
  return summary.invalid === 0;
}

(async () => {
  const [path, mode] = process.argv.slice(2);
  const doc = await load(path);
  const ok = mode === 'examples' ? examples(doc)
    : messages(doc, fs.readFileSync(0, 'utf8').split('\n'));
  process.exit(ok ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(2); });
