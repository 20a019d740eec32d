#pragma once
// SQL for orders, items, the outbox and the inbox. Blocking: call only from a detached
// actor or a thread of its own. Each batch function commits one transaction for many
// commands and returns one outcome per command, in order (group commit).

#include "messages/commands.hpp"

#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace flashsale::persistence {

/// Asked right before COMMIT, after every statement, retry and savepoint: true lets the
/// transaction commit, false rolls it back instead (commit_withdrawn). Empty: commit.
using commit_gate = std::function<bool()>;

/// The gate said no: the transaction was rolled back, nothing of it committed.
struct commit_withdrawn : std::runtime_error {
  commit_withdrawn() : std::runtime_error("commit withdrawn before COMMIT") {}
};

/// The connection was lost during COMMIT (a cut call, a server gone): the transaction may
/// or may not have committed. `backend_pid` is the server process that ran it.
struct commit_in_doubt : std::runtime_error {
  explicit commit_in_doubt(int pid)
    : std::runtime_error("connection lost during COMMIT"), backend_pid(pid) {}
  int backend_pid;
};

/// Inserts new orders with their items and ORDER_CREATED events in one transaction.
/// A (user, idempotency key) already taken resolves to replayed (same fingerprint) or
/// key_reused; the unique constraint is the arbiter, also against other processes.
/// Throws commit_withdrawn when `may_commit` refuses, commit_in_doubt when COMMIT's
/// outcome is unknown, and database errors (nothing is committed then).
std::vector<create_outcome> create_orders(pqxx::connection_base& conn,
                                          const std::vector<const create_command*>& cmds,
                                          const commit_gate& may_commit = {});

/// After commit_in_doubt, on another connection: ends the server process that ran the
/// COMMIT and waits until it is gone (its transaction is then committed or rolled back
/// for good), then looks every command up by (user_id, idempotency_key). A command whose
/// order is not there is `failed` with UNAVAILABLE: known not committed. Throws on
/// database errors (the outcome is then still unknown).
std::vector<create_outcome> resolve_in_doubt(pqxx::connection_base& conn, int backend_pid,
                                             const std::vector<const create_command*>& cmds);

/// Applies guarded writes, each in its own savepoint, all in one transaction.
/// Throws on database errors (nothing is committed then).
std::vector<write_outcome> write_orders(pqxx::connection_base& conn,
                                        const std::vector<const write_command*>& cmds);

std::optional<order> load_order(pqxx::connection_base& conn, const std::string& order_id);

/// Many orders in two queries; one entry per id, in order (nullopt when missing).
std::vector<std::optional<order>> load_orders(pqxx::connection_base& conn,
                                              const std::vector<std::string>& order_ids);

/// The events held for an order (early_events), in the order they came.
std::vector<held_event> load_early_events(pqxx::connection_base& conn,
                                          const std::string& order_id);

/// Which of the orders have held events (each id once, in no particular order).
std::vector<std::string> orders_with_early_events(pqxx::connection_base& conn,
                                                  const std::vector<std::string>& order_ids);

/// The user's orders, newest first.
std::vector<order> list_orders(pqxx::connection_base& conn, const list_query& query);

/// Whether `e` is PostgreSQL's deadlock error (the transaction may simply be retried).
bool is_deadlock(const std::exception_ptr& e);

/// Name of the NOTIFY channel raised when new outbox rows commit.
constexpr const char* outbox_channel = "outbox_events";

} // namespace flashsale::persistence
