#include "app/config.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

using namespace flashsale;

namespace {

using vars = std::map<std::string, std::string>;

const vars minimal = {{"DATABASE_URL", "postgresql://u@localhost/orders"},
                      {"KAFKA_BROKERS", "localhost:9092"}};

env_lookup lookup_of(vars v) {
  return [v = std::move(v)](const std::string& name) -> std::optional<std::string> {
    auto i = v.find(name);
    if (i == v.end())
      return std::nullopt;
    return i->second;
  };
}

/// `minimal` with `changes` on top.
vars with(const vars& changes) {
  vars v = minimal;
  for (const auto& [k, value] : changes)
    v[k] = value;
  return v;
}

config config_ok(const vars& v) {
  auto r = load_config(lookup_of(v));
  if (auto* e = std::get_if<std::string>(&r))
    BOOST_FAIL("unexpected error: " << *e);
  return std::get<config>(r);
}

/// The error line for `v`; checks it is one line that names `variable`.
std::string config_error(const vars& v, const std::string& variable) {
  auto r = load_config(lookup_of(v));
  BOOST_TEST_REQUIRE(std::holds_alternative<std::string>(r), "no error for " << variable);
  const auto& line = std::get<std::string>(r);
  BOOST_TEST(line.find(variable) != std::string::npos, line);
  BOOST_TEST(line.find('\n') == std::string::npos, line);
  BOOST_TEST(line.find('\r') == std::string::npos, line);
  return line;
}

/// A file in the temp directory, removed again at the end of the test.
struct temp_file {
  std::string path;

  explicit temp_file(const std::string& content) {
    char name[] = "/tmp/config_test_XXXXXX";
    int fd = ::mkstemp(name);
    BOOST_TEST_REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
    std::ofstream{path, std::ios::binary} << content;
  }
  ~temp_file() { std::remove(path.c_str()); }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
};

} // namespace

BOOST_AUTO_TEST_SUITE(app_config)

BOOST_AUTO_TEST_CASE(defaults_of_the_contract) {
  auto cfg = config_ok(minimal);
  BOOST_TEST(cfg.database_url == "postgresql://u@localhost/orders");
  BOOST_TEST(cfg.kafka_brokers == "localhost:9092");
  BOOST_TEST(cfg.http.host == "0.0.0.0");
  BOOST_TEST(cfg.http.port == 8080);
  BOOST_TEST(cfg.enabled.http);
  BOOST_TEST(cfg.enabled.relay);
  BOOST_TEST(cfg.enabled.consumer);
  BOOST_TEST(cfg.enabled.expiry);
  BOOST_TEST(cfg.outbox.relays == 4u);
  BOOST_TEST(cfg.outbox.batch == 1024u);
  BOOST_TEST(cfg.order.ttl_created.count() == 300);
  BOOST_TEST(cfg.order.ttl_reserved.count() == 120);
  BOOST_TEST(cfg.order.ttl_payment_pending.count() == 600);
  BOOST_TEST(cfg.consumer.group_id == "order-service");
  BOOST_TEST(cfg.log_level == "info");
  BOOST_TEST(cfg.log_format == "json");
}

BOOST_AUTO_TEST_CASE(required_variables) {
  for (const char* name : {"DATABASE_URL", "KAFKA_BROKERS"}) {
    vars missing = minimal;
    missing.erase(name);
    auto line = config_error(missing, name);
    BOOST_TEST(line.find("required") != std::string::npos, line);
    config_error(with({{name, ""}}), name); // set but empty is as good as missing
  }
  config_error({}, "DATABASE_URL");
}

