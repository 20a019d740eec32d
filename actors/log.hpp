#pragma once
// Structured logs: one JSON object a line on stderr (LOG_FORMAT=json), or plain text.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flashsale::log {

enum class level { debug, info, warn, error };

using fields = std::vector<std::pair<std::string, std::string>>;

/// Set once at start-up, before other threads log.
void configure(const std::string& level_name, const std::string& format);

void write(level lvl, const std::string& message, const fields& f = {});

/// The ("trace_id", …) field of a line about a request or an event (CONTRACT §3): the
/// trace id of its W3C traceparent, empty when it has none.
std::pair<std::string, std::string> trace_field(std::string_view traceparent);

inline void info(const std::string& m, const fields& f = {}) { write(level::info, m, f); }
inline void warn(const std::string& m, const fields& f = {}) { write(level::warn, m, f); }
inline void error(const std::string& m, const fields& f = {}) { write(level::error, m, f); }
inline void debug(const std::string& m, const fields& f = {}) { write(level::debug, m, f); }

} // namespace flashsale::log
