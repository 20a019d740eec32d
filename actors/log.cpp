#include "actors/log.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>

#include "messages/clock.hpp"
#include "messages/events.hpp"
#include "messages/trace_context.hpp"

namespace flashsale::log {

namespace {

level threshold = level::info;
bool as_json = true;
std::mutex out_mutex;

const char* name_of(level l) {
  switch (l) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    default:
      return "error";
  }
}

void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

} // namespace

void configure(const std::string& level_name, const std::string& format) {
  for (auto l : {level::debug, level::info, level::warn, level::error})
    if (level_name == name_of(l))
      threshold = l;
  as_json = format != "text";
}

std::pair<std::string, std::string> trace_field(std::string_view traceparent) {
  return {"trace_id", trace_id_of(traceparent)};
}

void write(level lvl, const std::string& message, const fields& f) {
  if (lvl < threshold)
    return;
  std::string line;
  if (as_json) {
    line =
      "{\"ts\":\"" + rfc3339_ms(unix_now_ms()) + "\",\"level\":\"" + name_of(lvl) + "\",\"msg\":";
    append_json_string(line, message);
    for (const auto& [k, v] : f) {
      line += ',';
      append_json_string(line, k);
      line += ':';
      append_json_string(line, v);
    }
    line += "}\n";
  } else {
    line = rfc3339_ms(unix_now_ms()) + " " + name_of(lvl) + " " + message;
    for (const auto& [k, v] : f)
      line += " " + k + "=" + v;
    line += "\n";
  }
  std::lock_guard<std::mutex> guard{out_mutex};
  std::fputs(line.c_str(), stderr);
}

} // namespace flashsale::log
