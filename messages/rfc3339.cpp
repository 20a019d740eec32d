#include "messages/rfc3339.hpp"

#include <array>
#include <cstdio>

namespace flashsale {

namespace {

constexpr std::int64_t ms_per_second = 1000;
constexpr std::int64_t ms_per_minute = 60 * ms_per_second;
constexpr std::int64_t ms_per_hour = 60 * ms_per_minute;
constexpr std::int64_t ms_per_day = 24 * ms_per_hour;

// --- calendar arithmetic (proleptic Gregorian, no locale or TZ involved) -------------
// Years are shifted to start in March so the leap day is the last day of a year, and
// counted in 400-year eras of 146097 days each.

constexpr std::int64_t days_per_era = 146097;
constexpr std::int64_t epoch_shift = 719468; // days from 0000-03-01 to 1970-01-01

struct civil_date {
  std::int64_t year;
  int month; // 1-12
  int day;   // 1-31
};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

std::int64_t days_from_civil(std::int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  std::int64_t era = floor_div(year, 400);
  std::int64_t year_of_era = year - era * 400;
  std::int64_t month_from_march = month > 2 ? month - 3 : month + 9;
  std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  std::int64_t day_of_era =
    year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * days_per_era + day_of_era - epoch_shift;
}

civil_date civil_from_days(std::int64_t days) {
  days += epoch_shift;
  std::int64_t era = floor_div(days, days_per_era);
  std::int64_t day_of_era = days - era * days_per_era;
  std::int64_t year_of_era =
    (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  std::int64_t day_of_year =
    day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  std::int64_t month_from_march = (5 * day_of_year + 2) / 153;
  int day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  int month = static_cast<int>(month_from_march < 10 ? month_from_march + 3
                                                     : month_from_march - 9);
  return {year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool is_leap(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(std::int64_t year, int month) {
  constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[static_cast<std::size_t>(month - 1)];
}

// --- RFC 3339 reading -----------------------------------------------------------------

/// Reads the text left to right; any mismatch makes ok false for good.
class rfc3339_cursor {
public:
  explicit rfc3339_cursor(std::string_view text) : rest_(text) {
  }
  /// Exactly `width` decimal digits.
  int number(std::size_t width) {
    int value = 0;
    for (std::size_t i = 0; i < width; ++i)
      value = value * 10 + digit();
    return value;
  }
  void expect(std::string_view choices) {
    if (!ok_ || rest_.empty() || choices.find(rest_.front()) == std::string_view::npos)
      ok_ = false;
    else
      rest_.remove_prefix(1);
  }
  bool accept(char c) {
    if (!ok_ || rest_.empty() || rest_.front() != c)
      return false;
    rest_.remove_prefix(1);
    return true;
  }
  /// The fraction after '.', as milliseconds; digits past the third are dropped.
  int milliseconds() {
    int ms = 0;
    std::size_t n = 0;
    for (; !rest_.empty() && is_digit(rest_.front()); ++n) {
      int d = digit();
      if (n < 3)
        ms = ms * 10 + d;
    }
    ok_ = ok_ && n > 0;
    for (; n < 3; ++n)
      ms *= 10;
    return ms;
  }
  char peek() const {
    return rest_.empty() ? '\0' : rest_.front();
  }
  bool done() const {
    return ok_ && rest_.empty();
  }

private:
  static bool is_digit(char c) {
    return c >= '0' && c <= '9';
  }
  int digit() {
    if (!ok_ || rest_.empty() || !is_digit(rest_.front())) {
      ok_ = false;
      return 0;
    }
    int d = rest_.front() - '0';
    rest_.remove_prefix(1);
    return d;
  }

  std::string_view rest_;
  bool ok_ = true;
};

/// "Z" or "±hh:mm" as milliseconds east of UTC; nullopt when malformed.
std::optional<std::int64_t> utc_offset_ms(rfc3339_cursor& c) {
  if (c.peek() == 'Z' || c.peek() == 'z') {
    c.expect("Zz");
    return 0;
  }
  bool west = c.peek() == '-';
  c.expect("+-");
  int hours = c.number(2);
  c.expect(":");
  int minutes = c.number(2);
  if (hours > 23 || minutes > 59)
    return std::nullopt;
  std::int64_t offset = hours * ms_per_hour + minutes * ms_per_minute;
  return west ? -offset : offset;
}

} // namespace

std::string rfc3339_ms(std::int64_t unix_ms) {
  std::int64_t days = floor_div(unix_ms, ms_per_day);
  std::int64_t ms_of_day = unix_ms - days * ms_per_day;
  auto date = civil_from_days(days);
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                static_cast<long long>(date.year), date.month, date.day,
                static_cast<int>(ms_of_day / ms_per_hour),
                static_cast<int>(ms_of_day % ms_per_hour / ms_per_minute),
                static_cast<int>(ms_of_day % ms_per_minute / ms_per_second),
                static_cast<int>(ms_of_day % ms_per_second));
  return buf.data();
}

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text) {
  rfc3339_cursor c(text);
  int year = c.number(4);
  c.expect("-");
  int month = c.number(2);
  c.expect("-");
  int day = c.number(2);
  c.expect("Tt ");
  int hour = c.number(2);
  c.expect(":");
  int minute = c.number(2);
  c.expect(":");
  int second = c.number(2);
  int ms = c.accept('.') ? c.milliseconds() : 0;
  auto offset = utc_offset_ms(c);
  if (!c.done() || !offset || month < 1 || month > 12 || day < 1
      || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  return days_from_civil(year, month, day) * ms_per_day + hour * ms_per_hour
         + minute * ms_per_minute + second * ms_per_second + ms - *offset;
}

} // namespace flashsale
