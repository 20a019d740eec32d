#pragma once
// What a finished outbox batch means for each of its rows: the relay's decision, kept
// free of CAF, PostgreSQL and librdkafka so that it can be tested on its own
// (test/unit/relay_batch_test.cpp). The ordering argument it serves is in
// persistence/outbox_repository.cpp (points 3 and 4).
//
// Why "alone": a broker refuses a whole record batch as too large
// (MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE) when the batch exceeds the topic's
// max.message.bytes, e.g. after the topic's limit was lowered below the producer's.
// librdkafka does not split such a batch (Kafka's Java client does): every message in
// it gets the error, most of them for their neighbours' size. So a refusal only tells
// that the batch was too large; a message is too large itself only when it is refused
// while travelling alone.

#include "actors/outbox/relay_settings.hpp"
#include "persistence/outbox_repository.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flashsale {

/// How one row's publication went in this attempt.
struct row_attempt {
  enum state_kind {
    not_produced, // never handed to the producer
    queued,       // handed over, no report yet (only while waiting)
    delivered,
    failed,
  } state = not_produced;
  enum failure_kind {
    passing,         // brokers, topic or producer away: waits, retried without limit
    refused_alone,   // refused for its own sake (larger than our producer accepts)
    refused_in_batch // the broker refused the record batch it travelled in
  } failure = passing;
};

/// A row's attempt with the error to record when it failed.
struct row_outcome {
  row_attempt attempt;
  std::string error;
};

/// What to record for a row.
enum class row_fate {
  sent,        // acknowledged: SENT
  retry_alone, // produce it again, alone in its record batch, in this batch's lease
  retry,       // stays PENDING, tried again after a backoff
  dead,        // no broker can ever accept it: DEAD
  release,     // untouched: lease released, claimed again later
};

/// Sorts a finished attempt. `orders[i]` is row i's order id, rows in seq order;
/// `alone` says that every produced row travelled alone in its record batch (the
/// second pass). Per order: the rows delivered before its first failure are `sent`;
/// the first failure is `retry_alone` when its batch was refused (first pass) and that
/// order's later produced rows follow it alone too, in order; a batch refusal while
/// alone, or a refusal of the row itself, is `dead`; any other failure is `retry`;
/// the order's rows after its first failure are `release`d otherwise.
std::vector<row_fate> sort_batch(const std::vector<std::string_view>& orders,
                                 const std::vector<row_attempt>& attempts, bool alone);

/// How many rows of `fates` have fate `f`.
std::size_t count_fate(const std::vector<row_fate>& fates, row_fate f);

/// A delivery report's outcome for its row. A broker's refusal (`permanent`) holds for
/// the record batch the row travelled in, not necessarily for the row: librdkafka does
/// not split a refused batch.
row_outcome reported_outcome(bool ok, bool permanent, std::string error);

/// The outcome of a row the producer refused at once: that refusal is the row's own
/// (e.g. larger than our message.max.bytes).
row_outcome refused_outcome(bool permanent, std::string error);

/// The token a produced row carries into its delivery report: the batch's generation
/// (which tells its reports from an abandoned batch's) and the row's index.
std::uint64_t report_token(std::uint32_t generation, std::size_t row);
std::uint32_t token_generation(std::uint64_t token);
std::size_t token_row(std::uint64_t token);

/// What to write for a finished batch (persistence::complete_outbox_claim).
struct batch_record {
  std::vector<std::int64_t> sent;                  // seqs to mark SENT
  std::vector<persistence::outbox_failure> failed; // retried after a backoff, or DEAD
  std::vector<std::size_t> failed_rows;            // the row of each `failed` entry
  std::size_t dead = 0;
  /// Rows delivered after an earlier row of their order failed: released, sent again.
  std::vector<std::size_t> late;
};

/// The record of a batch whose rows have `fates` (retry_alone counts as released).
batch_record record_of(const relay_settings& cfg, const std::vector<persistence::outbox_row>& rows,
                       const std::vector<row_fate>& fates,
                       const std::vector<row_outcome>& outcomes);

/// Sorts the first pass over a batch (sort_batch with alone = false).
std::vector<row_fate> sort_first_pass(const std::vector<std::string_view>& orders,
                                      const std::vector<row_outcome>& outcomes);

/// The second pass over a batch: the rows whose record batch a broker refused, produced
/// again one at a time, in seq order, so that a refusal is the row's own.
class alone_pass {
public:
  /// Takes the first pass's `retry_alone` rows.
  void start(const std::vector<row_fate>& fates);
  /// Clears those rows' outcomes: the pass starts from nothing, so that a row it does
  /// not reach is released.
  void clear_outcomes(std::vector<row_outcome>& outcomes) const;

  /// Whether no row goes again alone.
  bool empty() const { return rows_.empty(); }
  std::size_t size() const { return rows_.size(); }
  /// The first row to go again alone (for the log line); only when not empty().
  std::size_t first() const { return rows_.front(); }

  /// The next row to produce alone, or none when the pass is over (every row taken, or
  /// `may_start` false). An order whose earlier row was not acknowledged alone waits:
  /// its later rows are skipped, so its events stay in commit order.
  std::optional<std::size_t> next(const std::vector<std::string_view>& orders,
                                  const std::vector<row_outcome>& outcomes, bool may_start);

  /// Sorts the pass into `fates` (sort_batch with alone = true): what was acknowledged
  /// alone is sent, a row refused alone dead, the rest retried or released. Returns
  /// how many rows were acknowledged alone.
  std::size_t sort_into(std::vector<row_fate>& fates, const std::vector<std::string_view>& orders,
                        const std::vector<row_outcome>& outcomes) const;

private:
  bool order_stopped(const std::vector<std::string_view>& orders,
                     const std::vector<row_outcome>& outcomes, std::string_view order) const;

  std::vector<std::size_t> rows_; // in seq order
  std::size_t next_ = 0;          // rows_[next_] is produced next
};

/// The wait before a failed row is tried again: backoff_base, doubling with every
/// retry, up to backoff_max; retries never end.
std::chrono::milliseconds retry_backoff(const relay_settings& cfg, int retry_count);

/// How long a claim is leased: every report comes within message_timeout, and
/// lease_margin leaves the relay time to record the batch before another may claim it.
std::chrono::milliseconds claim_lease(const relay_settings& cfg);

/// Whether the alone pass may still produce a row, `elapsed` after the claim: its report
/// comes within message_timeout and must come before the lease (claim_lease) runs out,
/// so that no other relay sends its order meanwhile.
bool alone_may_start(const relay_settings& cfg, std::chrono::steady_clock::duration elapsed);

/// Orders (heads) to claim next after a batch of `rows` rows of `orders` orders: as
/// many as the runs just seen suggest fill one batch; all of `cfg.batch` after a batch
/// that was not full (or empty), for then the runs did not limit it.
std::size_t heads_to_claim(const relay_settings& cfg, std::size_t rows, std::size_t orders);

/// Whether to claim again at once after a batch of `rows` rows: a full batch suggests
/// more; otherwise the relay waits wakeup_coalesce, so that the commits arriving
/// meanwhile gather into one claim.
bool claim_again_at_once(const relay_settings& cfg, std::size_t rows);

} // namespace flashsale
