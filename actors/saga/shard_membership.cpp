#include "actors/saga/shard_membership.hpp"

#include "actors/cluster/shard_ownership.hpp"
#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "actors/saga/consumer_state.hpp"
#include "persistence/shard_repository.hpp"

#include <caf/send.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace flashsale {

namespace {

std::string shard_list(const std::vector<int>& shards) {
  std::string out;
  for (int s : shards)
    out += (out.empty() ? "" : ",") + std::to_string(s);
  return out;
}

/// Every saga topic's partition of each shard (the topics are co-partitioned, CONTRACT §5).
std::vector<kafka::topic_partition> saga_partitions(const consumer_state& st,
                                                    const std::vector<int>& shards) {
  std::vector<kafka::topic_partition> out;
  for (const auto& topic : st.cfg.topics)
    for (int s : shards)
      out.push_back({topic, s, kafka::committed_offset, true});
  return out;
}

/// Held here until now: owned under an epoch, and not kept after a lost session (such a
/// shard's partitions went, and it was counted lost, when the session was lost).
bool held(const consumer_state& st, int shard) {
  return st.shards.ownership->fence_of_shard(shard) && st.handoff.lost().count(shard) == 0;
}

/// Those of `shards` the data client reads: held and not waiting for a new epoch (their
/// partitions are added once it is taken). librdkafka refuses a whole unassign that names
/// one partition it does not hold.
std::vector<int> being_read(const consumer_state& st, const std::vector<int>& shards) {
  std::vector<int> out;
  for (int s : shards)
    if (held(st, s) && st.handoff.pending().count(s) == 0)
      out.push_back(s);
  return out;
}

void update_owned_gauge(consumer_state& st) {
  st.metrics.gauges->shards_owned = static_cast<double>(st.shards.ownership->owned_count());
}

/// Reads the shards' saga partitions from their committed offsets.
void start_reading(consumer_state& st, const std::vector<int>& shards) {
  auto parts = saga_partitions(st, shards);
  std::vector<partition_id> ids;
  for (const auto& tp : parts)
    ids.push_back({tp.topic, tp.partition});
  st.pipeline.on_assign(ids);
  if (st.consumer)
    st.consumer->add(parts, st.pipeline.flow().paused());
}

/// Tried again every step while it fails: logged once per restart_pause.
void warn_epoch_not_taken(consumer_state& st, int shard, const std::exception& e) {
  if (st.now() < st.acquire_quiet_until)
    return;
  st.acquire_quiet_until = st.now() + st.cfg.restart_pause;
  log::warn("shard epoch not taken, retrying",
            {{"shard", std::to_string(shard)}, {"error", e.what()}});
}

/// Raises the epochs of the pending shards; those the database did not take stay
/// pending for the next step.
void acquire_pending(consumer_state& st) {
  std::vector<int> taken;
  for (int shard : std::vector<int>(st.handoff.pending().begin(), st.handoff.pending().end())) {
    std::size_t ended = 0;
    try {
      auto epoch = st.ports.membership->take_epoch(st, shard, ended);
      st.shards.ownership->acquired(shard, epoch);
      st.metrics.shard_acquisitions->inc();
      st.handoff.acquired(shard);
      taken.push_back(shard);
    } catch (const shard_epoch_refused& e) {
      warn_epoch_not_taken(st, shard, e);
      continue; // this shard alone: the others are still tried, it is at the next step
    } catch (const std::exception& e) {
      warn_epoch_not_taken(st, shard, e);
      break; // the database is likely down: the next step tries again
    }
    if (ended > 0) {
      st.metrics.shard_writers_ended->inc(static_cast<double>(ended));
      log::warn("ended the previous owner's open transactions on a shard",
                {{"shard", std::to_string(shard)}, {"transactions", std::to_string(ended)}});
    }
  }
  if (st.handoff.pending().empty())
    st.shards.ownership->mark_joined();
  if (taken.empty())
    return;
  start_reading(st, taken);
  update_owned_gauge(st);
  log::info("shards acquired", {{"node_id", st.cfg.node_id}, {"shards", shard_list(taken)}});
}

void release(consumer_state& st, const std::vector<int>& shards) {
  if (shards.empty())
    return;
  st.shards.ownership->released(shards);
  update_owned_gauge(st);
  auto own = st.shards.ownership;
  ownership_test owns = [own](const std::string& id) { return own->owns(id); };
  caf::anon_send(st.shards.registry, release_atom::value, std::move(owns));
}

} // namespace

