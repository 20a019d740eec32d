#pragma once
// The consumer's inbox (processed_events, CONTRACT §6): forgetting event ids once their
// retention window has passed. Blocking: call only from a detached actor or a thread.

#include <pqxx/connection_base>

#include <chrono>
#include <cstddef>

namespace flashsale::persistence {

/// Deletes at most `limit` inbox rows processed more than `retention` ago, oldest first,
/// in one short transaction, and returns how many went. The row of an event still held
/// in early_events stays: its hold must keep deduplicating redeliveries until it takes
/// effect (that transaction deletes both).
std::size_t delete_expired_inbox_rows(pqxx::connection_base& conn, std::chrono::seconds retention,
                                      std::size_t limit);

} // namespace flashsale::persistence
