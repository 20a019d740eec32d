#pragma once
// Stub ports of the outbox relay (actors/outbox/relay_ports.hpp) for actor tests: an
// outbox store that hands out the claims the test scripts and records what the relay
// tells it, and a message sink that answers each produced row as the test scripts,
// after a latency measured on the relay's clock (a scripted refusal may stop the sink
// for good, as the gapless guarantee does; the sink factory may fail to make one).
// Nothing blocks: a wait moves that clock instead (await_notification by its whole
// timeout, flush until the reports are due or the timeout passes). Only our own ports
// are stubbed here: PostgreSQL and Kafka stay real in the integration tests.

#include "actors/outbox/relay_ports.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace flashsale::test {

/// What the sink does with one produced row.
enum class send_fate {
  ok,               // acknowledged
  fail,             // a passing failure (brokers away, timed out)
  too_large,        // the broker refused the record batch it travelled in
  refuse,           // refused at once by the producer, passing (queue full)
  refuse_too_large, // refused at once, for its own size
  fatal,            // a broker refused it and the sink stopped: with the gapless guarantee
                    // any refusal is fatal; the report fails (passing), the sink is done
};

/// A finished batch as the store was told it.
struct completion {
  persistence::outbox_claim claim;
  std::vector<std::int64_t> sent;
  std::vector<persistence::outbox_failure> failed;

  /// The claim's rows neither sent nor failed: released, in seq order.
  std::vector<std::int64_t> released() const {
    std::vector<std::int64_t> out;
    for (const auto& row : claim.rows) {
      bool failed_row = std::any_of(failed.begin(), failed.end(),
                                    [&](const auto& f) { return f.seq == row.seq; });
      if (!failed_row && std::find(sent.begin(), sent.end(), row.seq) == sent.end())
        out.push_back(row.seq);
    }
    return out;
  }
};

/// The world the stubs share with the test.
struct relay_world {
  using steady = std::chrono::steady_clock;
  steady::time_point now{}; // the relay's clock

  // The store.
  std::deque<persistence::outbox_claim> claims; // the next claims; empty ones after them
  std::multiset<std::string> fail_next;          // calls ("claim", "complete"...) to throw once
  int notifications = 0;                         // the next await_notification serves these
  int prepares = 0;
  int claim_calls = 0;
  int disconnects = 0;
  std::vector<completion> completions;
  std::vector<std::int64_t> released_claims; // claim ids given back whole (release)

  // The sink.
  std::map<std::int64_t, std::deque<send_fate>> fates; // per seq, one a produce; ok after
  std::chrono::milliseconds latency{0};                // a report comes this long after produce
  std::vector<std::int64_t> produced;                  // seqs as produced (refused ones too)
  std::vector<int> produced_by;                        // the sink of each (1 = the first made)
  std::vector<int> outstanding_at_produce;             // the sink's outstanding rows then
  std::optional<std::size_t> produce_throws_at;        // the produce() after this many throws
  int sinks_made = 0;
  int sinks_unavailable = 0; // the next this many sinks cannot be made (the factory gives null)
  int sink_attempts = 0;     // calls of the sink factory, made or not
  int purges = 0;

  void maybe_throw(const std::string& call) {
    auto i = fail_next.find(call);
    if (i == fail_next.end())
      return;
    fail_next.erase(i);
    throw std::runtime_error("stub: " + call + " failed");
  }

  send_fate next_fate(std::int64_t seq) {
    auto& q = fates[seq];
    if (q.empty())
      return send_fate::ok;
    auto f = q.front();
    q.pop_front();
    return f;
  }
};

class stub_outbox_store final : public outbox_store {
public:
  explicit stub_outbox_store(std::shared_ptr<relay_world> w) : w_(std::move(w)) {}

  void prepare() override {
    w_->maybe_throw("prepare");
    ++w_->prepares;
  }

  persistence::outbox_claim claim(std::size_t, std::size_t, std::chrono::milliseconds,
                                  bool) override {
    ++w_->claim_calls;
    w_->maybe_throw("claim");
    if (w_->claims.empty())
      return {};
    auto c = std::move(w_->claims.front());
    w_->claims.pop_front();
    return c;
  }

  bool has_due_rows() override { return false; }

  void complete(const persistence::outbox_claim& claim, const std::vector<std::int64_t>& sent,
                const std::vector<persistence::outbox_failure>& failed) override {
    w_->maybe_throw("complete");
    w_->completions.push_back({claim, sent, failed});
  }

