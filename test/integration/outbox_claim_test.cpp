// The relay's claim on a real PostgreSQL: what one claim costs must not grow with the
// backlog, whatever the table's statistics say (no Kafka here).

#include "persistence/outbox_repository.hpp"
#include "test_db.hpp"

#include <boost/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <string>

using namespace flashsale;

namespace {

/// `rows` pending ORDER_CREATED rows of as many orders, committed at once; the table
/// is never analyzed, as after a deploy or when a stampede fills it.
void fill_outbox(const std::string& url, int rows) {
  pqxx::connection conn{url};
  pqxx::work tx{conn};
  tx.exec("INSERT INTO outbox_events (event_id, aggregate_id, event_type, payload) "
          "SELECT gen_random_uuid(), gen_random_uuid(), 'ORDER_CREATED', repeat('x', 450) "
          "FROM generate_series(1, "
          + std::to_string(rows) + ")");
  tx.commit();
}

/// Buffers (hit or read) one execution of the relay session's prepared claim touches,
/// taking `batch` rows; rolled back, so the rows stay as they were.
long claim_buffers(pqxx::connection& conn, int batch) {
  pqxx::work tx{conn};
  auto plan = tx.exec1("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE "
                       + std::string{persistence::outbox_claim_statement} + "("
                       + std::to_string(batch) + ", " + std::to_string(batch)
                       + ", true, 30000)")[0]
                .as<std::string>();
  tx.abort();
  pqxx::nontransaction q{conn};
  auto top = q.exec_params1("SELECT (($1::json)->0->'Plan'->>'Shared Hit Blocks')::bigint "
                            "+ (($1::json)->0->'Plan'->>'Shared Read Blocks')::bigint",
                            plan);
  return top[0].as<long>();
}

} // namespace

BOOST_AUTO_TEST_SUITE(outbox_claim)

BOOST_AUTO_TEST_CASE(a_claim_costs_the_rows_it_takes_not_the_backlog) {
  constexpr int batch = 256;
  auto small = test::fresh_database();
  auto large = test::fresh_database();
  fill_outbox(small, 2 * batch);
  fill_outbox(large, 40 * batch);
  long cost[2] = {0, 0};
  int i = 0;
  for (const auto& url : {small, large}) {
    pqxx::connection conn{url};
    persistence::prepare_relay_session(conn);
    auto claim = persistence::claim_outbox(conn, batch, batch, std::chrono::seconds{30}, true);
    BOOST_TEST(claim.rows.size() == static_cast<std::size_t>(batch));
    persistence::release_outbox_claim(conn, claim);
    cost[i++] = claim_buffers(conn, batch);
  }
  BOOST_TEST_MESSAGE("claim of " << batch << " rows: " << cost[0] << " buffers with "
                                 << 2 * batch << " pending, " << cost[1] << " with "
                                 << 40 * batch << " pending");
  // The same 256 rows are taken from both: a backlog 20 times larger may cost a little
  // more (a deeper index), never a multiple.
  BOOST_TEST(cost[1] < 2 * cost[0]);
  BOOST_TEST(cost[1] < 30 * batch);
}

BOOST_AUTO_TEST_SUITE_END()
