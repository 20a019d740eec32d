#include "http/http_bridge.hpp"

#include "http/reply_sink.hpp"
#include "messages/clock.hpp"

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_execution_unit.hpp>

namespace flashsale {

namespace {

http_reply infrastructure_failure(const caf::error&) {
  return error_reply({error_code::unavailable, "the service is overloaded, retry later"});
}

http_reply order_answer(const order_reply& r) {
  if (!r.ok)
    return error_reply(r.error);
  return {200, order_response_json(r.value), {}};
}

http_reply create_answer(const create_outcome& out) {
  switch (out.status) {
    case create_status::created:
    case create_status::replayed: {
      http_reply r{201, order_response_json(out.stored), {}};
      r.headers.emplace_back("Location", "/api/v1/orders/" + out.stored.id);
      if (out.status == create_status::replayed)
        r.headers.emplace_back("Idempotent-Replayed", "true");
      return r;
    }
    case create_status::key_reused:
      return error_reply({error_code::idempotency_key_reused,
                          "this idempotency key was used with a different request body"});
    case create_status::failed:
    case create_status::fenced: // 503: nothing committed, a retry lands on an owner
      break;
  }
  return error_reply(out.error);
}

http_reply list_answer(const list_reply& r) {
  if (!r.ok)
    return error_reply(r.error);
  return {200, order_list_response_json(r.orders), {}};
}

/// Asks `target` and sends what `answer` makes of the reply through the sink; 503 when
/// no reply came within `timeout` (a std::chrono duration, or caf::infinite).
template <class Reply, class Target, class Answer, class Timeout, class... Ts>
void ask(caf::event_based_actor* self, const Target& target, Timeout timeout,
         reply_sink_ptr sink, Answer answer, Ts&&... xs) {
  self->request(target, timeout, std::forward<Ts>(xs)...)
    .then([sink, answer](Reply& r) { sink->send(answer(r)); },
          [sink](caf::error& err) { sink->send(infrastructure_failure(err)); });
}

caf::behavior bridge(caf::event_based_actor* self, bridge_targets t) {
  return {
    [=](create_atom a, create_command& cmd, reply_sink_ptr& sink) {
      auto budget = t.timeout > 2 * t.commit_margin ? t.timeout - t.commit_margin : t.timeout / 2;
      cmd.commit_by_ms = unix_now_ms() + budget.count();
      // No timer of our own: a 503 sent while the writer may still commit would be a lie
      // (CONTRACT §3). The writer answers every create, bounded by the deadline above and
      // its database call bound, with what it knows of the commit.
      ask<create_outcome>(self, t.writers, caf::infinite, std::move(sink), create_answer, a,
                          std::move(cmd));
    },
    [=](fetch_atom a, std::string& id, std::string& caller, reply_sink_ptr& sink) {
      auto answer = [caller](const order_reply& r) {
        if (r.ok)
          if (auto owner = ownership_error(caller, r.value.user_id))
            return error_reply(*owner);
        return order_answer(r);
      };
      ask<order_reply>(self, t.orders, t.timeout, std::move(sink), answer, a, std::move(id));
    },
    [=](cancel_atom a, std::string& id, std::string& reason, std::string& user_id,
        std::string& traceparent, reply_sink_ptr& sink) {
      ask<order_reply>(self, t.orders, t.timeout, std::move(sink), order_answer, a,
                       std::move(id), std::move(reason), std::move(user_id),
                       std::move(traceparent));
    },
    [=](list_atom a, list_query& q, reply_sink_ptr& sink) {
      ask<list_reply>(self, t.readers, t.timeout, std::move(sink), list_answer, a,
                      std::move(q));
    },
  };
}

} // namespace

caf::actor spawn_http_bridge(caf::actor_system& sys, bridge_targets targets, std::size_t count) {
  caf::scoped_execution_unit context{&sys};
  return caf::actor_pool::make(
    &context, count, [&sys, targets] { return sys.spawn(bridge, targets); },
    caf::actor_pool::round_robin());
}

} // namespace flashsale