std::int64_t take_shard_epoch(consumer_state& st, int shard, std::size_t& ended) {
  try {
    return st.epochs_db->with([&](pqxx::connection_base& conn) {
      return persistence::acquire_shard(conn, shard, st.cfg.node_id, st.cfg.acquire_wait, &ended);
    });
  } catch (const persistence::shard_lock_taken& e) {
    throw shard_epoch_refused(e.what()); // the database answered: this shard alone
  }
}

bool on_shards_assigned(consumer_state& st, const std::vector<kafka::topic_partition>& parts) {
  st.metrics.rebalances->inc();
  st.ever_assigned = true;
  std::vector<int> given;
  for (const auto& tp : parts)
    given.push_back(tp.partition);
  // After a lost session: what the group did not give back is another node's now.
  auto gone = st.handoff.assigned(given);
  if (!gone.empty()) {
    release(st, gone);
    log::info("lost shards released", {{"node_id", st.cfg.node_id}, {"shards", shard_list(gone)}});
  }
  acquire_pending(st); // an empty assignment too: the group has answered
  return true; // paused: nothing of the shards' topic is ever read by this client
}

void on_shards_revoked(consumer_state& st, const std::vector<kafka::topic_partition>& parts,
                       bool lost) {
  st.metrics.rebalances->inc();
  std::vector<int> shards;
  for (const auto& tp : parts)
    shards.push_back(tp.partition);
  auto data = saga_partitions(st, shards);
  std::set<partition_id> revoked;
  for (const auto& tp : data)
    revoked.insert({tp.topic, tp.partition});
  if (!lost)
    commit(st, revoked); // lost: another member may own them already, its commits count
  auto read = being_read(st, shards);
  if (st.consumer && !read.empty())
    st.consumer->remove(saga_partitions(st, read));
  st.pipeline.on_revoke(revoked);
  if (st.dlq_writer)
    st.dlq_writer->forget_unsent([&](const std::string& topic, std::int32_t partition) {
      return revoked.count({topic, partition}) > 0;
    });
  // Counted: the shards held until now, not one kept after a lost session (the fallback
  // at stop only releases it) nor one still waiting for its first epoch here.
  auto newly = std::count_if(shards.begin(), shards.end(), [&](int s) { return held(st, s); });
  (lost ? st.metrics.shards_lost : st.metrics.shards_revoked)->inc(static_cast<double>(newly));
  log::info("shards revoked", {{"node_id", st.cfg.node_id},
                               {"shards", shard_list(shards)},
                               {"lost", lost ? "true" : "false"}});
  // Lost ones stay written (not read) under their epochs until the group answers again.
  release(st, st.handoff.revoked(shards, lost, st.closing, [&](int s) {
    return st.shards.ownership->fence_of_shard(s).has_value();
  }));
}

