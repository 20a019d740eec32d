#include "kafka/dlq_redrive.hpp"

#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace flashsale::kafka {

namespace {

using steady = std::chrono::steady_clock;
using partition_key = std::pair<std::string, std::int32_t>;

constexpr std::chrono::milliseconds consume_step{200};

/// One run over the DLQ: read to the end (or the limit), send, wait, commit.
class dlq_run {
public:
  dlq_run(const dlq_run_settings& s, const std::function<void(const dlq_entry&)>& report)
    : s_(s), report_(report) {}

  dlq_run_result go() {
    if (open() && read_to_end())
      finish();
    else if (!pending_.empty())
      finish(); // what was read before the error is still sent and committed
    if (consumer_)
      consumer_->close();
    return result_;
  }

private:
  bool sends() const { return s_.replay && !s_.dry_run; }

  bool open() {
    consumer_client_settings cs;
    cs.brokers = s_.brokers;
    cs.group_id = s_.group_id;
    cs.client_id = "flashsale-order-dlq";
    cs.topics = {s_.topic};
    cs.extra = {{"enable.partition.eof", "true"}};
    consumer_client::handlers h;
    h.assigned = [this](const std::vector<topic_partition>& tps) {
      for (const auto& tp : tps)
        at_end_[{tp.topic, tp.partition}] = false;
      return false;
    };
    h.revoked = [this](const std::vector<topic_partition>& tps, bool) {
      for (const auto& tp : tps)
        at_end_.erase({tp.topic, tp.partition});
    };
    h.failed = [this](const std::string& op, const std::string& error, const std::string& parts) {
      result_.error = op + " " + parts + ": " + error;
    };
    std::string error;
    consumer_ = consumer_client::create(cs, std::move(h), error);
    if (!consumer_) {
      result_.error = "cannot create the DLQ consumer: " + error;
      return false;
    }
    if (!sends())
      return true;
    producer_settings ps;
    ps.brokers = s_.brokers;
    ps.client_id = "flashsale-order-dlq-redrive";
    ps.message_timeout_ms = static_cast<int>(s_.wait.count());
    ps.gapless = false; // a copy that fails is reported; the others still go
    producer_ = producer::create(
      ps, [this](const delivery_report& r) { reports_[r.token] = r; }, nullptr, error);
    if (!producer_)
      result_.error = "cannot create the producer: " + error;
    return producer_ != nullptr;
  }

  bool all_at_end() const {
    if (at_end_.empty())
      return false;
    for (const auto& [tp, end] : at_end_)
      if (!end)
        return false;
    return true;
  }

  /// Reads until every assigned partition is at its end, or the limit is reached.
  bool read_to_end() {
    auto deadline = steady::now() + s_.wait;
    while (!(s_.limit > 0 && result_.seen >= s_.limit) && !all_at_end()) {
      if (result_.error)
        return false;
      if (steady::now() > deadline) {
        result_.error = at_end_.empty() ? "no partition of " + s_.topic + " assigned to group "
                                            + s_.group_id + " in time"
                                        : "no message and no end of " + s_.topic + " in time";
        return false;
      }
      auto r = consumer_->consume(consume_step);
      if (r.what == consume_result::message) {
        at_end_[{r.msg.topic, r.msg.partition}] = false;
        handle(std::move(r.msg));
        deadline = steady::now() + s_.wait;
      } else if (r.what == consume_result::partition_eof) {
        at_end_[{r.msg.topic, r.msg.partition}] = true;
      }
    }
    return true;
  }

  void handle(consumed_message m) {
    ++result_.seen;
    next_[{m.topic, m.partition}] = m.offset + 1;
    dlq_entry e;
    e.plan = plan_redrive(m.headers, s_.options);
    e.msg = std::move(m);
    if (!s_.replay) {
      e.outcome = "listed";
    } else if (e.plan.what == redrive_plan::pass_over) {
      e.outcome = "passed_over";
      ++result_.passed_over;
    } else if (e.plan.what == redrive_plan::refuse) {
      e.outcome = "refused";
      ++result_.refused;
    } else if (s_.dry_run) {
      e.outcome = "would_replay";
    } else {
      send(std::move(e));
      return;
    }
    report_(e);
  }

  /// Kept until the end of the topic is reached: a copy sent earlier could come back to
  /// the DLQ (still poison) before this run ends and be taken for a new dead letter.
  void send(dlq_entry e) { pending_.push_back(std::move(e)); }

  void produce_pending() {
    for (std::size_t i = 0; i < pending_.size(); ++i) {
      const auto& e = pending_[i];
      if (auto refused = producer_->produce(e.plan.source_topic, e.msg.key.value_or(""),
                                            e.msg.value, e.plan.headers, i))
        reports_[i] = *refused;
    }
  }

  /// Sends the replays, waits for every one, reports them, and commits past what is done:
  /// in each partition up to (not including) the first copy that failed.
  void finish() {
    if (producer_)
      produce_pending();
    if (producer_ && producer_->flush(s_.wait) > 0 && !result_.error)
      result_.error = "copies not acknowledged within " + std::to_string(s_.wait.count()) + " ms";
    std::map<partition_key, std::int64_t> stop = next_;
    for (std::size_t i = 0; i < pending_.size(); ++i) {
      auto& e = pending_[i];
      auto r = reports_.find(i);
      bool ok = r != reports_.end() && r->second.ok;
      e.outcome = ok ? "replayed" : "failed";
      if (!ok) {
        e.plan.why = r == reports_.end() ? "no delivery report" : r->second.error;
        ++result_.failed;
        auto& at = stop[{e.msg.topic, e.msg.partition}];
        at = std::min(at, e.msg.offset);
      } else {
        ++result_.replayed;
      }
      report_(e);
    }
    if (result_.failed > 0 && !result_.error)
      result_.error = std::to_string(result_.failed) + " copies were not delivered";
    if (sends())
      commit(stop);
  }

  void commit(const std::map<partition_key, std::int64_t>& stop) {
    std::vector<topic_partition> offsets;
    for (const auto& [tp, offset] : stop)
      offsets.push_back({tp.first, tp.second, offset, true});
    if (offsets.empty())
      return;
    if (auto err = consumer_->commit(offsets))
      result_.error = "commit failed (a rerun sends these again): " + *err;
  }

  const dlq_run_settings& s_;
  const std::function<void(const dlq_entry&)>& report_;
  dlq_run_result result_;
  std::unique_ptr<consumer_client> consumer_;
  std::unique_ptr<producer> producer_;
  std::map<partition_key, bool> at_end_;
  std::map<partition_key, std::int64_t> next_;
  std::vector<dlq_entry> pending_;
  std::map<std::uint64_t, delivery_report> reports_;
};

} // namespace

dlq_run_result run_dlq(const dlq_run_settings& settings,
                       const std::function<void(const dlq_entry&)>& report) {
  return dlq_run{settings, report}.go();
}

} // namespace flashsale::kafka
