#include "actors/saga/saga_pipeline.hpp"

#include "messages/trace_context.hpp"

#include <algorithm>
#include <string_view>

namespace flashsale {

using steady = std::chrono::steady_clock;

std::chrono::milliseconds retry_backoff::after(int attempts) const {
  auto ms = base.count() << std::clamp(attempts - 1, 0, 16);
  return std::chrono::milliseconds{std::min<std::int64_t>(ms, max.count())};
}

saga_pipeline::saga_pipeline(saga_pipeline_settings settings)
  : cfg_(settings), slots_(settings.max_dispatched), flow_(settings.max_in_flight) {
}

namespace {

/// The message's traceparent header, empty when it has none.
std::string_view traceparent_of(const kafka::consumed_message& m) {
  for (const auto& h : m.headers)
    if (h.name == "traceparent")
      return h.value;
  return {};
}

} // namespace

saga_intake saga_pipeline::on_message(kafka::consumed_message m, steady::time_point now) {
  saga_intake in;
  auto ref = offsets_.consumed({m.topic, m.partition}, m.offset);
  if (!ref)
    return in; // not (or no longer) ours, or already pending
  auto decoded = decode_incoming(std::string_view{m.value});
  if (auto* bad = std::get_if<decode_error>(&decoded)) {
    in.what = saga_intake::poison;
    in.dlq = saga_dlq_copy{std::move(m), bad->detail, std::move(*ref), now};
    return in;
  }
  auto& ev = std::get<incoming_event>(decoded);
  // Our span of the sender's trace (CONTRACT §5): the header, never the JSON, names it.
  ev.traceparent = next_traceparent(traceparent_of(m));
  in.traceparent = ev.traceparent;
  in.order_id = ev.order_id;
  in.event_type = ev.event_type;
  if (!is_known_incoming_type(ev.event_type)) {
    in.what = saga_intake::unknown_type;
    offsets_.done(*ref);
    return in;
  }
  in.what = saga_intake::queued;
  auto order_id = ev.order_id;
  if (chains_.append(order_id, work{std::move(*ref), now, std::move(ev), 0, std::move(m), 0}))
    dispatch(order_id, in.send);
  return in;
}

saga_actions saga_pipeline::on_reply(const std::string& order_id, std::uint64_t ticket,
                                     const event_reply& reply, steady::time_point now) {
  saga_actions act;
  slots_.release(); // every request held a slot, a stale one too
  auto* w = chains_.front(order_id);
  if (!w || w->ticket != ticket) {
    act.stale_answer = true; // its event was dropped (a revoke, a new client)
    pump_waiting(act.send);
    return act;
  }
  w->ticket = 0;
  bool current = offsets_.is_current(w->ref);
  if (reply.status == event_status::failed && current) {
    ++w->attempts;
    act.retry_order = order_id;
    act.attempts = w->attempts;
    act.retry_after = cfg_.retry.after(w->attempts);
    pump_waiting(act.send);
    return act;
  }
  if (reply.status == event_status::rejected && current) {
    // A write the database refuses whatever the retries (SQLSTATE class 22/23): the
    // event goes to the DLQ (CONTRACT §5), its offset is done once the copy is
    // acknowledged, and the order's next events go ahead.
    act.outcome = reply.status;
    auto taken = chains_.take_front(order_id);
    act.dlq = saga_dlq_copy{std::move(taken.source), rejected_dlq_reason, std::move(taken.ref),
                            taken.consumed_at};
  } else {
    if (reply.status != event_status::failed) {
      act.outcome = reply.status;
      act.handled_seconds = mark_done(w->ref, w->consumed_at, now);
    }
    chains_.take_front(order_id);
  }
  dispatch(order_id, act.send);
  pump_waiting(act.send);
  return act;
}

saga_actions saga_pipeline::on_retry(const std::string& order_id) {
  saga_actions act;
  dispatch(order_id, act.send);
  return act;
}

void saga_pipeline::dispatch(const std::string& order_id, std::vector<saga_request>& out) {
  auto* front = chains_.ready_front(
    order_id, [this](const work& w) { return w.ticket == 0 && !offsets_.is_current(w.ref); });
  if (!front || front->ticket != 0 || !slots_.acquire(order_id))
    return;
  front->ticket = next_ticket_++;
  out.push_back({front->ticket, front->event});
}

void saga_pipeline::pump_waiting(std::vector<saga_request>& out) {
  while (auto order_id = slots_.next_waiting())
    dispatch(*order_id, out);
}

std::optional<double> saga_pipeline::mark_done(const offset_ref& ref,
                                               steady::time_point consumed_at,
                                               steady::time_point now) {
  if (!offsets_.done(ref))
    return std::nullopt;
  return std::chrono::duration<double>(now - consumed_at).count();
}

void saga_pipeline::dlq_sent(std::uint64_t token, offset_ref ref, steady::time_point consumed_at) {
  dlq_.emplace(token, std::make_pair(std::move(ref), consumed_at));
}

std::optional<double> saga_pipeline::dlq_done(std::uint64_t token, steady::time_point now) {
  auto i = dlq_.find(token);
  if (i == dlq_.end())
    return std::nullopt;
  auto seconds = mark_done(i->second.first, i->second.second, now);
  dlq_.erase(i);
  return seconds;
}

const offset_ref* saga_pipeline::dlq_source(std::uint64_t token) const {
  auto i = dlq_.find(token);
  return i == dlq_.end() ? nullptr : &i->second.first;
}

void saga_pipeline::on_assign(const std::vector<partition_id>& partitions) {
  for (const auto& p : partitions)
    offsets_.assign(p);
}

std::vector<std::pair<partition_id, std::int64_t>>
saga_pipeline::commits(const std::set<partition_id>& only) const {
  return offsets_.committable(
    [&](const partition_id& id) { return only.empty() || only.count(id) > 0; });
}

void saga_pipeline::on_revoke(const std::set<partition_id>& revoked) {
  for (const auto& id : revoked)
    offsets_.revoke(id);
  chains_.drop_waiting_if([&](const work& w) { return revoked.count(w.ref.partition) > 0; });
  for (auto i = dlq_.begin(); i != dlq_.end();)
    i = offsets_.is_current(i->second.first) ? std::next(i) : dlq_.erase(i);
}

void saga_pipeline::on_restart() {
  offsets_.clear();
  chains_.keep_fronts_if([](const work& w) { return w.ticket != 0; });
  slots_.clear_waiting(); // their chains are gone
  dlq_.clear();
  flow_.reset();
}

} // namespace flashsale
