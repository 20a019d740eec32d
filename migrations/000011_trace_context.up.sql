-- The W3C traceparent of each outgoing event (CONTRACT §3, §5): our span in the trace of
-- the request or incoming event that caused it, sent by the relay as the event's
-- traceparent header. Nullable without a default, so adding it rewrites nothing (a
-- catalog change only) and rows written before it simply carry no traceparent. It is
-- stored inline (55 bytes): the relay's claim returns it with the envelope.
ALTER TABLE outbox_events ADD COLUMN traceparent text;
