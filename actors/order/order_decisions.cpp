#include "actors/order/order_decisions.hpp"

#include <algorithm>
#include <utility>
#include <variant>

namespace flashsale {

namespace {

std::optional<std::int64_t> deadline_for(order_status s, const order_settings& cfg,
                                         std::int64_t now_s) {
  switch (s) {
    case order_status::created:
      return now_s + cfg.ttl_created.count();
    case order_status::reserved:
      return now_s + cfg.ttl_reserved.count();
    case order_status::payment_pending:
      return now_s + cfg.ttl_payment_pending.count();
    default:
      return std::nullopt;
  }
}

std::optional<outgoing_event> event_for(const order& o, const transition& t, std::int64_t ms) {
  switch (t.emits) {
    case order_event::order_cancelled:
      return make_order_cancelled(o.id, t.reason, ms);
    case order_event::order_expired:
      return make_order_expired(o.id, t.reason, ms);
    case order_event::order_paid:
      return make_order_paid(o.id, ms);
    default:
      return std::nullopt;
  }
}

/// A write that leaves the order as it is (the UPDATE to itself orders it with the
/// order's other writes): for what an event records without a transition.
write_command unchanged_write(const order& o, std::int64_t now_ms) {
  write_command cmd;
  cmd.order_id = o.id;
  cmd.expected = o.status;
  cmd.next = o.status;
  cmd.reason = o.reason;
  cmd.deadline = o.expired_at;
  cmd.now_ms = now_ms;
  return cmd;
}

/// A payment succeeded for an order that can no longer be paid: no transition, but
/// ORDER_PAYMENT_REJECTED tells the Payment service to refund.
write_command payment_rejection(const order& o, const incoming_event& ev, std::int64_t now_ms) {
  auto cmd = unchanged_write(o, now_ms);
  auto why = o.status == order_status::expired ? "ORDER_EXPIRED" : "ORDER_CANCELLED";
  cmd.event = make_order_payment_rejected(o.id, ev.payment_intent_id, why, cmd.now_ms);
  return cmd;
}

/// An event that came before its order can take it: its inbox row and its early_events
/// row, no status change.
write_command hold_write(const order& o, const incoming_event& ev, std::int64_t now_ms) {
  auto cmd = unchanged_write(o, now_ms);
  cmd.hold_body = encode_incoming(ev);
  return cmd;
}

/// A write the database refused for its own values (persistence isolates it from its
/// batch): retrying cannot help.
bool is_rejected(const write_outcome& out) {
  return out.error.code == error_code::validation_failed
         || out.error.code == error_code::invalid_request;
}

event_status status_of(saga_step step) {
  switch (step) {
    case saga_step::reject:
      return event_status::payment_rejected;
    case saga_step::hold:
      return event_status::held;
    default:
      return event_status::applied;
  }
}

commit_step finished(commit_end end, api_error error = {}) {
  commit_step s;
  s.end = end;
  s.error = std::move(error);
  return s;
}

} // namespace

write_command make_write(const order& o, const transition& t, const order_settings& cfg,
                         std::int64_t now_ms) {
  write_command cmd;
  cmd.order_id = o.id;
  cmd.expected = o.status;
  cmd.next = t.to;
  cmd.reason = t.reason;
  cmd.now_ms = now_ms;
  cmd.deadline = deadline_for(t.to, cfg, cmd.now_ms / 1000);
  cmd.event = event_for(o, t, cmd.now_ms);
  return cmd;
}

/// Keeps the order as the guarded UPDATE leaves its row: a write without a change of
/// status (a hold, a release, a payment rejection) changes no column, updated_at
/// included, so a GET after a reload answers the same (issue 22).
void apply_write(order& o, const write_command& cmd) {
  if (cmd.next == cmd.expected)
    return;
  o.status = cmd.next;
  o.reason = cmd.reason;
  o.updated_at = cmd.now_ms / 1000;
  o.expired_at = cmd.deadline;
}

const char* to_string_step(saga_step step) {
  switch (step) {
    case saga_step::apply:
      return "applied";
    case saga_step::reject:
      return "payment_rejected";
    case saga_step::hold:
      return "held";
    case saga_step::ignore:
      break;
  }
  return "no_effect";
}

write_command traced(write_command cmd, const std::string& traceparent) {
  if (cmd.event)
    cmd.event->traceparent = traceparent;
  return cmd;
}

// -- order_decisions: the order as loaded ---------------------------------------------

order_decisions::order_decisions(std::string order_id, order_settings settings)
  : id_(std::move(order_id)), settings_(settings) {}

void order_decisions::loaded(const load_reply& r) {
  current_.reset();
  has_early_ = r.has_early;
  if (r.found)
    current_ = r.value;
  else if (r.failed)
    unavailable_ = r.error;
  else
    unavailable_ = {error_code::order_not_found, "order not found"};
}

void order_decisions::load_unanswered() {
  current_.reset();
  unavailable_ = {error_code::unavailable, "database did not answer"};
}

event_reply order_decisions::answer(event_status s) const {
  return {s, current_ ? current_->status : order_status::created};
}

/// The status of an order the actor could not load: missing, or not known yet because
/// the database is unavailable (then the event must be delivered again).
event_status order_decisions::without_order() const {
  return unavailable_.code == error_code::order_not_found ? event_status::not_found
                                                          : event_status::failed;
}

// -- commands and events ------------------------------------------------------------

order_reply order_decisions::fetch() const {
  return current_ ? reply_ok(*current_) : order_reply{false, {}, unavailable_};
}

decision<order_reply> order_decisions::cancel(const std::string& reason,
                                              const std::string& user_id,
                                              std::int64_t now_ms) const {
  decision<order_reply> d;
  if (!current_) {
    d.reply = order_reply{false, {}, unavailable_};
    return d;
  }
  const order& o = *current_;
  if (!user_id.empty() && user_id != o.user_id) {
    d.reply = reply_error(error_code::forbidden, "the order belongs to another user");
    return d;
  }
  if (o.status == order_status::cancelled) {
    d.reply = reply_ok(o);
    return d;
  }
  auto t = next_transition(o.status, order_trigger::user_cancel, reason);
  if (!t) {
    d.reply = reply_error(error_code::order_invalid_state,
                          "an order in status " + std::string{to_string(o.status)}
                            + " cannot be cancelled");
    return d;
  }
  d.write = make_write(o, *t, settings_, now_ms);
  return d;
}

order_reply order_decisions::cancel_finished(commit_end end, const api_error& error) const {
  if (end == commit_end::failed || end == commit_end::rejected || end == commit_end::not_found
      || !current_)
    return order_reply{false, {}, error};
  return reply_ok(*current_);
}

/// The write for `step` (not ignore) of `ev` in the current state; ignore (a held
/// event dropped at replay) gets the UPDATE to itself only.
write_command order_decisions::step_write(saga_step step, const incoming_event& ev,
                                          std::int64_t now_ms) const {
  const order& o = *current_;
  switch (step) {
    case saga_step::apply:
      return make_write(o, *next_transition(o.status, *trigger_for(ev.event_type)), settings_,
                        now_ms);
    case saga_step::reject:
      return payment_rejection(o, ev, now_ms);
    case saga_step::hold:
      return hold_write(o, ev, now_ms);
    case saga_step::ignore:
      break;
  }
  return unchanged_write(o, now_ms);
}

decision<event_reply> order_decisions::event(const incoming_event& ev,
                                             std::int64_t now_ms) const {
  decision<event_reply> d;
  if (!current_) {
    d.reply = event_reply{without_order(), order_status::created};
    return d;
  }
  d.step = saga_step_for(ev.event_type, current_->status);
  if (d.step == saga_step::ignore) { // also INVENTORY_RELEASED: acknowledged, no transition
    d.reply = answer(event_status::ignored);
    return d;
  }
  d.write = step_write(d.step, ev, now_ms);
  d.write->inbox_event_id = ev.event_id;
  d.write->inbox_event_type = ev.event_type;
  return d;
}

event_reply order_decisions::event_finished(commit_end end, saga_step step) {
  if (end == commit_end::applied && step == saga_step::hold)
    has_early_ = true;
  return ended(end, status_of(step));
}

/// What became of an event (or an expiry) whose write ended with `end`.
event_reply order_decisions::ended(commit_end end, event_status on_applied) const {
  switch (end) {
    case commit_end::applied:
      return answer(on_applied);
    case commit_end::duplicate:
      return answer(event_status::duplicate);
    case commit_end::not_found:
      return answer(event_status::not_found);
    case commit_end::rejected:
      return answer(event_status::rejected);
    case commit_end::failed:
      break;
  }
  return answer(event_status::failed);
}

decision<event_reply> order_decisions::expire(std::int64_t now_ms) const {
  decision<event_reply> d;
  if (!current_) {
    d.reply = event_reply{without_order(), order_status::created};
    return d;
  }
  const order& o = *current_;
  auto t = next_transition(o.status, order_trigger::deadline);
  if (!t || !o.expired_at || *o.expired_at * 1000 > now_ms) {
    d.reply = answer(event_status::ignored);
    d.replay_held = true; // the sweeper also expires orders whose held events wait (000008)
    return d;
  }
  d.write = make_write(o, *t, settings_, now_ms);
  return d;
}

event_reply order_decisions::expire_finished(commit_end end) const {
  return ended(end, event_status::applied);
}

// -- writes -------------------------------------------------------------------------

commit_step order_decisions::written(const write_command& cmd, const write_outcome& out,
                                     int attempt) {
  switch (out.status) {
    case write_status::applied: {
      if (current_)
        apply_write(*current_, cmd);
      auto s = finished(commit_end::applied);
      s.arm_deadline = true;
      s.replay_held = cmd.next != cmd.expected; // held events may act in the new state
      return s;
    }
    case write_status::stale: {
      if (attempt >= max_stale_retries)
        return finished(commit_end::failed, {error_code::unavailable, "order is busy, retry"});
      auto s = finished(commit_end::failed);
      s.next = commit_step::reload_and_retry;
      return s;
    }
    case write_status::duplicate: {
      auto s = finished(commit_end::duplicate);
      s.next = commit_step::reload_and_finish;
      return s;
    }
    case write_status::not_found: {
      current_.reset();
      auto s = finished(commit_end::not_found, {error_code::order_not_found, "order not found"});
      s.passivate = true;
      return s;
    }
    case write_status::fenced: {
      // Another node acquired the order's shard: this copy must not write again.
      auto s = finished(commit_end::failed, out.error);
      s.passivate = true;
      return s;
    }
    case write_status::failed:
      return finished(is_rejected(out) ? commit_end::rejected : commit_end::failed, out.error);
  }
  return finished(commit_end::failed, out.error);
}

commit_step order_decisions::write_unanswered() const {
  return finished(commit_end::failed, {error_code::unavailable, "database did not answer"});
}

// -- the deadline timer -------------------------------------------------------------

std::optional<std::chrono::milliseconds> order_decisions::deadline_in(std::int64_t now_ms) const {
  if (!current_ || !current_->expired_at || is_terminal(current_->status))
    return std::nullopt;
  return std::chrono::milliseconds{std::max<std::int64_t>(0, *current_->expired_at * 1000 - now_ms)};
}

bool order_decisions::deadline_current(order_status armed_for) const {
  return current_ && current_->status == armed_for;
}

// -- held events --------------------------------------------------------------------

bool order_decisions::replay_due() const {
  return !replaying_ && has_early_ && current_ && current_->status != order_status::created;
}

void order_decisions::replay_ended(bool rows_left) {
  replaying_ = false;
  has_early_ = rows_left;
}

write_command order_decisions::held_write(const held_events& held, held_events::pick p,
                                          std::int64_t now_ms) const {
  const auto& ev = held.at(p.index);
  auto cmd = step_write(p.step, ev, now_ms);
  cmd.release_event_id = ev.event_id;
  return cmd;
}

held_next order_decisions::held_finished(commit_end end) const {
  switch (end) {
    case commit_end::failed:
      return held_next::stop;
    case commit_end::rejected:
      return held_next::dead_letter;
    default:
      return held_next::go_on; // applied, or released before (duplicate), or gone
  }
}

write_command order_decisions::release_write(const std::string& event_id,
                                             std::int64_t now_ms) const {
  auto cmd = unchanged_write(*current_, now_ms);
  cmd.release_event_id = event_id;
  return cmd;
}

bool order_decisions::released(commit_end end) {
  return end != commit_end::failed && end != commit_end::rejected;
}

} // namespace flashsale
