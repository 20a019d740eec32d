#include "actors/saga/held_dlq.hpp"

#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "actors/saga/saga_pipeline.hpp"
#include "kafka/dlq_writer.hpp"
#include "metrics/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <memory>
#include <unordered_map>

namespace flashsale {

namespace {

using held_poll_atom = caf::atom_constant<caf::atom("fs_hpoll")>;

struct held_dlq_state {
  held_dlq_settings cfg;
  std::unique_ptr<kafka::dlq_writer> writer;
  std::unordered_map<std::uint64_t, caf::response_promise> out; // by the writer's token
  counter* copied = nullptr;
  counter* lost = nullptr;
  bool polling = false;
  static inline const char* name = "held_dlq";
};

using held_dlq_actor = caf::stateful_actor<held_dlq_state>;

void answer(held_dlq_state& st, std::uint64_t token, bool delivered) {
  auto i = st.out.find(token);
  if (i == st.out.end())
    return;
  i->second.deliver(delivered);
  st.out.erase(i);
}

bool ensure_writer(held_dlq_state& st) {
  if (st.writer)
    return true;
  kafka::dlq_handlers h;
  h.delivered = [&st](std::uint64_t token, bool) {
    st.copied->inc();
    answer(st, token, true);
  };
  h.lost = [&st](std::uint64_t token, const std::string& error) {
    log::error("held saga event not copied to the DLQ", {{"error", error}});
    st.lost->inc();
    answer(st, token, false);
  };
  h.failed = [](const std::string& e) { log::warn("held events' DLQ", {{"error", e}}); };
  std::string error;
  st.writer = kafka::dlq_writer::create(st.cfg.kafka_brokers, topics::order_dlq, std::move(h),
                                        error);
  if (!st.writer)
    log::error("held events' DLQ producer cannot be created", {{"error", error}});
  return st.writer != nullptr;
}

/// The copy is made from the held body, with the topic its type comes on and no
/// partition or offset (-1), plus header `held_in=early_events`; the body keeps the
/// traceparent of the span when the event came (events.cpp).
kafka::consumed_message held_copy(const std::string& order_id, const std::string& event_type,
                                  const std::string& body, std::string& traceparent) {
  kafka::consumed_message m;
  m.topic =
    event_type.rfind("PAYMENT_", 0) == 0 ? topics::payment_events : topics::inventory_events;
  m.key = order_id;
  m.value = body;
  m.headers = {{"event_type", event_type}, {"held_in", "early_events"}};
  auto decoded = decode_incoming(body);
  if (auto* held = std::get_if<incoming_event>(&decoded))
    traceparent = held->traceparent;
  if (!traceparent.empty())
    m.headers.push_back({"traceparent", traceparent});
  return m;
}

void poll_soon(held_dlq_actor* self) {
  auto& st = self->state;
  if (st.polling || st.out.empty())
    return;
  st.polling = true;
  self->delayed_send(self, st.cfg.poll_every, held_poll_atom::value);
}

caf::behavior held_dlq(held_dlq_actor* self, held_dlq_settings cfg, counter* copied,
                       counter* lost) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.copied = copied;
  st.lost = lost;
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.writer)
      st.writer->flush(st.cfg.shutdown_grace);
    for (auto& [token, rp] : st.out)
      rp.deliver(false); // the copy may still arrive: the next replay makes another
    st.out.clear();
    self->quit(msg.reason);
  });
  return {
    [self](dlq_atom, const std::string& order_id, const std::string& event_id,
           const std::string& event_type, const std::string& body) -> caf::result<bool> {
      auto& st = self->state;
      if (!ensure_writer(st))
        return false;
      std::string traceparent;
      auto m = held_copy(order_id, event_type, body, traceparent);
      log::warn("held saga event to DLQ", {{"order_id", order_id},
                                           {"event_id", event_id},
                                           {"reason", rejected_dlq_reason},
                                           log::trace_field(traceparent)});
      auto rp = self->make_response_promise();
      st.out.emplace(st.writer->write(m, rejected_dlq_reason), rp);
      st.writer->poll();
      st.writer->pump();
      poll_soon(self);
      return rp;
    },
    [self](held_poll_atom) {
      auto& st = self->state;
      st.polling = false;
      if (st.writer) {
        st.writer->poll();
        st.writer->pump();
      }
      poll_soon(self);
    },
  };
}

} // namespace

caf::actor spawn_held_dlq(caf::actor_system& sys, held_dlq_settings settings,
                          metrics_registry& metrics) {
  auto& copied = metrics.get_counter(
    "saga_held_events_dlq_total",
    "Held saga events the database rejected at replay, copied to order.v1.dlq");
  auto& lost = metrics.get_counter(
    "saga_held_events_dlq_lost_total",
    "Held saga events order.v1.dlq refused for good (the row stays in early_events)");
  return sys.spawn<caf::detached>(held_dlq, std::move(settings), &copied, &lost);
}

} // namespace flashsale
