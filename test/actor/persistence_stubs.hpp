#pragma once
// Stub persistence ports for actor tests: a reader and a writer that answer the
// messages of actors/order/db_actors.hpp from a small table the test controls. The
// writer applies a guarded write as PostgreSQL would (the row's status must be the
// expected one, else stale), unless the test scripts another answer or holds the
// answers back and releases them one by one (flush_atom to the writer). Only our own ports are stubbed here: the
// database stays real in the integration tests.

#include "actors/protocol.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace flashsale::test {

struct stub_db {
  std::map<std::string, order> rows;
  std::vector<std::string> loads;           // order ids, in the order the reader got them
  std::vector<write_command> writes;        // as the writer got them
  std::deque<write_status> scripted;        // answers to the next writes, before the guard
  bool hold_answers = false;                // keep the writes' answers for release_write()
  std::deque<std::pair<write_command, caf::typed_response_promise<write_outcome>>> held;

  /// What the database does with `cmd`: the guarded UPDATE.
  write_outcome apply(const write_command& cmd) {
    if (!scripted.empty()) {
      auto s = scripted.front();
      scripted.pop_front();
      return {s, {}};
    }
    auto i = rows.find(cmd.order_id);
    if (i == rows.end())
      return {write_status::not_found, {}};
    if (i->second.status != cmd.expected)
      return {write_status::stale, {}};
    if (cmd.next != cmd.expected) {
      i->second.status = cmd.next;
      i->second.reason = cmd.reason;
      i->second.updated_at = cmd.now_ms / 1000;
      i->second.expired_at = cmd.deadline;
    }
    return {write_status::applied, {}};
  }

  /// Answers the oldest held-back write as the database would (inside the writer:
  /// send it flush_atom).
  void release_write() {
    auto [cmd, rp] = std::move(held.front());
    held.pop_front();
    rp.deliver(apply(cmd));
  }
};

inline caf::actor spawn_stub_reader(caf::actor_system& sys, std::shared_ptr<stub_db> db) {
  return sys.spawn([db](caf::event_based_actor*) -> caf::behavior {
    return {
      [db](load_atom, const std::string& id) {
        db->loads.push_back(id);
        load_reply r;
        auto i = db->rows.find(id);
        if (i != db->rows.end()) {
          r.found = true;
          r.value = i->second;
        }
        return r;
      },
      [](early_atom, const std::string&) { return early_reply{}; },
    };
  });
}

inline caf::actor spawn_stub_writer(caf::actor_system& sys, std::shared_ptr<stub_db> db) {
  return sys.spawn([db](caf::event_based_actor* self) -> caf::behavior {
    return {
      [=](write_atom, const write_command& cmd) -> caf::result<write_outcome> {
        db->writes.push_back(cmd);
        if (!db->hold_answers)
          return db->apply(cmd);
        auto rp = self->make_response_promise<write_outcome>();
        db->held.emplace_back(cmd, rp);
        return rp;
      },
      [db](flush_atom) { db->release_write(); },
    };
  });
}

} // namespace flashsale::test
