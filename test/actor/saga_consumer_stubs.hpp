#pragma once
// Stub ports for the saga consumer's actor tests (actors/saga/consumer_ports.hpp): data
// clients whose consume() gives what the test scripted and whose add() and remove()
// refuse what librdkafka's incremental (un)assign refuses, a DLQ writer whose deliveries
// the test acknowledges, a membership that owns a fixed set of shards until the test
// has the group revoke (or lose) some or assign some back (each assignment under a new
// epoch the stub hands out, or refuses while the test says the database is down), a registry that holds every event's answer until the test
// releases it, and one that records the releases of revoked shards' actors.
// Only our own ports are stubbed here: Kafka and the database stay real in the
// integration and e2e tests.

#include "actors/cluster/shard_ownership.hpp"
#include "actors/order/order_protocol.hpp"
#include "actors/saga/consumer_ports.hpp"
#include "actors/saga/consumer_state.hpp"
#include "actors/saga/shard_membership.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/typed_event_based_actor.hpp>

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

using answer_atom = caf::atom_constant<caf::atom("t_answer")>;

/// What one data client was given and did.
struct stub_client_log {
  std::deque<kafka::consumed_message> script; // consume() gives these, then nothing
  std::vector<kafka::topic_partition> added;
  std::vector<kafka::topic_partition> removed;
  std::set<partition_id> assigned;    // added and not removed since
  std::vector<std::string> refused;   // "assign" / "unassign" calls refused as a whole
  bool assignment_ok = true; // the test sets false: librdkafka refused an assign
  bool paused = false;       // pause_all() taken: consume() gives nothing, as librdkafka
  bool closed = false;
};

/// The shards' group takes `shards` from this node at the membership's next poll().
struct stub_revoke {
  std::vector<int> shards;
  bool lost = false; // the session expired: another member may own them already
};

/// A shard epoch the membership took (saga_membership::take_epoch).
struct stub_epoch {
  int shard = 0;
  std::int64_t epoch = 0;
  std::size_t added_before = 0; // partitions the data client had been given by then
};

/// Everything the stub ports saw, shared by the test and the stubs.
struct stub_kafka {
  std::vector<std::shared_ptr<stub_client_log>> clients; // every data client made, in order
  std::map<partition_id, std::vector<std::int64_t>> commits; // positions, as committed
  std::vector<std::pair<kafka::consumed_message, std::string>> dlq; // copies; token = index + 1
  std::deque<std::uint64_t> dlq_acks; // acknowledged at the writer's next poll()
  std::set<std::uint64_t> dlq_acked;
  std::set<std::uint64_t> dlq_forgotten; // unacknowledged copies forget_unsent() matched
  std::deque<stub_revoke> revokes;       // served by the membership's next poll()
  std::deque<std::vector<int>> assigns;  // the group gives these shards, after revokes
  std::vector<stub_epoch> epochs;        // every epoch taken after the first step's
  std::vector<int> epoch_attempts;       // the shard of every take_epoch, refused or not
  std::map<int, int> epoch_refusals;     // take_epoch throws for the shard this many times more
  std::map<int, int> epoch_busy;         // the same, as shard_epoch_refused (this shard only)
  std::int64_t next_epoch = 2;           // the first step owns its shards under epoch 1
  /// The shards' client revokes what it holds when closed, as librdkafka does; false: a
  /// close librdkafka refused (no revoke).
  bool close_revokes = true;
  kafka::dlq_handlers dlq_handlers;

  /// The highest position committed for `p`, -1 when none was.
  std::int64_t committed(const partition_id& p) const {
    auto i = commits.find(p);
    return i == commits.end() || i->second.empty() ? -1 : i->second.back();
  }
};

/// librdkafka 2.0's incremental_assign() refuses the whole list when one partition is
/// assigned already, incremental_unassign() when one is not assigned (the assignment is
/// checked before it is changed); the refusal comes to the handlers' `failed`, as from
/// kafka::consumer_client, and a refused assign turns assignment_ok() false.
class stub_data_client final : public saga_data_client {
public:
  stub_data_client(std::shared_ptr<stub_kafka> k, std::shared_ptr<stub_client_log> log,
                   kafka::consumer_client::handlers h)
    : k_(std::move(k)), log_(std::move(log)), h_(std::move(h)) {}

