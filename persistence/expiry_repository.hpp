#pragma once
// The sweeper's query (DESIGN.md "Expiry"): orders whose current state's deadline has
// passed. Blocking: call only from a detached actor or a thread of its own.

#include <cstddef>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace flashsale::persistence {

/// Ids of up to `limit` non-terminal orders whose deadline (expired_at) is not after
/// the database's now(), earliest deadline first; served by the orders_deadline index.
/// Throws on database errors.
std::vector<std::string> due_orders(pqxx::connection_base& conn, std::size_t limit);

} // namespace flashsale::persistence
