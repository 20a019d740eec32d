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

#include <cstddef>
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

} // namespace flashsale