  void release(const persistence::outbox_claim& claim) override {
    w_->maybe_throw("release");
    w_->released_claims.push_back(claim.claim_id);
  }

  int await_notification(std::chrono::microseconds timeout) override {
    w_->maybe_throw("await");
    if (w_->notifications > 0)
      return std::exchange(w_->notifications, 0);
    w_->now += timeout; // nothing came: the whole wait passed
    return 0;
  }

  void disconnect() override { ++w_->disconnects; }

private:
  std::shared_ptr<relay_world> w_;
};

class stub_message_sink final : public message_sink {
public:
  stub_message_sink(std::shared_ptr<relay_world> w, report_handler on_report, int number)
    : w_(std::move(w)), on_report_(std::move(on_report)), number_(number) {}

  std::optional<kafka::delivery_report> produce(const std::string&,
                                                const persistence::outbox_row& row,
                                                std::uint64_t token) override {
    if (w_->produce_throws_at == w_->produced.size()) {
      w_->produce_throws_at.reset();
      throw std::runtime_error("stub: produce failed");
    }
    w_->produced.push_back(row.seq);
    w_->produced_by.push_back(number_);
    w_->outstanding_at_produce.push_back(outstanding());
    if (fatal_) // a stopped producer refuses everything
      return report(token, false, false, "Local: Fatal error");
    auto fate = w_->next_fate(row.seq);
    if (fate == send_fate::refuse || fate == send_fate::refuse_too_large) {
      bool permanent = fate == send_fate::refuse_too_large;
      return report(token, false, permanent,
                    permanent ? "Broker: Message size too large" : "Local: Queue full");
    }
    flying_.push_back({report_of(token, fate), w_->now + w_->latency, fate == send_fate::fatal});
    return std::nullopt;
  }

  int flush(std::chrono::milliseconds timeout) override {
    auto deadline = w_->now + timeout;
    for (;;) {
      while (!flying_.empty() && flying_.front().due <= w_->now) {
        auto r = flying_.front().report;
        if (flying_.front().stops_sink)
          fatal_ = "Local: Fatal error: broker refused a message (gapless guarantee)";
        flying_.pop_front();
        on_report_(r);
      }
      if (flying_.empty() || flying_.front().due > deadline)
        break;
      w_->now = flying_.front().due;
    }
    if (!flying_.empty())
      w_->now = std::max(w_->now, deadline); // waited the whole timeout
    return outstanding();
  }

  int outstanding() const override { return static_cast<int>(flying_.size()); }

  void purge() override {
    ++w_->purges;
    for (auto& f : flying_) {
      f.report = report(f.report.token, false, false, "Local: Purged in queue");
      f.due = w_->now;
    }
  }

  std::optional<std::string> fatal_error() const override { return fatal_; }

private:
  struct in_flight {
    kafka::delivery_report report;
    std::chrono::steady_clock::time_point due;
    bool stops_sink = false; // serving it stops the sink (send_fate::fatal)
  };

  static kafka::delivery_report report(std::uint64_t token, bool ok, bool permanent,
                                       std::string error) {
    kafka::delivery_report r;
    r.token = token;
    r.ok = ok;
    r.permanent = permanent;
    r.error = std::move(error);
    return r;
  }

  static kafka::delivery_report report_of(std::uint64_t token, send_fate fate) {
    switch (fate) {
      case send_fate::ok:
        return report(token, true, false, {});
      case send_fate::too_large:
        return report(token, false, true, "Broker: Message size too large");
      case send_fate::fatal:
        return report(token, false, false, "Local: Fatal error");
      default:
        return report(token, false, false, "Local: Message timed out");
    }
  }

  std::shared_ptr<relay_world> w_;
  report_handler on_report_;
  int number_; // 1 for the first sink made over the world, 2 for the next...
  std::deque<in_flight> flying_;
  std::optional<std::string> fatal_;
};

/// Ports over `w`: the store and every sink the relay makes share it.
inline relay_ports stub_relay_ports(std::shared_ptr<relay_world> w) {
  relay_ports ports;
  ports.store = [w]() -> std::unique_ptr<outbox_store> {
    return std::make_unique<stub_outbox_store>(w);
  };
  ports.sink = [w](message_sink::report_handler on_report) -> std::unique_ptr<message_sink> {
    ++w->sink_attempts;
    if (w->sinks_unavailable > 0) {
      --w->sinks_unavailable;
      return nullptr;
    }
    return std::make_unique<stub_message_sink>(w, std::move(on_report), ++w->sinks_made);
  };
  ports.now = [w] { return w->now; };
  return ports;
}

} // namespace flashsale::test