BOOST_AUTO_TEST_CASE(every_variable_is_read) {
  auto cfg = config_ok(with({{"HTTP_ADDR", "127.0.0.1:9000"},
                             {"ORDER_ROLES", "relay,expiry"},
                             {"OUTBOX_RELAYS", "8"},
                             {"OUTBOX_BATCH", "10"},
                             {"ORDER_TTL_CREATED_S", "3"},
                             {"ORDER_TTL_RESERVED_S", "4"},
                             {"ORDER_TTL_PAYMENT_PENDING_S", "5"},
                             {"KAFKA_GROUP_ID", "g2"},
                             {"LOG_LEVEL", "debug"},
                             {"LOG_FORMAT", "text"}}));
  BOOST_TEST(cfg.http.host == "127.0.0.1");
  BOOST_TEST(cfg.http.port == 9000);
  BOOST_TEST(!cfg.enabled.http);
  BOOST_TEST(cfg.enabled.relay);
  BOOST_TEST(!cfg.enabled.consumer);
  BOOST_TEST(cfg.enabled.expiry);
  BOOST_TEST(cfg.outbox.relays == 8u);
  BOOST_TEST(cfg.outbox.batch == 10u);
  BOOST_TEST(cfg.order.ttl_created.count() == 3);
  BOOST_TEST(cfg.order.ttl_reserved.count() == 4);
  BOOST_TEST(cfg.order.ttl_payment_pending.count() == 5);
  BOOST_TEST(cfg.consumer.group_id == "g2");
  BOOST_TEST(cfg.log_level == "debug");
  BOOST_TEST(cfg.log_format == "text");
}

BOOST_AUTO_TEST_CASE(http_addr) {
  auto cfg = config_ok(with({{"HTTP_ADDR", "localhost:0"}}));
  BOOST_TEST(cfg.http.host == "localhost");
  BOOST_TEST(cfg.http.port == 0);
  cfg = config_ok(with({{"HTTP_ADDR", "0.0.0.0:65535"}}));
  BOOST_TEST(cfg.http.port == 65535);

  for (const std::string bad : {"", "8080", "localhost", "localhost:", ":8080", "host:abc",
                                "host:65536", "host:-1", "host:80x", "host:99999999999999999999"})
    config_error(with({{"HTTP_ADDR", bad}}), "HTTP_ADDR");
}

BOOST_AUTO_TEST_CASE(order_roles) {
  auto cfg = config_ok(with({{"ORDER_ROLES", "http"}}));
  BOOST_TEST(cfg.enabled.http);
  BOOST_TEST(!cfg.enabled.relay);
  BOOST_TEST(!cfg.enabled.consumer);
  BOOST_TEST(!cfg.enabled.expiry);

  for (const std::string bad : {"http,web", "admin", "", "http,", ",http", "HTTP"})
    config_error(with({{"ORDER_ROLES", bad}}), "ORDER_ROLES");
}

BOOST_AUTO_TEST_CASE(integers) {
  for (const char* name : {"OUTBOX_RELAYS", "OUTBOX_BATCH"})
    for (const std::string bad : {"abc", "", "1.5", "-5", "4 ", "99999999999999999999999"})
      config_error(with({{name, bad}}), name);
  config_error(with({{"OUTBOX_BATCH", "0"}}), "OUTBOX_BATCH");
  BOOST_TEST(config_ok(with({{"OUTBOX_RELAYS", "0"}})).outbox.relays == 0u);
}

// Issue 12 items 4 and 5: the connection and admission bounds.
BOOST_AUTO_TEST_CASE(http_bounds) {
  auto d = config_ok(minimal);
  BOOST_TEST(d.http.connections.max_connections == 10000u);
  BOOST_TEST(d.http.connections.header_timeout.count() == 10000);
  BOOST_TEST(d.http.connections.body_timeout.count() == 10000);
  BOOST_TEST(d.http.connections.write_timeout.count() == 10000);
  BOOST_TEST(d.http.max_in_flight == 256);
  auto cfg = config_ok(with({{"HTTP_MAX_CONNECTIONS", "50"},
                             {"HTTP_HEADER_TIMEOUT_MS", "2000"},
                             {"HTTP_BODY_TIMEOUT_MS", "3000"},
                             {"HTTP_WRITE_TIMEOUT_MS", "4000"},
                             {"HTTP_MAX_IN_FLIGHT", "2"}}));
  BOOST_TEST(cfg.http.connections.max_connections == 50u);
  BOOST_TEST(cfg.http.connections.header_timeout.count() == 2000);
  BOOST_TEST(cfg.http.connections.body_timeout.count() == 3000);
  BOOST_TEST(cfg.http.connections.write_timeout.count() == 4000);
  BOOST_TEST(cfg.http.max_in_flight == 2);
  for (const char* name : {"HTTP_MAX_CONNECTIONS", "HTTP_MAX_IN_FLIGHT"})
    for (const std::string bad : {"0", "-1", "abc", "1000001"})
      config_error(with({{name, bad}}), name);
  for (const char* name :
       {"HTTP_HEADER_TIMEOUT_MS", "HTTP_BODY_TIMEOUT_MS", "HTTP_WRITE_TIMEOUT_MS"})
    for (const std::string bad : {"99", "abc", "3600001"})
      config_error(with({{name, bad}}), name);
}