namespace {

std::unique_ptr<kafka::consumer_client> make_membership(consumer_state& st, std::string& error) {
  kafka::consumer_client_settings s;
  s.brokers = st.cfg.kafka_brokers;
  s.group_id = st.cfg.group_id + st.cfg.shards_group_suffix;
  s.client_id = "flashsale-order-shards";
  s.topics = {st.cfg.topics.front()};
  s.session_timeout = st.cfg.session_timeout;
  s.extra = st.cfg.consumer_extra;
  s.cooperative = true;
  if (st.cfg.static_membership)
    s.instance_id = st.cfg.node_id;
  kafka::consumer_client::handlers h;
  h.assigned = [&st](const auto& parts) { return on_shards_assigned(st, parts); };
  h.revoked = [&st](const auto& parts, bool lost) { on_shards_revoked(st, parts, lost); };
  h.log = [](kafka::log_severity, const std::string& what, const std::string& detail) {
    log::warn("kafka shards group", {{"error", what}, {"detail", detail}});
  };
  h.failed = [](const std::string& op, const std::string& err, const std::string& parts) {
    log::error("shards group: librdkafka refused a call",
               {{"op", op}, {"error", err}, {"partitions", parts}});
  };
  return kafka::consumer_client::create(s, std::move(h), error);
}

/// The shard count: the partition count of the first saga topic; the others must match.
bool learn_shard_count(consumer_state& st) {
  if (st.shards.ownership->count() > 0)
    return true;
  std::optional<int> count;
  for (const auto& topic : st.cfg.topics) {
    std::string error;
    auto n = st.consumer->partition_count(topic, st.cfg.metadata_timeout, error);
    if (!n) {
      log::warn("saga topic's partition count unknown, retrying",
                {{"topic", topic}, {"error", error}});
      return false;
    }
    if (!count)
      count = n;
    else if (*n != *count)
      log::error("saga topics differ in partition count: events of one order land on "
                 "different shards and are forwarded (CONTRACT §5)",
                 {{"topic", topic}, {"partitions", std::to_string(*n)},
                  {"shards", std::to_string(*count)}});
  }
  st.shards.ownership->set_count(*count);
  log::info("shard count", {{"shards", std::to_string(*count)}});
  return true;
}

/// Deadline rows written before migration 000013 get their shard, once per process.
void backfill(consumer_state& st) {
  if (st.backfilled)
    return;
  try {
    auto n = st.epochs_db->with([&](pqxx::connection_base& conn) {
      return persistence::backfill_deadline_shards(conn, st.shards.ownership->count(),
                                                   st.cfg.backfill_batch);
    });
    st.backfilled = true;
    if (n > 0)
      log::info("deadline rows given their shard", {{"rows", std::to_string(n)}});
  } catch (const std::exception& e) {
    log::warn("deadline shards not filled in, retrying", {{"error", e.what()}});
  }
}

} // namespace

bool ensure_membership(consumer_state& st) {
  if (!st.epochs_db)
    st.epochs_db = std::make_unique<persistence::pg_session>(st.cfg.database_url);
  if (!learn_shard_count(st))
    return false;
  backfill(st);
  if (st.membership)
    return true;
  std::string error;
  st.membership = make_membership(st, error);
  if (!st.membership) {
    log::error("shards group client cannot be created", {{"error", error}});
    return false;
  }
  log::info("joining the shards group",
            {{"group_id", st.cfg.group_id + st.cfg.shards_group_suffix},
             {"instance_id", st.cfg.static_membership ? st.cfg.node_id : "(dynamic)"}});
  return true;
}

void poll_membership(consumer_state& st) {
  if (!st.membership)
    return;
  retry_pending(st);
  // Rebalances are served inside consume(); the partitions are paused, nothing comes.
  st.membership->consume(std::chrono::milliseconds{0});
  if (!st.membership->assignment_ok()) {
    log::error("shards group: assignment refused, joining again", {});
    close_membership(st);
  }
}

void close_membership(consumer_state& st) {
  if (!st.membership)
    return;
  leave_shards_group(st, [&st] {
    // librdkafka 2.0.2 crashes when a cooperative-sticky member that has joined but not
    // yet received its first assignment is closed or destroyed (#4312: the assignor's
    // state is still null). Let the group answer first, within a bound.
    auto until = std::chrono::steady_clock::now() + st.cfg.first_assignment_wait;
    while (!st.ever_assigned && std::chrono::steady_clock::now() < until)
      st.membership->consume(std::chrono::milliseconds{50});
    st.membership->close(); // revokes every shard through on_shards_revoked
    st.membership.reset();
  });
}

void leave_shards_group(consumer_state& st, const std::function<void()>& close_client) {
  st.closing = true;
  close_client();
  // A close that could not revoke (refused), or shards kept after a lost session that the
  // client no longer holds, must still not leave shards owned here.
  auto left = st.shards.ownership->owned();
  if (!left.empty()) {
    std::vector<kafka::topic_partition> parts;
    for (int s : left)
      parts.push_back({st.cfg.topics.front(), s, -1, true});
    on_shards_revoked(st, parts, true);
  }
  st.handoff.clear();
  st.closing = false;
  st.ever_assigned = false;
}

void retry_pending(consumer_state& st) {
  if (!st.handoff.pending().empty())
    acquire_pending(st);
}

void reassign_owned(consumer_state& st) {
  auto owned = st.shards.ownership->owned();
  if (!owned.empty())
    start_reading(st, owned);
}

} // namespace flashsale