  kafka::consume_result consume(std::chrono::milliseconds) override {
    kafka::consume_result r;
    if (log_->script.empty() || log_->paused)
      return r; // nothing: never blocks, the actor's next step is a timer
    r.what = kafka::consume_result::message;
    r.msg = std::move(log_->script.front());
    log_->script.pop_front();
    return r;
  }
  std::optional<std::string> commit(std::vector<kafka::topic_partition>& offsets) override {
    for (auto& tp : offsets) {
      tp.ok = true;
      k_->commits[{tp.topic, tp.partition}].push_back(tp.offset);
    }
    return std::nullopt;
  }
  bool add(const std::vector<kafka::topic_partition>& partitions, bool) override {
    for (const auto& tp : partitions)
      if (log_->assigned.count({tp.topic, tp.partition}) > 0) {
        log_->assignment_ok = false;
        return refuse("assign", tp);
      }
    for (const auto& tp : partitions)
      log_->assigned.insert({tp.topic, tp.partition});
    log_->added.insert(log_->added.end(), partitions.begin(), partitions.end());
    return true;
  }
  bool remove(const std::vector<kafka::topic_partition>& partitions) override {
    for (const auto& tp : partitions)
      if (log_->assigned.count({tp.topic, tp.partition}) == 0)
        return refuse("unassign", tp);
    for (const auto& tp : partitions)
      log_->assigned.erase({tp.topic, tp.partition});
    log_->removed.insert(log_->removed.end(), partitions.begin(), partitions.end());
    return true;
  }
  std::optional<int> partition_count(const std::string&, std::chrono::milliseconds,
                                     std::string&) override {
    return 1;
  }
  bool pause_all() override {
    log_->paused = true;
    return true;
  }
  bool resume_all() override {
    log_->paused = false;
    return true;
  }
  bool assignment_ok() const override { return log_->assignment_ok; }
  std::optional<std::int64_t> high_watermark(const std::string&, std::int32_t) override {
    return std::nullopt;
  }
  void close() override { log_->closed = true; }

private:
  bool refuse(const std::string& op, const kafka::topic_partition& tp) {
    log_->refused.push_back(op);
    if (h_.failed)
      h_.failed(op, "Local: Invalid argument or configuration",
                tp.topic + "[" + std::to_string(tp.partition) + "]");
    return false;
  }

  std::shared_ptr<stub_kafka> k_;
  std::shared_ptr<stub_client_log> log_;
  kafka::consumer_client::handlers h_;
};

/// Delivery reports come only inside poll(), as librdkafka's do, for the tokens the test
/// acknowledges: a forgotten copy's too, as for one produced before it was forgotten.
class stub_dlq final : public saga_dlq {
public:
  explicit stub_dlq(std::shared_ptr<stub_kafka> k) : k_(std::move(k)) {}

  std::uint64_t write(const kafka::consumed_message& m, const std::string& reason) override {
    k_->dlq.emplace_back(m, reason);
    return k_->dlq.size();
  }
  void pump() override {}
  void poll() override {
    while (!k_->dlq_acks.empty()) {
      auto token = k_->dlq_acks.front();
      k_->dlq_acks.pop_front();
      k_->dlq_acked.insert(token);
      k_->dlq_handlers.delivered(token, false);
    }
  }
  int flush(std::chrono::milliseconds) override { return 0; }
  void forget_unsent(const partition_test& from_partition) override {
    for (std::uint64_t token = 1; token <= k_->dlq.size(); ++token) {
      const auto& m = k_->dlq[token - 1].first;
      if (k_->dlq_acked.count(token) == 0 && from_partition(m.topic, m.partition))
        k_->dlq_forgotten.insert(token);
    }
  }

private:
  std::shared_ptr<stub_kafka> k_;
};

/// Owns `shards` (of as many) under epoch 1 from the first step on until the test scripts
/// a revoke (stub_kafka::revokes) or an assignment (stub_kafka::assigns): poll() first
/// retries the pending shards' epochs, then hands the rebalances to the service's own
/// handlers (shard_membership.hpp), as poll_membership does around the shards' client's
/// consume(). close() leaves through the service's leave_shards_group, as
/// close_membership does (a new data client closes the membership too); the next
/// ensure() joins again and the group gives back what it held (a static member that
/// comes back in time), each shard under a new epoch.
class scripted_membership final : public saga_membership {
public:
  scripted_membership(std::shared_ptr<stub_kafka> k, std::vector<int> shards)
    : k_(std::move(k)), shards_(std::move(shards)), held_(shards_.begin(), shards_.end()) {}

