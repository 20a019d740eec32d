#pragma once
// The order actor's decisions as a plain value (DESIGN.md "Actor topology"): given the
// order as loaded and a command (fetch, cancel, expire) or an incoming saga event, the
// reply now or the guarded write to commit first; what a write's outcome means (keep
// memory in step with the row, reload and decide again, finish); and which held early
// event acts next. The actor (order_actor.cpp) performs what it returns: loads and
// writes through the persistence actors, replies, timers, passivation. No CAF, no I/O;
// times come in as arguments.

#include "actors/order/held_events.hpp"
#include "actors/order/order_settings.hpp"
#include "messages/commands.hpp"
#include "messages/replies.hpp"
#include "messages/saga_step.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flashsale {

/// A write found the row changed under it (another writer during a handover): reload
/// and decide again, a few times at most.
inline constexpr int max_stale_retries = 3;

/// `cmd` with its event (if any) in the trace of `traceparent`: our span for its cause.
write_command traced(write_command cmd, const std::string& traceparent);

/// How a guarded write ended, as the deciding functions need it.
enum class commit_end { applied, duplicate, not_found, failed, rejected };

/// What the actor does with a write's answer (or its absence).
struct commit_step {
  enum next_kind {
    finish,            // call the command's finish with `end` and `error`
    reload_and_retry,  // stale: load the order, then decide the command again
    reload_and_finish, // duplicate: load the order (another writer applied it), then finish
  } next = finish;
  commit_end end = commit_end::failed;
  api_error error;
  bool arm_deadline = false; // applied: the timer for the order's (new) deadline
  bool replay_held = false;  // the status changed: held events may act now
  bool passivate = false;    // the order is gone: ask the registry to stop the actor
};

/// A command's decision: the reply now, or the write to commit before replying.
template <class Reply>
struct decision {
  std::optional<Reply> reply;
  std::optional<write_command> write;
  saga_step step = saga_step::apply; // events: what the write does
  bool replay_held = false;          // after the reply: held events may act (a deadline not due)
};

/// What to do with a held event after its write's answer during a replay.
enum class held_next {
  go_on,       // decide the rest
  stop,        // keep the rows for a later replay (next transition, load or expiry)
  dead_letter, // the database rejected it: copy it to the DLQ, then release its row
};

class order_decisions {
public:
  order_decisions(std::string order_id, order_settings settings);

  // -- the order as loaded ----------------------------------------------------------

  void loaded(const load_reply& r);
  /// The reader did not answer.
  void load_unanswered();
  const std::optional<order>& current() const { return current_; }
  /// Without a loaded order the actor must not stay (see order_actor.cpp).
  bool empty() const { return !current_; }
  const std::string& id() const { return id_; }

  // -- commands and events ----------------------------------------------------------

  order_reply fetch() const;

  decision<order_reply> cancel(const std::string& reason, const std::string& user_id,
                               std::int64_t now_ms) const;
  order_reply cancel_finished(commit_end end, const api_error& error) const;

  decision<event_reply> event(const incoming_event& ev, std::int64_t now_ms) const;
  /// What the event's write became; an applied hold marks the order as holding events.
  event_reply event_finished(commit_end end, saga_step step);

  /// The current state's deadline, applied if it has passed.
  decision<event_reply> expire(std::int64_t now_ms) const;
  event_reply expire_finished(commit_end end) const;

  // -- writes -----------------------------------------------------------------------

  /// The writer's answer to `cmd` (sent at `attempt`); an applied write updates the
  /// order in memory as the guarded UPDATE updated its row.
  commit_step written(const write_command& cmd, const write_outcome& out, int attempt);
  /// The writer did not answer.
  commit_step write_unanswered() const;

  // -- the deadline timer -----------------------------------------------------------

  /// How long until the current state's deadline, when it has one to arm.
  std::optional<std::chrono::milliseconds> deadline_in(std::int64_t now_ms) const;
  /// Whether a timer armed for `armed_for` still concerns the order.
  bool deadline_current(order_status armed_for) const;

  // -- held events ------------------------------------------------------------------

  /// Whether a replay of held events should start now: some are held, none is under
  /// way, and the order is past CREATED.
  bool replay_due() const;
  void replay_started() { replaying_ = true; }
  void replay_ended(bool rows_left);

  /// The write that lets held event `p` act, releasing its row.
  write_command held_write(const held_events& held, held_events::pick p,
                           std::int64_t now_ms) const;
  held_next held_finished(commit_end end) const;
  /// The write that releases held event `event_id` without effect.
  write_command release_write(const std::string& event_id, std::int64_t now_ms) const;
  /// Whether a release went through (else the row stays for a later replay).
  static bool released(commit_end end);

private:
  event_reply answer(event_status s) const;
  event_reply ended(commit_end end, event_status on_applied) const;
  event_status without_order() const;
  write_command step_write(saga_step step, const incoming_event& ev, std::int64_t now_ms) const;

  std::string id_;
  order_settings settings_;
  std::optional<order> current_;
  api_error unavailable_{error_code::order_not_found, "order not found"};
  bool has_early_ = false; // events are held for this order (early_events)
  bool replaying_ = false; // a replay of them is under way
};

/// How a held event's replay ended, for the log: applied, payment_rejected, held, no_effect.
const char* to_string_step(saga_step step);

/// The write of transition `t` from `o`'s status at `now_ms`, with its event and the
/// new state's deadline.
write_command make_write(const order& o, const transition& t, const order_settings& cfg,
                         std::int64_t now_ms);

/// Keeps `o` as the guarded UPDATE of `cmd` leaves its row.
void apply_write(order& o, const write_command& cmd);

} // namespace flashsale
