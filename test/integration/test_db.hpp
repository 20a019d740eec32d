#pragma once
// Databases and brokers for the integration tests. ./dev.sh test starts a throwaway
// PostgreSQL and the embedded Kafka broker and exports DATABASE_URL (an admin URL of
// that server) and KAFKA_BROKERS; the tests never skip when they are missing.

#include <string>

namespace flashsale::test {

/// Creates an empty database `ft_<pid>_<n>` on the server DATABASE_URL points at,
/// applies migrations/ to it when `migrated`, and returns its URL. Throws (so the
/// calling test fails) with a clear message when DATABASE_URL is unset or the server
/// cannot be reached. Thread-safe. The databases are left behind for inspection; the
/// server ./dev.sh test starts is thrown away after the run.
std::string fresh_database(bool migrated = true);

/// The bootstrap servers of the embedded broker (KAFKA_BROKERS); throws when unset.
std::string kafka_brokers();

/// `url` (a postgresql:// URI or a "key=value ..." string) naming database `name`.
std::string with_database(const std::string &url, const std::string &name);

} // namespace flashsale::test