  bool ensure(consumer_state& st) override {
    if (joined_)
      return true;
    joined_ = true;
    if (left_) { // joins again: the group answers at the next poll()
      k_->assigns.push_back(std::move(rejoin_));
      rejoin_.clear();
      return true;
    }
    auto& own = *st.shards.ownership;
    own.set_count(static_cast<int>(shards_.size()));
    for (int s : shards_)
      own.acquired(s, 1);
    own.mark_joined();
    flashsale::reassign_owned(st); // the shards' partitions, to the data client
    return true;
  }
  void poll(consumer_state& st) override {
    retry_pending(st);
    while (!k_->revokes.empty()) {
      auto r = std::move(k_->revokes.front());
      k_->revokes.pop_front();
      for (int s : r.shards)
        held_.erase(s);
      on_shards_revoked(st, parts_of(st, r.shards), r.lost);
    }
    while (!k_->assigns.empty()) {
      auto given = std::move(k_->assigns.front());
      k_->assigns.pop_front();
      held_.insert(given.begin(), given.end());
      on_shards_assigned(st, parts_of(st, given));
    }
  }
  void close(consumer_state& st) override {
    leave_shards_group(st, [&] {
      std::vector<int> held(held_.begin(), held_.end());
      if (k_->close_revokes && !held.empty())
        on_shards_revoked(st, parts_of(st, held), false);
      held_.clear();
      rejoin_ = std::move(held);
    });
    joined_ = false;
    left_ = true;
  }
  void reassign_owned(consumer_state& st) override { flashsale::reassign_owned(st); }
  std::int64_t take_epoch(consumer_state& st, int shard, std::size_t&) override {
    k_->epoch_attempts.push_back(shard);
    if (auto i = k_->epoch_refusals.find(shard); i != k_->epoch_refusals.end() && i->second > 0) {
      --i->second;
      throw std::runtime_error("the database does not answer (stub)");
    }
    if (auto i = k_->epoch_busy.find(shard); i != k_->epoch_busy.end() && i->second > 0) {
      --i->second;
      throw shard_epoch_refused("the shard's lock stays taken (stub)");
    }
    auto added = st.consumer ? k_->clients.back()->added.size() : 0;
    k_->epochs.push_back({shard, k_->next_epoch, added});
    return k_->next_epoch++;
  }

private:
  /// The shards' topic's partitions (the first saga topic's) of `shards`.
  static std::vector<kafka::topic_partition> parts_of(const consumer_state& st,
                                                      const std::vector<int>& shards) {
    std::vector<kafka::topic_partition> parts;
    for (int s : shards)
      parts.push_back({st.cfg.topics.front(), s, kafka::committed_offset, true});
    return parts;
  }

  std::shared_ptr<stub_kafka> k_;
  std::vector<int> shards_;
  std::set<int> held_; // what the shards' client holds: given and not taken since
  std::vector<int> rejoin_; // what it held when it left: given back when it joins again
  bool joined_ = false;
  bool left_ = false;
};

inline consumer_ports stub_ports(std::shared_ptr<stub_kafka> k, std::vector<int> shards,
                                 std::chrono::milliseconds idle_step) {
  consumer_ports p;
  p.make_client = [k](const kafka::consumer_client_settings&, kafka::consumer_client::handlers h,
                      std::string&) -> std::unique_ptr<saga_data_client> {
    k->clients.push_back(std::make_shared<stub_client_log>());
    return std::make_unique<stub_data_client>(k, k->clients.back(), std::move(h));
  };
  p.make_dlq = [k](const std::string&, const std::string&, kafka::dlq_handlers h,
                   std::string&) -> std::unique_ptr<saga_dlq> {
    k->dlq_handlers = std::move(h);
    return std::make_unique<stub_dlq>(k);
  };
  p.membership = std::make_shared<scripted_membership>(k, std::move(shards));
  p.idle_step = idle_step;
  return p;
}

/// The registry's requests as it got them; their answers wait for the test.
struct stub_orders {
  struct request {
    incoming_event event;
    std::optional<shard_fence> fence; // the order's fence when it came (what it writes under)
    caf::response_promise answer;
    bool answered = false;
  };
  std::vector<request> requests;
};

/// Speaks order_api's (event_atom, incoming_event) -> event_reply; (answer_atom, i,
/// reply) answers the i-th request it got. Records each order's fence in `ownership`
/// when its event comes, as the registry spawns its actor with (order_registry.cpp).
inline order_api spawn_stub_registry(caf::actor_system& sys, std::shared_ptr<stub_orders> orders,
                                     std::shared_ptr<shard_ownership> ownership) {
  auto a = sys.spawn([orders, ownership](caf::event_based_actor* self) -> caf::behavior {
    return {
      [=](event_atom, const incoming_event& ev) -> caf::result<event_reply> {
        auto rp = self->make_response_promise();
        orders->requests.push_back({ev, ownership->fence_of(ev.order_id), rp, false});
        return rp;
      },
      [orders](answer_atom, std::size_t i, const event_reply& reply) {
        auto& r = orders->requests.at(i);
        r.answered = true;
        r.answer.deliver(reply);
      },
    };
  });
  return caf::actor_cast<order_api>(a);
}

/// The registry's release side: records what it was told to release.
inline release_api spawn_stub_release(caf::actor_system& sys,
                                      std::shared_ptr<std::vector<ownership_test>> got) {
  return sys.spawn([got]() -> release_api::behavior_type {
    return {[got](release_atom, const ownership_test& owns) { got->push_back(owns); }};
  });
}

} // namespace flashsale::test
