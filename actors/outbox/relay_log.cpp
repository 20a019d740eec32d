#include "actors/outbox/relay_log.hpp"

#include "actors/log.hpp"

#include <string>

namespace flashsale {

namespace {

void log_failure(const persistence::outbox_row& row, const persistence::outbox_failure& f) {
  log::fields fields{{"order_id", row.aggregate_id},
                     {"event_id", row.event_id},
                     {"event_type", row.event_type},
                     {"attempt", std::to_string(row.retry_count + 1)},
                     {"bytes", std::to_string(row.payload.size())},
                     {"error", f.error},
                     log::trace_field(row.traceparent)};
  // Said on an event's first failure; an outage would otherwise log every retry.
  if (f.dead)
    log::error("outbox event dead: no broker can accept it", fields);
  else
    log::write(row.retry_count == 0 ? log::level::warn : log::level::debug,
               "outbox event not published, will retry", fields);
}

} // namespace

void log_batch_record(const batch_record& record,
                      const std::vector<persistence::outbox_row>& rows) {
  for (std::size_t k = 0; k < record.failed.size(); ++k)
    log_failure(rows[record.failed_rows[k]], record.failed[k]);
  for (auto i : record.late)
    log::warn("outbox event delivered after an earlier one of its order failed",
              {{"order_id", rows[i].aggregate_id}, {"event_id", rows[i].event_id},
               log::trace_field(rows[i].traceparent)});
}

void log_refused_batch(std::size_t relay, std::size_t rows, const persistence::outbox_row& first,
                       const std::string& error) {
  log::warn("outbox: a broker refused a record batch as too large for the topic; sending "
            "its events again one by one, only one refused alone becomes DEAD",
            {{"relay", std::to_string(relay)},
             {"rows", std::to_string(rows)},
             {"order_id", first.aggregate_id},
             {"error", error}});
}

void log_batch_timing(std::size_t relay, const persistence::outbox_claim& claim,
                      const batch_times& t) {
  auto ms = [](auto from, auto to) {
    return std::to_string(std::chrono::duration<double, std::milli>(to - from).count());
  };
  log::debug("outbox batch", {{"relay", std::to_string(relay)},
                              {"rows", std::to_string(claim.rows.size())},
                              {"orders", std::to_string(claim.orders)},
                              {"claim_ms", ms(t.started, t.claimed)},
                              {"produce_ms", ms(t.claimed, t.produced)},
                              {"deliver_ms", ms(t.produced, t.delivered)},
                              {"commit_ms", ms(t.delivered, std::chrono::steady_clock::now())}});
}

} // namespace flashsale