// Issue 20 item 3: the adaptive admission bound, on by default under HTTP_MAX_IN_FLIGHT.
BOOST_AUTO_TEST_CASE(admission_variables) {
  auto d = config_ok(minimal);
  BOOST_TEST(d.http.admission.enabled);
  BOOST_TEST(d.http.admission.min_limit == 16);
  BOOST_TEST(d.http.admission.floor.count() == 50);
  auto cfg = config_ok(with({{"HTTP_ADMISSION", "static"},
                             {"HTTP_ADMISSION_MIN", "4"},
                             {"HTTP_ADMISSION_FLOOR_MS", "50"}}));
  BOOST_TEST(!cfg.http.admission.enabled);
  BOOST_TEST(cfg.http.admission.min_limit == 4);
  BOOST_TEST(cfg.http.admission.floor.count() == 50);
  BOOST_TEST(config_ok(with({{"HTTP_ADMISSION", "adaptive"}})).http.admission.enabled);
  config_error(with({{"HTTP_ADMISSION", "gradient"}}), "HTTP_ADMISSION");
  for (const char* name : {"HTTP_ADMISSION_MIN", "HTTP_ADMISSION_FLOOR_MS"})
    for (const std::string bad : {"0", "-1", "abc"})
      config_error(with({{name, bad}}), name);
}

BOOST_AUTO_TEST_CASE(cluster_variables) {
  auto d = config_ok(minimal);
  BOOST_TEST(d.node_id.find('-' + std::to_string(getpid())) != std::string::npos);
  BOOST_TEST(d.caf_node_port == 0);
  BOOST_TEST(d.cluster.heartbeat.count() == 1000);
  BOOST_TEST(d.cluster.timeout.count() == 5000);
  BOOST_TEST(config_ok(with({{"HTTP_ADDR", "127.0.0.1:9000"}})).cluster_host == "127.0.0.1");
  auto c = config_ok(with({{"NODE_ID", "node-7"},
                           {"CLUSTER_HOST", "order-7"},
                           {"CAF_NODE_PORT", "4242"},
                           {"CLUSTER_HEARTBEAT_MS", "200"},
                           {"CLUSTER_TIMEOUT_MS", "900"},
                           {"CLUSTER_FORWARD_TIMEOUT_MS", "30000"}}));
  BOOST_TEST(c.node_id == "node-7");
  BOOST_TEST(c.cluster_host == "order-7");
  BOOST_TEST(c.caf_node_port == 4242);
  BOOST_TEST(c.cluster.heartbeat.count() == 200);
  BOOST_TEST(c.cluster.timeout.count() == 900);
  BOOST_TEST(c.cluster_forward_timeout.count() == 30000);
  config_error(with({{"NODE_ID", ""}}), "NODE_ID");
  config_error(with({{"CAF_NODE_PORT", "70000"}}), "CAF_NODE_PORT");
  config_error(with({{"CLUSTER_TIMEOUT_MS", "1000"}}), "CLUSTER_TIMEOUT_MS"); // <= heartbeat
}

