#include "actors/cluster/cluster.hpp"

#include "actors/cluster/cluster_tls.hpp"
#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "metrics/metrics.hpp"
#include "persistence/shard_repository.hpp"
#include "messages/shard.hpp"
#include "persistence/cluster_repository.hpp"
#include "persistence/pg_session.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <atomic>
#include <set>

namespace flashsale {

std::optional<std::string> routing_table::owner_of(const std::string& order_id,
                                                   int count) const {
  if (count <= 0)
    return std::nullopt;
  auto i = shard_owner.find(shard_of(order_id, count));
  if (i == shard_owner.end())
    return std::nullopt;
  return i->second;
}

cluster_view::cluster_view(std::string self) {
  auto t = std::make_shared<routing_table>();
  t->self = self;
  t->nodes = {std::move(self)};
  table_ = std::move(t);
}

std::shared_ptr<const routing_table> cluster_view::current() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return table_;
}

void cluster_view::update(std::shared_ptr<const routing_table> table) {
  std::lock_guard<std::mutex> guard{mtx_};
  table_ = std::move(table);
}

namespace {

using beat_atom = caf::atom_constant<caf::atom("fs_beat")>;
using connected_atom = caf::atom_constant<caf::atom("fs_conn")>;
using leave_atom = caf::atom_constant<caf::atom("fs_leave")>;

struct cluster_metrics {
  counter* failed_beats = nullptr;
  counter* changes = nullptr;
  std::shared_ptr<std::atomic<double>> nodes = std::make_shared<std::atomic<double>>(1);
};

cluster_metrics register_metrics(metrics_registry& reg) {
  cluster_metrics m;
  m.failed_beats =
    &reg.get_counter("cluster_heartbeats_failed_total", "Heartbeats the database did not take");
  m.changes = &reg.get_counter("cluster_membership_changes_total",
                               "Routing table changes (a node joined, left or became unreachable)");
  auto g = m.nodes;
  reg.add_gauge("cluster_nodes_live", "Nodes in this node's routing table, itself included",
                [g] { return g->load(); });
  return m;
}

/// A live peer from cluster_nodes and our connection to its registry.
struct peer {
  std::string host;
  std::uint16_t port = 0;
  caf::actor registry; // empty while not connected
  bool connecting = false;
  bool failing = false; // the last connect failed (logged once per streak)
  int waited = 0;       // beats without a connection (the dialler is the other node)
};

struct cluster_state {
  cluster_settings cfg;
  std::shared_ptr<cluster_view> view;
  caf::actor gate; // ours, sent in hellos
  cluster_metrics metrics;
  std::unique_ptr<persistence::pg_session> db;
  std::map<std::string, peer> peers;
  std::map<std::string, caf::actor> hellos; // gates of peers that dialled, not yet adopted
  std::vector<std::string> published{}; // the node list of the last table
  std::map<int, std::string> owners;    // shard owners as last read
  bool started = false;                 // the first heartbeat is committed
  bool failing = false;                 // the last heartbeat failed
  bool refusing = false;                // peers are live but not allowed (logged once)
  std::set<std::string> portless;       // live nodes without a cluster port (logged once)
  static inline const char* name = "cluster_member";
};

using cluster_actor = caf::stateful_actor<cluster_state>;

/// Publishes the routing table; logs when its node list changed.
void publish_table(cluster_actor* self) {
  auto& st = self->state;
  auto t = std::make_shared<routing_table>();
  t->self = st.cfg.node_id;
  t->nodes.push_back(st.cfg.node_id);
  for (const auto& [id, p] : st.peers)
    if (p.registry) {
      t->nodes.push_back(id);
      t->registries.emplace(id, p.registry);
    }
  std::sort(t->nodes.begin(), t->nodes.end());
  t->shard_owner = st.owners;
  bool changed = t->nodes != st.published;
  st.view->update(t);
  st.metrics.nodes->store(static_cast<double>(t->nodes.size()));
  if (!changed)
    return;
  st.published = t->nodes;
  st.metrics.changes->inc();
  std::string list;
  for (const auto& n : t->nodes)
    list += (list.empty() ? "" : ",") + n;
  log::info("cluster peers changed", {{"node_id", st.cfg.node_id}, {"nodes", list}});
}

/// remote_actor blocks until the peer answers or the connect fails: a detached helper
/// does it and reports back, so heartbeats never wait for a slow peer.
void connect(cluster_actor* self, const std::string& node_id, peer& p) {
  p.connecting = true;
  auto parent = caf::actor_cast<caf::actor>(self);
  self->spawn<caf::detached>([parent, node_id, host = p.host, port = p.port,
                              tls = self->state.cfg.tls,
                              probe = self->state.cfg.diagnose_timeout,
                              log_why = !p.failing](caf::event_based_actor* helper) {
    auto r = connect_cluster_peer(helper->system(), host, port, tls.enabled());
    caf::actor registry;
    std::string error;
    if (r) {
      registry = std::move(*r);
    } else {
      error = helper->system().render(r.error());
      // CAF says only that the connection went; a handshake of our own says why.
      if (tls.enabled() && log_why)
        error += "; " + diagnose_cluster_tls(tls, host, port, probe);
    }
    helper->send(parent, connected_atom::value, node_id, host, port, registry, error);
  });
}

/// Takes `registry` as the peer's (a connect of ours, or the peer's hello).
void adopt(cluster_actor* self, const std::string& node_id, peer& p, const caf::actor& registry,
           const char* how) {
  if (p.registry == registry)
    return;
  if (p.registry)
    self->demonitor(p.registry);
  p.failing = false;
  p.waited = 0;
  p.registry = registry;
  self->monitor(registry);
  log::info("connected to a cluster peer",
            {{"peer", node_id}, {"endpoint", p.host + ":" + std::to_string(p.port)}, {"how", how}});
  publish_table(self);
}

void on_connected(cluster_actor* self, const std::string& node_id, const std::string& host,
                  std::uint16_t port, const caf::actor& registry, const std::string& error) {
  auto& st = self->state;
  auto i = st.peers.find(node_id);
  if (i == st.peers.end() || i->second.host != host || i->second.port != port)
    return; // gone or moved meanwhile: the next beat sees to it
  auto& p = i->second;
  p.connecting = false;
  if (!registry) {
    if (!p.failing)
      log::warn(
        "cannot reach a cluster peer, retrying",
        {{"peer", node_id}, {"endpoint", host + ":" + std::to_string(port)}, {"error", error}});
    p.failing = true;
    return;
  }
  // Over the same connection: the peer need not dial back.
  self->send(registry, hello_atom::value, st.cfg.node_id, st.gate);
  adopt(self, node_id, p, registry, "dialled");
}

void on_hello(cluster_actor* self, const std::string& node_id, const caf::actor& gate) {
  auto& st = self->state;
  auto i = st.peers.find(node_id);
  if (i == st.peers.end()) {
    st.hellos[node_id] = gate; // its row shows at our next beat
    return;
  }
  adopt(self, node_id, i->second, gate, "hello");
}

/// Brings `peers` in line with the live rows: new or moved peers are connected,
/// vanished ones dropped, disconnected ones retried.
void reconcile(cluster_actor* self, const std::vector<persistence::node_row>& live) {
  auto& st = self->state;
  std::map<std::string, peer> next;
  std::set<std::string> portless;
  for (const auto& row : live) {
    if (row.node_id == st.cfg.node_id)
      continue;
    if (row.caf_port == 0) { // no cluster port: never a peer (refuse_to_join)
      if (st.portless.count(row.node_id) == 0)
        log::warn("a live node has no cluster port: it is not a peer",
                  {{"node_id", st.cfg.node_id}, {"peer", row.node_id}});
      portless.insert(row.node_id);
      continue;
    }
    auto i = st.peers.find(row.node_id);
    peer p;
    if (i != st.peers.end() && i->second.host == row.host && i->second.port == row.caf_port)
      p = std::move(i->second);
    p.host = row.host;
    p.port = row.caf_port;
    next.emplace(row.node_id, std::move(p));
  }
  for (auto& [id, p] : st.peers)
    if (p.registry && (next.count(id) == 0 || !next.at(id).registry))
      self->demonitor(p.registry);
  st.peers = std::move(next);
  st.portless = std::move(portless);
  if (!st.cfg.peers_allowed()) {
    if (!st.peers.empty() && !st.refusing)
      log::error("other nodes are live, but this node runs without CLUSTER_TLS_* and without "
                 "CLUSTER_INSECURE=1: it does not connect to them",
                 {{"node_id", st.cfg.node_id}, {"peer", st.peers.begin()->first}});
    st.refusing = !st.peers.empty();
    st.peers.clear();
  }
  for (auto& [id, p] : st.peers) {
    if (auto h = st.hellos.find(id); h != st.hellos.end() && !p.registry)
      adopt(self, id, p, h->second, "hello");
    if (p.registry || p.connecting)
      continue;
    if (st.cfg.node_id < id || ++p.waited > st.cfg.dial_grace_beats)
      connect(self, id, p);
  }
  st.hellos.clear();
  publish_table(self);
}

void beat(cluster_actor* self) {
  auto& st = self->state;
  persistence::node_row me{st.cfg.node_id, st.cfg.host, st.cfg.caf_port, st.cfg.http_url};
  std::vector<persistence::node_row> live;
  try {
    live = st.db->with([&](pqxx::connection_base& conn) {
      return persistence::heartbeat(conn, me, !st.started, st.cfg.timeout);
    });
    std::map<int, std::string> owners;
    for (auto& [shard, o] : st.db->with(
           [](pqxx::connection_base& conn) { return persistence::read_shard_owners(conn); }))
      owners.emplace(shard, std::move(o.node_id));
    st.owners = std::move(owners);
  } catch (const std::exception& e) {
    // Keep the table as it is: peers we are connected to still answer, and the
    // fence refuses a write of a deposed owner whatever this table says.
    st.metrics.failed_beats->inc();
    if (!st.failing)
      log::warn("cluster heartbeat failed, retrying", {{"error", e.what()}});
    st.failing = true;
    return;
  }
  if (!st.started && st.cfg.caf_port == 0)
    log::info("joined the cluster with no cluster port: this node runs alone",
              {{"node_id", st.cfg.node_id}, {"caf_endpoint", "none"}});
  else if (!st.started)
    log::info("joined the cluster",
              {{"node_id", st.cfg.node_id},
               {"caf_endpoint", st.cfg.host + ":" + std::to_string(st.cfg.caf_port)}});
  st.started = true;
  st.failing = false;
  reconcile(self, live);
}

void on_peer_down(cluster_actor* self, const caf::down_msg& dm) {
  auto& st = self->state;
  for (auto& [id, p] : st.peers)
    if (p.registry && p.registry.address() == dm.source) {
      log::warn("cluster peer unreachable", {{"peer", id}});
      p.registry = nullptr;
      p.waited = 0;
      publish_table(self);
      return;
    }
}

caf::behavior cluster_member(cluster_actor* self, cluster_settings cfg,
                             std::shared_ptr<cluster_view> view, caf::actor gate,
                             cluster_metrics metrics) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.view = std::move(view);
  st.gate = std::move(gate);
  if (st.gate)
    self->send(st.gate, member_atom::value, caf::actor_cast<caf::actor>(self));
  st.metrics = std::move(metrics);
  st.db = std::make_unique<persistence::pg_session>(st.cfg.database_url);
  self->set_down_handler([self](caf::down_msg& dm) { on_peer_down(self, dm); });
  self->send(self, beat_atom::value);
  return {
    [self](beat_atom) {
      beat(self);
      self->delayed_send(self, self->state.cfg.heartbeat, beat_atom::value);
    },
    [self](connected_atom, const std::string& node_id, const std::string& host, std::uint16_t port,
           const caf::actor& registry,
           const std::string& error) { on_connected(self, node_id, host, port, registry, error); },
    [self](hello_atom, const std::string& node_id, const caf::actor& gate) {
      on_hello(self, node_id, gate);
    },
    [self](leave_atom) {
      auto& st = self->state;
      try {
        st.db->with([&](pqxx::connection_base& conn) {
          persistence::leave(conn, st.cfg.node_id);
          return 0;
        });
        log::info("left the cluster", {{"node_id", st.cfg.node_id}});
      } catch (const std::exception& e) {
        log::warn("cannot mark this node as gone; peers wait for the heartbeat timeout",
                  {{"error", e.what()}});
      }
      self->quit();
    },
  };
}

} // namespace

caf::actor spawn_cluster_member(caf::actor_system& sys, cluster_settings settings,
                                std::shared_ptr<cluster_view> view, caf::actor gate,
                                metrics_registry& metrics) {
  return sys.spawn<caf::detached>(cluster_member, std::move(settings), std::move(view),
                                  std::move(gate),
                                  register_metrics(metrics));
}

void stop_cluster_member(caf::actor_system& sys, const caf::actor& member) {
  if (!member)
    return;
  caf::scoped_actor self{sys};
  self->send(member, leave_atom::value);
  self->wait_for(member);
}

} // namespace flashsale
