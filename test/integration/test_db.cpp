#include "test_db.hpp"

#include "persistence/migrator.hpp"

#include <pqxx/pqxx>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <unistd.h>

namespace flashsale::test {

namespace {

std::string required_env(const char *name, const char *what) {
  const char *value = std::getenv(name);
  if (value == nullptr || *value == '\0')
    throw std::runtime_error(std::string(name) + " is not set: the integration tests need " +
                             what + "; run them through ./dev.sh test (or ./dev.sh "
                             "with-stack <test binary>), which starts one");
  return value;
}

} // namespace

std::string with_database(const std::string &url, const std::string &name) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) {
    // key=value form: a later keyword overrides an earlier one.
    return url + " dbname=" + name;
  }
  // postgresql://[userinfo@]host[:port][/dbname][?params]
  const auto authority = scheme + 3;
  const auto query = url.find('?', authority);
  const auto path = url.find('/', authority);
  const std::string params = query == std::string::npos ? "" : url.substr(query);
  const auto end_of_host = path != std::string::npos && (query == std::string::npos || path < query)
                               ? path
                               : (query == std::string::npos ? url.size() : query);
  return url.substr(0, end_of_host) + "/" + name + params;
}

std::string fresh_database(bool migrated) {
  const std::string admin_url =
      required_env("DATABASE_URL", "a PostgreSQL server (an admin URL, e.g. .../postgres)");

  static std::atomic<int> counter{0};
  const std::string name =
      "ft_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  try {
    pqxx::connection admin{admin_url};
    pqxx::nontransaction tx{admin};
    // A leftover of an earlier process with the same pid on a long-lived server.
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
    tx.exec("CREATE DATABASE " + tx.quote_name(name));
  } catch (const std::exception &e) {
    throw std::runtime_error("cannot create test database " + name + " via DATABASE_URL: " +
                             e.what());
  }
  const std::string url = with_database(admin_url, name);
  if (migrated) persistence::migrator(url, FLASHSALE_MIGRATIONS_DIR).up();
  return url;
}

std::string kafka_brokers() {
  return required_env("KAFKA_BROKERS", "a Kafka broker (build/tools/flashsale-kafka)");
}

} // namespace flashsale::test
