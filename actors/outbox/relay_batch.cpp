#include "actors/outbox/relay_batch.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <unordered_map>

namespace flashsale {

namespace {

/// The fate of an order's first row that was not delivered.
row_fate first_failure(const row_attempt& a, bool alone) {
  if (a.state != row_attempt::failed)
    return row_fate::release; // not produced, or no report: nothing is known
  switch (a.failure) {
    case row_attempt::refused_alone:
      return row_fate::dead;
    case row_attempt::refused_in_batch:
      return alone ? row_fate::dead : row_fate::retry_alone;
    case row_attempt::passing:
      break;
  }
  return row_fate::retry;
}

std::vector<row_attempt> attempts_of(const std::vector<row_outcome>& outcomes,
                                     const std::vector<std::size_t>* rows = nullptr) {
  std::vector<row_attempt> attempts;
  if (!rows) {
    for (const auto& o : outcomes)
      attempts.push_back(o.attempt);
    return attempts;
  }
  for (auto i : *rows)
    attempts.push_back(outcomes[i].attempt);
  return attempts;
}

} // namespace

std::vector<row_fate> sort_batch(const std::vector<std::string_view>& orders,
                                 const std::vector<row_attempt>& attempts, bool alone) {
  std::vector<row_fate> fates(orders.size(), row_fate::release);
  // Per order, the fate of its first row that was not delivered, once there is one.
  std::unordered_map<std::string_view, row_fate> stopped;
  for (std::size_t i = 0; i < orders.size() && i < attempts.size(); ++i) {
    const auto& a = attempts[i];
    auto it = stopped.find(orders[i]);
    if (it == stopped.end()) {
      fates[i] = a.state == row_attempt::delivered ? row_fate::sent : first_failure(a, alone);
      if (fates[i] != row_fate::sent)
        stopped.emplace(orders[i], fates[i]);
      continue;
    }
    // Behind a row sent again alone, the order's later produced rows go alone too, in
    // seq order (they were refused or dropped with it); anything else waits.
    if (it->second == row_fate::retry_alone && a.state != row_attempt::not_produced)
      fates[i] = row_fate::retry_alone;
  }
  return fates;
}

std::size_t count_fate(const std::vector<row_fate>& fates, row_fate f) {
  return static_cast<std::size_t>(std::count(fates.begin(), fates.end(), f));
}

row_outcome reported_outcome(bool ok, bool permanent, std::string error) {
  if (ok)
    return {{row_attempt::delivered}, {}};
  return {{row_attempt::failed, permanent ? row_attempt::refused_in_batch : row_attempt::passing},
          std::move(error)};
}

row_outcome refused_outcome(bool permanent, std::string error) {
  return {{row_attempt::failed, permanent ? row_attempt::refused_alone : row_attempt::passing},
          std::move(error)};
}

std::uint64_t report_token(std::uint32_t generation, std::size_t row) {
  return (static_cast<std::uint64_t>(generation) << 32) | static_cast<std::uint32_t>(row);
}

std::uint32_t token_generation(std::uint64_t token) {
  return static_cast<std::uint32_t>(token >> 32);
}

std::size_t token_row(std::uint64_t token) {
  return static_cast<std::size_t>(token & 0xffffffffu);
}

batch_record record_of(const relay_settings& cfg, const std::vector<persistence::outbox_row>& rows,
                       const std::vector<row_fate>& fates,
                       const std::vector<row_outcome>& outcomes) {
  batch_record r;
  for (std::size_t i = 0; i < rows.size() && i < fates.size() && i < outcomes.size(); ++i) {
    switch (fates[i]) {
      case row_fate::sent:
        r.sent.push_back(rows[i].seq);
        break;
      case row_fate::dead:
      case row_fate::retry: {
        bool dead = fates[i] == row_fate::dead;
        r.dead += dead ? 1 : 0;
        r.failed.push_back(
          {rows[i].seq, outcomes[i].error, retry_backoff(cfg, rows[i].retry_count), dead});
        r.failed_rows.push_back(i);
        break;
      }
      case row_fate::retry_alone: // only between the passes
      case row_fate::release:
        if (outcomes[i].attempt.state == row_attempt::delivered)
          r.late.push_back(i);
        break;
    }
  }
  return r;
}

std::vector<row_fate> sort_first_pass(const std::vector<std::string_view>& orders,
                                      const std::vector<row_outcome>& outcomes) {
  return sort_batch(orders, attempts_of(outcomes), false);
}

void alone_pass::start(const std::vector<row_fate>& fates) {
  rows_.clear();
  next_ = 0;
  for (std::size_t i = 0; i < fates.size(); ++i)
    if (fates[i] == row_fate::retry_alone)
      rows_.push_back(i);
}

void alone_pass::clear_outcomes(std::vector<row_outcome>& outcomes) const {
  for (auto i : rows_)
    if (i < outcomes.size())
      outcomes[i] = {};
}

bool alone_pass::order_stopped(const std::vector<std::string_view>& orders,
                               const std::vector<row_outcome>& outcomes,
                               std::string_view order) const {
  for (std::size_t k = 0; k + 1 < next_; ++k) {
    auto i = rows_[k];
    if (orders[i] == order && outcomes[i].attempt.state != row_attempt::delivered)
      return true;
  }
  return false;
}

std::optional<std::size_t> alone_pass::next(const std::vector<std::string_view>& orders,
                                            const std::vector<row_outcome>& outcomes,
                                            bool may_start) {
  while (next_ < rows_.size() && may_start) {
    auto i = rows_[next_++];
    if (!order_stopped(orders, outcomes, orders[i]))
      return i;
  }
  return std::nullopt;
}

std::size_t alone_pass::sort_into(std::vector<row_fate>& fates,
                                  const std::vector<std::string_view>& orders,
                                  const std::vector<row_outcome>& outcomes) const {
  std::vector<std::string_view> pass_orders;
  for (auto i : rows_)
    pass_orders.push_back(orders[i]);
  auto pass = sort_batch(pass_orders, attempts_of(outcomes, &rows_), true);
  for (std::size_t k = 0; k < pass.size(); ++k)
    fates[rows_[k]] = pass[k];
  return count_fate(pass, row_fate::sent);
}

std::chrono::milliseconds retry_backoff(const relay_settings& cfg, int retry_count) {
  auto factor = std::pow(2.0, std::min(retry_count, 30));
  auto ms = static_cast<double>(cfg.backoff_base.count()) * factor;
  return std::chrono::milliseconds{
    static_cast<std::int64_t>(std::min(ms, static_cast<double>(cfg.backoff_max.count())))};
}

std::chrono::milliseconds claim_lease(const relay_settings& cfg) {
  return cfg.message_timeout + cfg.lease_margin;
}

bool alone_may_start(const relay_settings& cfg, std::chrono::steady_clock::duration elapsed) {
  return elapsed < cfg.lease_margin;
}

std::size_t heads_to_claim(const relay_settings& cfg, std::size_t rows, std::size_t orders) {
  if (rows < cfg.batch)
    return cfg.batch;
  orders = std::max<std::size_t>(1, orders);
  return std::clamp<std::size_t>(cfg.batch * orders / rows + 1, 1, cfg.batch);
}

bool claim_again_at_once(const relay_settings& cfg, std::size_t rows) {
  return rows >= cfg.batch;
}

} // namespace flashsale