// Issue 11 item 7: a forward that gives up before the owner has done its own database
// work (load + commit) makes the receiving node run the command too: two writers.
BOOST_AUTO_TEST_CASE(time_budgets_are_consistent) {
  auto check_invariant = [](const config& c) {
    auto b = budgets_of(c);
    BOOST_TEST(b.db_call.count() > c.db.statement_timeout.count());
    BOOST_TEST(b.order_step.count() >= b.db_call.count());
    BOOST_TEST(b.owner_command.count() >= 2 * b.order_step.count());
    BOOST_TEST(b.forward.count() > b.owner_command.count());
    BOOST_TEST(b.event_request.count() > b.forward.count());
  };
  auto d = config_ok(minimal);
  BOOST_TEST(d.db.statement_timeout.count() == 5000);
  check_invariant(d);
  BOOST_TEST(budgets_of(d).forward.count() == 13000);
  auto slow = config_ok(with({{"DB_STATEMENT_TIMEOUT_MS", "20000"}}));
  check_invariant(slow);
  BOOST_TEST(budgets_of(slow).forward.count() == 43000); // follows the database budget
  check_invariant(config_ok(with({{"CLUSTER_FORWARD_TIMEOUT_MS", "12001"}})));
  config_error(with({{"CLUSTER_FORWARD_TIMEOUT_MS", "2000"}}), "CLUSTER_FORWARD_TIMEOUT_MS");
  config_error(with({{"CLUSTER_FORWARD_TIMEOUT_MS", "12000"}}), "CLUSTER_FORWARD_TIMEOUT_MS");
  config_error(with({{"DB_STATEMENT_TIMEOUT_MS", "20000"}, {"CLUSTER_FORWARD_TIMEOUT_MS", "30000"}}),
               "CLUSTER_FORWARD_TIMEOUT_MS");
}

BOOST_AUTO_TEST_CASE(database_bounds) {
  auto d = config_ok(minimal);
  BOOST_TEST(d.db.connect_timeout.count() == 2);
  BOOST_TEST(d.db.tcp_user_timeout.count() == 5000);
  BOOST_TEST(d.db.keepalives_idle.count() == 5);
  auto c = config_ok(with({{"DB_CONNECT_TIMEOUT_S", "3"}, {"DB_STATEMENT_TIMEOUT_MS", "700"},
                           {"DB_TCP_USER_TIMEOUT_MS", "900"}, {"DB_KEEPALIVE_IDLE_S", "2"}}));
  BOOST_TEST(c.db.connect_timeout.count() == 3);
  BOOST_TEST(c.db.statement_timeout.count() == 700);
  BOOST_TEST(c.db.tcp_user_timeout.count() == 900);
  BOOST_TEST(c.db.keepalives_idle.count() == 2);
  config_error(with({{"DB_CONNECT_TIMEOUT_S", "1"}}), "DB_CONNECT_TIMEOUT_S");
  config_error(with({{"DB_STATEMENT_TIMEOUT_MS", "abc"}}), "DB_STATEMENT_TIMEOUT_MS");
}

BOOST_AUTO_TEST_CASE(ttls) {
  for (const char* name :
       {"ORDER_TTL_CREATED_S", "ORDER_TTL_RESERVED_S", "ORDER_TTL_PAYMENT_PENDING_S"})
    for (const std::string bad : {"0", "-1", "abc", "", "10s", "999999999999"})
      config_error(with({{name, bad}}), name);
}

BOOST_AUTO_TEST_CASE(outbox_retention) {
  // 0, the default, deletes a delivered row at once; more keeps it SENT that long.
  BOOST_TEST(config_ok(minimal).outbox.retention.count() == 0);
  BOOST_TEST(config_ok(with({{"OUTBOX_RETENTION_S", "0"}})).outbox.retention.count() == 0);
  BOOST_TEST(config_ok(with({{"OUTBOX_RETENTION_S", "3600"}})).outbox.retention.count() == 3600);
  for (const std::string bad : {"-1", "abc", "", "1h", "999999999999"})
    config_error(with({{"OUTBOX_RETENTION_S", bad}}), "OUTBOX_RETENTION_S");
}

BOOST_AUTO_TEST_CASE(choices) {
  config_error(with({{"LOG_LEVEL", "loud"}}), "LOG_LEVEL");
  config_error(with({{"LOG_LEVEL", "INFO"}}), "LOG_LEVEL");
  config_error(with({{"LOG_FORMAT", "xml"}}), "LOG_FORMAT");
  config_error(with({{"KAFKA_GROUP_ID", ""}}), "KAFKA_GROUP_ID");
  for (const char* level : {"debug", "info", "warn", "error"})
    BOOST_TEST(config_ok(with({{"LOG_LEVEL", level}})).log_level == level);
}

