// The order actor's decisions (actors/order/order_decisions): every (status, trigger)
// pair, the write outcomes, held events and the replies, without actors or a database.
#include "actors/order/order_decisions.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>
#include <variant>
#include <string>
#include <vector>

using namespace flashsale;

namespace {

const std::string order_id = "0b7f3c5e-8d2a-4f61-9c3e-1a2b3c4d5e6f";
const std::string owner = "1c8a4d6f-9e3b-4a72-8d4f-2b3c4d5e6f70";
const std::string stranger = "2d9b5e70-af4c-4b83-9e50-3c4d5e6f7081";
// Event ids are UUIDs, or a held event's text would not decode.
const std::string event_1 = "00000000-0000-4000-8000-000000000001";
const std::string event_2 = "00000000-0000-4000-8000-000000000002";
const std::string held_1 = "00000000-0000-4000-8000-000000000011";
const std::string held_2 = "00000000-0000-4000-8000-000000000012";
const std::string held_3 = "00000000-0000-4000-8000-000000000013";
const std::string held_9 = "00000000-0000-4000-8000-000000000019";
constexpr std::int64_t now_ms = 1'800'000'000'500; // half a second past a whole second
constexpr std::int64_t now_s = now_ms / 1000;

constexpr std::array<order_status, 6> all_statuses = {
  order_status::created, order_status::reserved, order_status::payment_pending,
  order_status::paid,    order_status::cancelled, order_status::expired};

order sample(order_status s, std::optional<std::int64_t> deadline = now_s + 60) {
  order o;
  o.id = order_id;
  o.user_id = owner;
  o.status = s;
  o.currency = "EUR";
  o.total_amount = 1000;
  o.items = {{"sku-1", 1, 1000}};
  o.created_at = now_s - 100;
  o.updated_at = now_s - 50;
  o.expired_at = is_terminal(s) ? std::nullopt : deadline;
  if (s == order_status::cancelled)
    o.reason = "USER_CANCEL";
  if (s == order_status::expired)
    o.reason = "RESERVATION_TTL";
  return o;
}

order_settings settings() {
  order_settings cfg;
  cfg.ttl_created = std::chrono::seconds{300};
  cfg.ttl_reserved = std::chrono::seconds{120};
  cfg.ttl_payment_pending = std::chrono::seconds{600};
  return cfg;
}

order_decisions loaded_with(const order& o, bool has_early = false) {
  order_decisions d{order_id, settings()};
  load_reply r;
  r.found = true;
  r.value = o;
  r.has_early = has_early;
  d.loaded(r);
  return d;
}

incoming_event event_of(const std::string& type, const std::string& event_id = event_1) {
  incoming_event ev;
  ev.event_id = event_id;
  ev.event_type = type;
  ev.order_id = order_id;
  ev.payment_intent_id = "pi-1";
  ev.occurred_at_ms = now_ms;
  return ev;
}

write_outcome outcome(write_status s, error_code code = error_code::internal_error) {
  write_outcome out;
  out.status = s;
  out.error = {code, "x"};
  return out;
}

/// What an event does in a status, written out independently of the code under test.
struct expected_step {
  const char* type;
  order_status from;
  saga_step step;
  order_status to;      // for apply
  const char* reason;   // for apply, the new reason
  const char* emits;    // for apply and reject, the outgoing event type ("" none)
};

std::vector<expected_step> event_table() {
  using s = order_status;
  std::vector<expected_step> t;
  auto ignore_elsewhere = [&](const char* type, std::vector<s> handled) {
    for (auto from : all_statuses)
      if (std::find(handled.begin(), handled.end(), from) == handled.end())
        t.push_back({type, from, saga_step::ignore, from, "", ""});
  };
  t.push_back({"INVENTORY_RESERVED", s::created, saga_step::apply, s::reserved, "", ""});
  ignore_elsewhere("INVENTORY_RESERVED", {s::created});
  t.push_back({"INVENTORY_RESERVATION_FAILED", s::created, saga_step::apply, s::cancelled,
               "STOCK_EXHAUSTED", "ORDER_CANCELLED"});
  ignore_elsewhere("INVENTORY_RESERVATION_FAILED", {s::created});
  ignore_elsewhere("INVENTORY_RELEASED", {});
  t.push_back({"PAYMENT_INTENT_CREATED", s::created, saga_step::hold, s::created, "", ""});
  t.push_back({"PAYMENT_INTENT_CREATED", s::reserved, saga_step::apply, s::payment_pending, "",
               ""});
  ignore_elsewhere("PAYMENT_INTENT_CREATED", {s::created, s::reserved});
  t.push_back({"PAYMENT_SUCCEEDED", s::created, saga_step::hold, s::created, "", ""});
  t.push_back({"PAYMENT_SUCCEEDED", s::reserved, saga_step::hold, s::reserved, "", ""});
  t.push_back({"PAYMENT_SUCCEEDED", s::payment_pending, saga_step::apply, s::paid, "",
               "ORDER_PAID"});
  t.push_back({"PAYMENT_SUCCEEDED", s::cancelled, saga_step::reject, s::cancelled, "",
               "ORDER_PAYMENT_REJECTED"});
  t.push_back({"PAYMENT_SUCCEEDED", s::expired, saga_step::reject, s::expired, "",
               "ORDER_PAYMENT_REJECTED"});
  t.push_back({"PAYMENT_SUCCEEDED", s::paid, saga_step::ignore, s::paid, "", ""});
  t.push_back({"PAYMENT_FAILED", s::created, saga_step::hold, s::created, "", ""});
  t.push_back({"PAYMENT_FAILED", s::reserved, saga_step::hold, s::reserved, "", ""});
  t.push_back({"PAYMENT_FAILED", s::payment_pending, saga_step::apply, s::cancelled,
               "PAYMENT_FAILED", "ORDER_CANCELLED"});
  ignore_elsewhere("PAYMENT_FAILED", {s::created, s::reserved, s::payment_pending});
  return t;
}

std::optional<std::int64_t> ttl_deadline(order_status s) {
  switch (s) {
    case order_status::created:
      return now_s + 300;
    case order_status::reserved:
      return now_s + 120;
    case order_status::payment_pending:
      return now_s + 600;
    default:
      return std::nullopt;
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(order_decisions_suite)

// -- events: every (status, event type) pair -----------------------------------------

BOOST_AUTO_TEST_CASE(every_status_and_event_type_gets_its_reply_or_write) {
  auto table = event_table();
  BOOST_TEST(table.size() == 36u); // 6 statuses x 6 event types, each once
  for (const auto& row : table) {
    BOOST_TEST_CONTEXT(row.type << " in " << to_string(row.from)) {
      auto o = sample(row.from);
      auto d = loaded_with(o);
      auto ev = event_of(row.type);
      auto dec = d.event(ev, now_ms);
      if (row.step == saga_step::ignore) {
        BOOST_REQUIRE(dec.reply.has_value());
        BOOST_TEST(!dec.write.has_value());
        BOOST_TEST((dec.reply->status == event_status::ignored));
        BOOST_TEST((dec.reply->current == row.from));
        continue;
      }
      BOOST_REQUIRE(!dec.reply.has_value());
      BOOST_REQUIRE(dec.write.has_value());
      BOOST_TEST((dec.step == row.step));
      const auto& w = *dec.write;
      BOOST_TEST(w.order_id == order_id);
      BOOST_TEST((w.expected == row.from));
      BOOST_TEST((w.next == row.to));
      BOOST_TEST(w.inbox_event_id == ev.event_id);
      BOOST_TEST(w.inbox_event_type == ev.event_type);
      BOOST_TEST(w.release_event_id.empty());
      BOOST_TEST(w.now_ms == now_ms);
      BOOST_TEST(w.hold_body.empty() == (row.step != saga_step::hold));
      BOOST_TEST((w.event ? w.event->event_type : std::string{}) == row.emits);
      if (row.step == saga_step::apply) {
        BOOST_TEST(w.reason == row.reason);
        BOOST_TEST((w.deadline == ttl_deadline(row.to)));
      } else { // hold, reject: the row as it is
        BOOST_TEST(w.reason == o.reason);
        BOOST_TEST((w.deadline == o.expired_at));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_held_event_keeps_its_text_for_the_replay) {
  auto d = loaded_with(sample(order_status::created));
  auto ev = event_of("PAYMENT_SUCCEEDED");
  auto dec = d.event(ev, now_ms);
  BOOST_REQUIRE(dec.write.has_value());
  auto back = decode_incoming(dec.write->hold_body);
  BOOST_REQUIRE(std::holds_alternative<incoming_event>(back));
  BOOST_TEST(std::get<incoming_event>(back).event_id == ev.event_id);
}

BOOST_AUTO_TEST_CASE(an_event_for_an_order_not_loaded_is_not_found_or_failed) {
  order_decisions missing{order_id, settings()};
  missing.loaded(load_reply{}); // not found
  BOOST_TEST((missing.event(event_of("INVENTORY_RESERVED"), now_ms).reply->status
              == event_status::not_found));
  order_decisions down{order_id, settings()};
  load_reply failed;
  failed.failed = true;
  failed.error = {error_code::unavailable, "database unavailable"};
  down.loaded(failed);
  BOOST_TEST((down.event(event_of("INVENTORY_RESERVED"), now_ms).reply->status
              == event_status::failed));
  order_decisions silent{order_id, settings()};
  silent.load_unanswered();
  BOOST_TEST((silent.event(event_of("INVENTORY_RESERVED"), now_ms).reply->status
              == event_status::failed));
  BOOST_TEST((silent.expire(now_ms).reply->status == event_status::failed));
  BOOST_TEST((silent.fetch().error.code == error_code::unavailable));
  BOOST_TEST((missing.fetch().error.code == error_code::order_not_found));
  BOOST_TEST(missing.empty());
}

BOOST_AUTO_TEST_CASE(an_event_s_write_ends_in_its_reply) {
  auto d = loaded_with(sample(order_status::payment_pending));
  auto status_after = [&](commit_end end, saga_step step) {
    return d.event_finished(end, step).status;
  };
  BOOST_TEST((status_after(commit_end::applied, saga_step::apply) == event_status::applied));
  BOOST_TEST((status_after(commit_end::applied, saga_step::reject)
              == event_status::payment_rejected));
  BOOST_TEST((status_after(commit_end::duplicate, saga_step::apply) == event_status::duplicate));
  BOOST_TEST((status_after(commit_end::not_found, saga_step::apply) == event_status::not_found));
  BOOST_TEST((status_after(commit_end::failed, saga_step::apply) == event_status::failed));
  BOOST_TEST((status_after(commit_end::rejected, saga_step::apply) == event_status::rejected));
  BOOST_TEST((d.event_finished(commit_end::applied, saga_step::apply).current
              == order_status::payment_pending));
}

// -- cancel -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(cancel_in_every_status) {
  for (auto from : all_statuses) {
    BOOST_TEST_CONTEXT("cancel in " << to_string(from)) {
      auto o = sample(from);
      auto d = loaded_with(o);
      auto dec = d.cancel("USER_CANCEL", owner, now_ms);
      switch (from) {
        case order_status::created:
        case order_status::reserved:
        case order_status::payment_pending:
          BOOST_REQUIRE(dec.write.has_value());
          BOOST_TEST(!dec.reply.has_value());
          BOOST_TEST((dec.write->expected == from));
          BOOST_TEST((dec.write->next == order_status::cancelled));
          BOOST_TEST(dec.write->reason == "USER_CANCEL");
          BOOST_TEST(!dec.write->deadline.has_value());
          BOOST_REQUIRE(dec.write->event.has_value());
          BOOST_TEST(dec.write->event->event_type == "ORDER_CANCELLED");
          BOOST_TEST(dec.write->inbox_event_id.empty());
          break;
        case order_status::cancelled: // again: the order as it is, 200
          BOOST_REQUIRE(dec.reply.has_value());
          BOOST_TEST(dec.reply->ok);
          BOOST_TEST(order_to_json(dec.reply->value) == order_to_json(o));
          break;
        default: // paid, expired: 409
          BOOST_REQUIRE(dec.reply.has_value());
          BOOST_TEST(!dec.reply->ok);
          BOOST_TEST((dec.reply->error.code == error_code::order_invalid_state));
          BOOST_TEST(!dec.write.has_value());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(cancel_names_its_reason_and_checks_the_owner) {
  auto d = loaded_with(sample(order_status::created));
  BOOST_TEST(d.cancel("STOCK_EXHAUSTED", "", now_ms).write->reason == "STOCK_EXHAUSTED");
  auto other = d.cancel("USER_CANCEL", stranger, now_ms);
  BOOST_REQUIRE(other.reply.has_value());
  BOOST_TEST((other.reply->error.code == error_code::forbidden));
  order_decisions missing{order_id, settings()};
  missing.loaded(load_reply{});
  BOOST_TEST((missing.cancel("USER_CANCEL", "", now_ms).reply->error.code
             == error_code::order_not_found));
}

BOOST_AUTO_TEST_CASE(a_cancel_replies_with_the_order_as_written_or_the_error) {
  auto d = loaded_with(sample(order_status::reserved));
  auto cmd = *d.cancel("USER_CANCEL", owner, now_ms).write;
  auto step = d.written(cmd, outcome(write_status::applied), 0);
  BOOST_TEST((step.end == commit_end::applied));
  auto ok = d.cancel_finished(step.end, step.error);
  BOOST_TEST(ok.ok);
  BOOST_TEST((ok.value.status == order_status::cancelled));
  BOOST_TEST(ok.value.reason == "USER_CANCEL");
  BOOST_TEST(ok.value.updated_at == now_s);
  BOOST_TEST(!ok.value.expired_at.has_value());
  for (auto end : {commit_end::failed, commit_end::rejected, commit_end::not_found}) {
    auto r = d.cancel_finished(end, {error_code::unavailable, "down"});
    BOOST_TEST(!r.ok);
    BOOST_TEST((r.error.code == error_code::unavailable));
  }
}

// -- expiry -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_due_deadline_in_every_status) {
  for (auto from : all_statuses) {
    BOOST_TEST_CONTEXT("deadline in " << to_string(from)) {
      auto d = loaded_with(sample(from, now_s - 1));
      auto dec = d.expire(now_ms);
      if (is_terminal(from)) {
        BOOST_REQUIRE(dec.reply.has_value());
        BOOST_TEST((dec.reply->status == event_status::ignored));
        continue;
      }
      BOOST_REQUIRE(dec.write.has_value());
      auto to = from == order_status::created ? order_status::cancelled : order_status::expired;
      auto reason = from == order_status::created    ? "RESERVATION_TIMEOUT"
                    : from == order_status::reserved ? "RESERVATION_TTL"
                                                     : "PAYMENT_TTL";
      BOOST_TEST((dec.write->next == to));
      BOOST_TEST(dec.write->reason == reason);
      BOOST_REQUIRE(dec.write->event.has_value());
      BOOST_TEST(dec.write->event->event_type
                 == (to == order_status::cancelled ? "ORDER_CANCELLED" : "ORDER_EXPIRED"));
      BOOST_TEST((d.expire_finished(commit_end::applied).status == event_status::applied));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_deadline_not_due_is_ignored_and_lets_held_events_act) {
  auto d = loaded_with(sample(order_status::reserved, now_s + 1));
  auto dec = d.expire(now_ms);
  BOOST_REQUIRE(dec.reply.has_value());
  BOOST_TEST((dec.reply->status == event_status::ignored));
  BOOST_TEST(dec.replay_held);
  // Exactly at the deadline it is due.
  auto at = loaded_with(sample(order_status::reserved, now_s));
  BOOST_TEST(at.expire(now_s * 1000).write.has_value());
  BOOST_TEST(!at.expire(now_s * 1000 - 1).write.has_value());
}

BOOST_AUTO_TEST_CASE(the_deadline_timer_follows_the_state) {
  auto d = loaded_with(sample(order_status::reserved, now_s + 10));
  BOOST_TEST((d.deadline_in(now_ms) == std::chrono::milliseconds{9500}));
  BOOST_TEST((d.deadline_in(now_ms + 20'000) == std::chrono::milliseconds{0}));
  BOOST_TEST(d.deadline_current(order_status::reserved));
  BOOST_TEST(!d.deadline_current(order_status::created));
  BOOST_TEST(!loaded_with(sample(order_status::paid)).deadline_in(now_ms).has_value());
}

// -- write outcomes -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_applied_transition_updates_memory_arms_and_replays) {
  auto d = loaded_with(sample(order_status::created));
  auto cmd = *d.event(event_of("INVENTORY_RESERVED"), now_ms).write;
  auto s = d.written(cmd, outcome(write_status::applied), 0);
  BOOST_TEST((s.next == commit_step::finish));
  BOOST_TEST((s.end == commit_end::applied));
  BOOST_TEST(s.arm_deadline);
  BOOST_TEST(s.replay_held);
  BOOST_TEST(!s.passivate);
  BOOST_TEST((d.current()->status == order_status::reserved));
  BOOST_TEST((d.current()->expired_at == now_s + 120));
  BOOST_TEST(d.current()->updated_at == now_s);
}

BOOST_AUTO_TEST_CASE(a_write_without_a_status_change_replays_nothing) {
  auto d = loaded_with(sample(order_status::created));
  auto cmd = *d.event(event_of("PAYMENT_SUCCEEDED"), now_ms).write; // a hold
  auto s = d.written(cmd, outcome(write_status::applied), 0);
  BOOST_TEST((s.end == commit_end::applied));
  BOOST_TEST(!s.replay_held);
  BOOST_TEST((d.current()->status == order_status::created));
  BOOST_TEST(d.current()->updated_at == now_s - 50); // no column changed, as in the row
}

BOOST_AUTO_TEST_CASE(a_stale_write_reloads_and_decides_again_a_few_times) {
  auto d = loaded_with(sample(order_status::created));
  auto cmd = *d.cancel("USER_CANCEL", "", now_ms).write;
  for (int attempt = 0; attempt < max_stale_retries; ++attempt) {
    auto s = d.written(cmd, outcome(write_status::stale), attempt);
    BOOST_TEST((s.next == commit_step::reload_and_retry));
  }
  auto last = d.written(cmd, outcome(write_status::stale), max_stale_retries);
  BOOST_TEST((last.next == commit_step::finish));
  BOOST_TEST((last.end == commit_end::failed));
  BOOST_TEST((last.error.code == error_code::unavailable));
  BOOST_TEST((d.current()->status == order_status::created)); // memory untouched
}

BOOST_AUTO_TEST_CASE(duplicate_not_found_and_failures) {
  auto d = loaded_with(sample(order_status::created));
  auto cmd = *d.event(event_of("INVENTORY_RESERVED"), now_ms).write;
  auto dup = d.written(cmd, outcome(write_status::duplicate), 0);
  BOOST_TEST((dup.next == commit_step::reload_and_finish));
  BOOST_TEST((dup.end == commit_end::duplicate));
  BOOST_TEST((d.current()->status == order_status::created));

  auto rejected = d.written(cmd, outcome(write_status::failed, error_code::validation_failed), 0);
  BOOST_TEST((rejected.end == commit_end::rejected));
  auto invalid = d.written(cmd, outcome(write_status::failed, error_code::invalid_request), 0);
  BOOST_TEST((invalid.end == commit_end::rejected));
  auto failed = d.written(cmd, outcome(write_status::failed, error_code::unavailable), 0);
  BOOST_TEST((failed.end == commit_end::failed));
  BOOST_TEST((failed.error.code == error_code::unavailable));
  auto silent = d.write_unanswered();
  BOOST_TEST((silent.end == commit_end::failed));
  BOOST_TEST((silent.error.code == error_code::unavailable));

  auto gone = d.written(cmd, outcome(write_status::not_found), 0);
  BOOST_TEST((gone.end == commit_end::not_found));
  BOOST_TEST(gone.passivate);
  BOOST_TEST((gone.error.code == error_code::order_not_found));
  BOOST_TEST(d.empty());
}

// A write refused for a stale epoch: another node owns the order now. The copy in
// memory must go (passivate), the caller gets a retryable failure, nothing changed.
BOOST_AUTO_TEST_CASE(a_fenced_write_fails_retryably_and_ends_the_copy) {
  auto d = loaded_with(sample(order_status::created));
  auto cmd = *d.event(event_of("INVENTORY_RESERVED"), now_ms).write;
  auto fenced = d.written(cmd, outcome(write_status::fenced, error_code::unavailable), 0);
  BOOST_TEST((fenced.next == commit_step::finish));
  BOOST_TEST((fenced.end == commit_end::failed));
  BOOST_TEST((fenced.error.code == error_code::unavailable));
  BOOST_TEST(fenced.passivate);
  BOOST_TEST((d.current()->status == order_status::created)); // memory untouched
}

// -- held events --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_hold_marks_the_order_and_a_later_state_replays) {
  auto d = loaded_with(sample(order_status::created));
  BOOST_TEST(!d.replay_due());
  auto cmd = *d.event(event_of("PAYMENT_SUCCEEDED"), now_ms).write;
  d.written(cmd, outcome(write_status::applied), 0);
  BOOST_TEST((d.event_finished(commit_end::applied, saga_step::hold).status
              == event_status::held));
  BOOST_TEST(!d.replay_due()); // still CREATED: nothing can act
  auto reserve = *d.event(event_of("INVENTORY_RESERVED", event_2), now_ms).write;
  d.written(reserve, outcome(write_status::applied), 0);
  BOOST_TEST(d.replay_due());
  d.replay_started();
  BOOST_TEST(!d.replay_due()); // one replay at a time
  d.replay_ended(true);
  BOOST_TEST(d.replay_due());
  d.replay_ended(false);
  BOOST_TEST(!d.replay_due());
}

BOOST_AUTO_TEST_CASE(a_load_tells_whether_events_are_held) {
  BOOST_TEST(loaded_with(sample(order_status::reserved), true).replay_due());
  BOOST_TEST(!loaded_with(sample(order_status::created), true).replay_due());
  BOOST_TEST(!loaded_with(sample(order_status::reserved), false).replay_due());
}

BOOST_AUTO_TEST_CASE(held_events_act_in_the_order_they_came_when_they_can) {
  std::vector<held_event> rows;
  rows.push_back({held_1, encode_incoming(event_of("PAYMENT_SUCCEEDED", held_1))});
  rows.push_back({held_2, encode_incoming(event_of("PAYMENT_INTENT_CREATED", held_2))});
  rows.push_back({held_3, "not json"});
  std::vector<std::string> undecodable;
  auto held = held_events::decode(order_id, rows, undecodable);
  BOOST_TEST(held.size() == 3u);
  BOOST_TEST(undecodable == std::vector<std::string>{held_3});

  // RESERVED: the payment still waits for its intent, the intent acts.
  auto p = held.next(order_status::reserved);
  BOOST_REQUIRE(p.has_value());
  BOOST_TEST(p->index == 1u);
  BOOST_TEST((p->step == saga_step::apply));
  auto d = loaded_with(sample(order_status::reserved));
  auto w = d.held_write(held, *p, now_ms);
  BOOST_TEST(w.release_event_id == held_2);
  BOOST_TEST(w.inbox_event_id.empty()); // the hold inserted it
  BOOST_TEST((w.next == order_status::payment_pending));

  // PAYMENT_PENDING: the payment applies next.
  auto rest = held.without(1);
  auto p2 = rest.next(order_status::payment_pending);
  BOOST_REQUIRE(p2.has_value());
  BOOST_TEST(rest.at(p2->index).event_id == held_1);
  BOOST_TEST((p2->step == saga_step::apply));

  // The undecodable one (no type) is dropped without effect: the UPDATE to itself.
  auto last = rest.without(p2->index);
  auto p3 = last.next(order_status::paid);
  BOOST_REQUIRE(p3.has_value());
  BOOST_TEST((p3->step == saga_step::ignore));
  auto paid = loaded_with(sample(order_status::paid));
  auto drop = paid.held_write(last, *p3, now_ms);
  BOOST_TEST(drop.release_event_id == held_3);
  BOOST_TEST((drop.next == drop.expected));
  BOOST_TEST(!drop.event.has_value());
  BOOST_TEST(drop.hold_body.empty());
  BOOST_TEST(last.without(p3->index).empty());
}

BOOST_AUTO_TEST_CASE(held_events_that_all_still_wait_pick_nothing) {
  std::vector<held_event> rows{{held_1, encode_incoming(event_of("PAYMENT_FAILED", held_1))}};
  std::vector<std::string> undecodable;
  auto held = held_events::decode(order_id, rows, undecodable);
  BOOST_TEST(undecodable.empty());
  BOOST_TEST(!held.next(order_status::created).has_value());
  BOOST_TEST(held.next(order_status::payment_pending).has_value());
}

BOOST_AUTO_TEST_CASE(a_held_payment_of_an_ended_order_is_rejected_at_replay) {
  std::vector<held_event> rows{{held_1, encode_incoming(event_of("PAYMENT_SUCCEEDED", held_1))}};
  std::vector<std::string> undecodable;
  auto held = held_events::decode(order_id, rows, undecodable);
  auto d = loaded_with(sample(order_status::expired));
  auto p = held.next(order_status::expired);
  BOOST_REQUIRE(p.has_value());
  BOOST_TEST((p->step == saga_step::reject));
  auto w = d.held_write(held, *p, now_ms);
  BOOST_REQUIRE(w.event.has_value());
  BOOST_TEST(w.event->event_type == "ORDER_PAYMENT_REJECTED");
  BOOST_TEST(w.release_event_id == held_1);
}

BOOST_AUTO_TEST_CASE(a_replay_goes_on_stops_or_dead_letters_by_the_write_s_end) {
  auto d = loaded_with(sample(order_status::reserved));
  BOOST_TEST((d.held_finished(commit_end::applied) == held_next::go_on));
  BOOST_TEST((d.held_finished(commit_end::duplicate) == held_next::go_on));
  BOOST_TEST((d.held_finished(commit_end::not_found) == held_next::go_on));
  BOOST_TEST((d.held_finished(commit_end::failed) == held_next::stop));
  BOOST_TEST((d.held_finished(commit_end::rejected) == held_next::dead_letter));
  auto release = d.release_write(held_9, now_ms);
  BOOST_TEST(release.release_event_id == held_9);
  BOOST_TEST((release.next == release.expected));
  BOOST_TEST(!release.event.has_value());
  BOOST_TEST(order_decisions::released(commit_end::applied));
  BOOST_TEST(order_decisions::released(commit_end::duplicate));
  BOOST_TEST(!order_decisions::released(commit_end::failed));
  BOOST_TEST(!order_decisions::released(commit_end::rejected));
}

// -- fetch --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(fetch_answers_the_order_in_memory) {
  auto o = sample(order_status::payment_pending);
  auto r = loaded_with(o).fetch();
  BOOST_TEST(r.ok);
  BOOST_TEST(order_to_json(r.value) == order_to_json(o));
}

BOOST_AUTO_TEST_SUITE_END()
