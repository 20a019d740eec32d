#include "messages/shard.hpp"
#include "messages/uuid.hpp"

#include <boost/test/unit_test.hpp>

#include <set>

using namespace flashsale;

BOOST_AUTO_TEST_SUITE(shard_suite)

// Kafka's own vectors (UtilsTest.testMurmur2 in the Java client): a mismatch would put
// our orders on other partitions than every other producer's (CONTRACT §5).
BOOST_AUTO_TEST_CASE(murmur2_matches_the_java_client) {
  BOOST_TEST(kafka_murmur2("21") == -973932308);
  BOOST_TEST(kafka_murmur2("foobar") == -790332482);
  BOOST_TEST(kafka_murmur2("a-little-bit-long-string") == -985981536);
  BOOST_TEST(kafka_murmur2("a-little-bit-longer-string") == -1486304829);
  BOOST_TEST(kafka_murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971);
  BOOST_TEST(kafka_murmur2("abc") == 479470107);
}

BOOST_AUTO_TEST_CASE(shard_is_the_positive_hash_modulo_the_count) {
  // -973932308 & 0x7fffffff = 1173551340; 1173551340 % 8 = 4, % 12 = 0
  BOOST_TEST(shard_of("21", 8) == 4);
  BOOST_TEST(shard_of("21", 12) == 0);
  BOOST_TEST(shard_of("abc", 8) == 479470107 % 8);
  for (int count : {1, 3, 8, 256}) {
    auto s = shard_of(new_uuid(), count);
    BOOST_TEST((s >= 0 && s < count));
  }
}

BOOST_AUTO_TEST_CASE(minted_ids_land_in_owned_shards) {
  std::set<int> owned{2, 5};
  for (int i = 0; i < 200; ++i) {
    auto id = mint_in_shards(new_uuid, 8, [&](int s) { return owned.count(s) > 0; });
    BOOST_REQUIRE(id);
    BOOST_TEST(owned.count(shard_of(*id, 8)) == 1u);
  }
}

BOOST_AUTO_TEST_CASE(minting_without_owned_shards_gives_up) {
  BOOST_TEST(!mint_in_shards(new_uuid, 8, [](int) { return false; }, 50));
  BOOST_TEST(!mint_in_shards(new_uuid, 0, [](int) { return true; }));
}

BOOST_AUTO_TEST_SUITE_END()

#include "actors/cluster/shard_ownership.hpp"

BOOST_AUTO_TEST_SUITE(shard_ownership_suite)

BOOST_AUTO_TEST_CASE(nothing_is_owned_before_the_count_and_an_assignment) {
  shard_ownership own;
  auto id = new_uuid();
  BOOST_TEST(!own.fence_of(id));
  BOOST_TEST(!own.mint(new_uuid));
  own.set_count(8);
  BOOST_TEST(!own.mint(new_uuid));
  own.acquired(shard_of(id, 8), 3);
  auto f = own.fence_of(id);
  BOOST_REQUIRE(f);
  BOOST_TEST(f->shard == shard_of(id, 8));
  BOOST_TEST(f->epoch == 3);
}

BOOST_AUTO_TEST_CASE(a_minted_id_carries_its_shards_epoch_and_a_release_ends_it) {
  shard_ownership own;
  own.set_count(8);
  own.acquired(1, 7);
  own.acquired(6, 9);
  for (int i = 0; i < 50; ++i) {
    auto m = own.mint(new_uuid);
    BOOST_REQUIRE(m);
    BOOST_TEST(shard_of(m->first, 8) == m->second.shard);
    BOOST_TEST(m->second.epoch == (m->second.shard == 1 ? 7 : 9));
  }
  own.released({1, 6});
  BOOST_TEST(own.owned_count() == 0u);
  BOOST_TEST(!own.mint(new_uuid));
}

BOOST_AUTO_TEST_SUITE_END()