BOOST_AUTO_TEST_CASE(errors_stay_on_one_line_whatever_the_value) {
  // A value pasted with a line break must not split the message the operator reads.
  config_error(with({{"HTTP_ADDR", "host:80\nx"}}), "HTTP_ADDR");
  config_error(with({{"ORDER_ROLES", "http\r\nrelay"}}), "ORDER_ROLES");
  config_error(with({{"LOG_LEVEL", "info\n"}}), "LOG_LEVEL");
  config_error(with({{"OUTBOX_BATCH", "1\n2"}}), "OUTBOX_BATCH");
}

BOOST_AUTO_TEST_CASE(dotenv_file) {
  temp_file f{"# a comment\n"
              "\n"
              "   # an indented comment\n"
              "DATABASE_URL=postgresql://a@b/c?sslmode=disable\n"
              "export KAFKA_BROKERS=k1:9092,k2:9092\n"
              "LOG_LEVEL=\"debug\"\n"
              "LOG_FORMAT='text'\n"
              "KAFKA_GROUP_ID=\"g=1\"\n"
              "EMPTY=\n"
              "  INDENTED=yes\n"
              "HALF_QUOTED=\"abc\n"
              "not a variable line\n"
              "HTTP_ADDR=127.0.0.1:1\n"
              "HTTP_ADDR=127.0.0.1:2\n"};
  auto env = read_dotenv(f.path);
  BOOST_TEST(env["DATABASE_URL"] == "postgresql://a@b/c?sslmode=disable");
  BOOST_TEST(env["KAFKA_BROKERS"] == "k1:9092,k2:9092");
  BOOST_TEST(env["LOG_LEVEL"] == "debug");
  BOOST_TEST(env["LOG_FORMAT"] == "text");
  BOOST_TEST(env["KAFKA_GROUP_ID"] == "g=1");
  BOOST_TEST(env.count("EMPTY") == 1u);
  BOOST_TEST(env["EMPTY"] == "");
  BOOST_TEST(env["INDENTED"] == "yes");
  BOOST_TEST(env["HALF_QUOTED"] == "\"abc");
  BOOST_TEST(env["HTTP_ADDR"] == "127.0.0.1:2"); // the last one wins
  BOOST_TEST(env.count("# a comment") == 0u);
  BOOST_TEST(env.size() == 9u);

  auto cfg = config_ok(env);
  BOOST_TEST(cfg.log_level == "debug");
  BOOST_TEST(cfg.http.port == 2);
}

BOOST_AUTO_TEST_CASE(dotenv_with_crlf_line_ends) {
  temp_file f{"DATABASE_URL=postgresql://a@b/c\r\nLOG_LEVEL=\"warn\"\r\n# c\r\n\r\n"};
  auto env = read_dotenv(f.path);
  BOOST_TEST(env["DATABASE_URL"] == "postgresql://a@b/c");
  BOOST_TEST(env["LOG_LEVEL"] == "warn");
  BOOST_TEST(env.size() == 2u);
}

BOOST_AUTO_TEST_CASE(dotenv_missing_file_is_empty) {
  BOOST_TEST(read_dotenv("/nonexistent/dir/.env").empty());
}

BOOST_AUTO_TEST_CASE(environment_wins_over_dotenv) {
  const char* name = "FLASHSALE_CONFIG_TEST_VAR";
  ::unsetenv(name);
  auto env = environment_with({{name, "from-file"}, {"FLASHSALE_CONFIG_TEST_ONLY", "f"}});
  BOOST_TEST(env(name).value_or("") == "from-file");
  ::setenv(name, "from-env", 1);
  BOOST_TEST(env(name).value_or("") == "from-env");
  ::unsetenv(name);
  BOOST_TEST(env("FLASHSALE_CONFIG_TEST_ONLY").value_or("") == "f");
  BOOST_TEST(!env("FLASHSALE_CONFIG_TEST_UNSET").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
