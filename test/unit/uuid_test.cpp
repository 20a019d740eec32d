#include "messages/uuid.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

using namespace flashsale;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_canonical_lower(const std::string& u) {
  if (u.size() != 36)
    return false;
  for (std::size_t i = 0; i < u.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? u[i] != '-' : !is_lower_hex(u[i]))
      return false;
  }
  return true;
}

/// The 48-bit timestamp of a UUIDv7: the first 12 hex digits.
std::int64_t embedded_ms(const std::string& u) {
  return std::stoll(u.substr(0, 8) + u.substr(9, 4), nullptr, 16);
}

} // namespace

BOOST_AUTO_TEST_SUITE(uuid_suite)

BOOST_AUTO_TEST_CASE(new_uuid_is_canonical_lower_case_version_7) {
  for (int i = 0; i < 1000; ++i) {
    auto u = new_uuid();
    BOOST_TEST_REQUIRE(is_canonical_lower(u), u);
    BOOST_TEST_REQUIRE(u[14] == '7', u);
    BOOST_TEST_REQUIRE(std::string("89ab").find(u[19]) != std::string::npos, u);
  }
}

BOOST_AUTO_TEST_CASE(new_uuid_embeds_the_current_unix_milliseconds) {
  auto before = now_ms();
  auto u = new_uuid();
  auto after = now_ms();
  BOOST_TEST(embedded_ms(u) >= before);
  BOOST_TEST(embedded_ms(u) <= after);
}

BOOST_AUTO_TEST_CASE(new_uuids_sort_by_creation_time_across_milliseconds) {
  auto first = new_uuid();
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  auto second = new_uuid();
  BOOST_TEST(first < second);
}

BOOST_AUTO_TEST_CASE(new_uuids_are_unique) {
  std::set<std::string> seen;
  for (int i = 0; i < 100000; ++i)
    seen.insert(new_uuid());
  BOOST_TEST(seen.size() == 100000u);
}

BOOST_AUTO_TEST_CASE(new_uuids_are_unique_across_threads) {
  constexpr int threads = 4;
  constexpr int per_thread = 20000;
  std::vector<std::vector<std::string>> made(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&made, t] {
      for (int i = 0; i < per_thread; ++i)
        made[static_cast<std::size_t>(t)].push_back(new_uuid());
    });
  for (auto& w : workers)
    w.join();
  std::set<std::string> seen;
  for (const auto& batch : made)
    seen.insert(batch.begin(), batch.end());
  BOOST_TEST(seen.size() == static_cast<std::size_t>(threads * per_thread));
}

BOOST_AUTO_TEST_CASE(normalize_accepts_either_case_and_lowers_it) {
  BOOST_TEST(*normalize_uuid("0190A6E4-8C1A-7B3C-9D2E-1F2A3B4C5D6E")
             == "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e");
  BOOST_TEST(*normalize_uuid("0190a6e4-8C1a-7b3C-9d2e-1F2a3b4c5d6E")
             == "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e");
  BOOST_TEST(*normalize_uuid("00000000-0000-0000-0000-000000000000")
             == "00000000-0000-0000-0000-000000000000");
  BOOST_TEST(*normalize_uuid("ffffffff-ffff-ffff-ffff-ffffffffffff")
             == "ffffffff-ffff-ffff-ffff-ffffffffffff");
  // Any version is an id we may be asked about (v4 from other services).
  BOOST_TEST(*normalize_uuid("f47ac10b-58cc-4372-a567-0e02b2c3d479")
             == "f47ac10b-58cc-4372-a567-0e02b2c3d479");
}

BOOST_AUTO_TEST_CASE(normalize_keeps_new_uuids_unchanged) {
  for (int i = 0; i < 100; ++i) {
    auto u = new_uuid();
    BOOST_TEST(*normalize_uuid(u) == u);
  }
}

BOOST_AUTO_TEST_CASE(normalize_refuses_anything_but_the_canonical_form) {
  for (std::string_view text : {
         "",
         "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6",   // 35 chars
         "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e0", // 37 chars
         "0190a6e48c1a7b3c9d2e1f2a3b4c5d6e",      // no dashes
         "0190a6e4-8c1a-7b3c-9d2e1-f2a3b4c5d6e",  // dash misplaced
         "0190a6e4_8c1a_7b3c_9d2e_1f2a3b4c5d6e",  // wrong separator
         "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6g",  // not hex
         "{190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e}",
         "{0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e}",
         " 0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e",
         "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6 ",
         "urn:uuid:0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e",
         "-0190a6e48c1a-7b3c-9d2e-1f2a3b4c5d6e",
         "------------------------------------",
       }) {
    BOOST_TEST(!normalize_uuid(text).has_value(), "'" << text << "'");
  }
  std::string with_nul = "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e";
  with_nul[3] = '\0';
  BOOST_TEST(!normalize_uuid(with_nul).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
