#pragma once
// The sweeper's query (DESIGN.md "Expiry"): orders whose current state's deadline has
// passed. Blocking: call only from a detached actor or a thread of its own.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace flashsale::persistence {

struct due_batch {
  std::vector<std::string> ids; // orders whose current deadline has passed, earliest first
  std::size_t rows = 0;         // deadline rows looked at, live or stale
};

/// Looks at up to `limit` rows of the deadline log (order_deadlines) that are due by
/// the database's now() and not claimed by a sweeper, earliest first: returns the
/// orders still waiting in a non-terminal state for such a deadline and claims their
/// rows for `claim` (other sweepers skip them until then), and deletes the rows their
/// orders left behind. Rows another sweeper is claiming right now are skipped, not
/// waited for. An order can appear twice. Only rows of `shards` are looked at (the
/// shards this node owns); none: every row (tools and tests). Throws on database errors.
due_batch due_orders(pqxx::connection_base& conn, std::size_t limit,
                     std::chrono::milliseconds claim, const std::vector<int>* shards = nullptr);

} // namespace flashsale::persistence
