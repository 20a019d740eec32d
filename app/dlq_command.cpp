#include "app/dlq_command.hpp"

#include "kafka/dlq_redrive.hpp"
#include "messages/events.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <iostream>
#include <string>

namespace flashsale {

namespace {

const char* dlq_usage = R"(usage: flashsale-order dlq list [--limit N]
       flashsale-order dlq replay [--dry-run] [--reason R] [--limit N]

  list     print the messages of order.v1.dlq not replayed yet, one JSON object a line
  replay   send each back to its source_topic with its key and headers (plus
           dlq_redrive_count), then remember how far it got (consumer group DLQ_GROUP_ID)
  --dry-run    say what replay would send; send and remember nothing
  --reason R   only messages whose dlq_reason is R (e.g. not_json, invalid_order_id);
               the others are passed over
  --limit N    look at N messages at most
)";

struct dlq_args {
  bool replay = false;
  bool dry_run = false;
  std::string reason;
  std::size_t limit = 0;
};

std::optional<std::size_t> parse_limit(const std::string& text) {
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n == 0)
    return std::nullopt;
  return n;
}

std::optional<dlq_args> parse_args(int argc, char** argv) {
  if (argc < 3)
    return std::nullopt;
  dlq_args a;
  std::string action = argv[2];
  if (action != "list" && action != "replay")
    return std::nullopt;
  a.replay = action == "replay";
  for (int i = 3; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--dry-run" && a.replay) {
      a.dry_run = true;
    } else if (arg == "--reason" && a.replay && i + 1 < argc && argv[i + 1][0] != '\0') {
      a.reason = argv[++i];
    } else if (arg == "--limit" && i + 1 < argc) {
      auto n = parse_limit(argv[++i]);
      if (!n)
        return std::nullopt;
      a.limit = *n;
    } else {
      return std::nullopt;
    }
  }
  return a;
}

void print_entry(const kafka::dlq_entry& e) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  auto str = [&](const char* name, const std::string& v) {
    w.Key(name);
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  str("outcome", e.outcome);
  w.Key("partition");
  w.Int(e.msg.partition);
  w.Key("offset");
  w.Int64(e.msg.offset);
  if (e.msg.key)
    str("key", *e.msg.key);
  str("dlq_reason", e.plan.dlq_reason);
  str("source_topic", e.plan.source_topic);
  w.Key("redrive_count");
  w.Int(e.plan.redrive_count);
  if (!e.plan.why.empty())
    str("why", e.plan.why);
  w.Key("value_bytes");
  w.Uint64(e.msg.value.size());
  w.Key("headers");
  w.StartObject();
  for (const auto& h : e.msg.headers)
    str(h.name.c_str(), h.value);
  w.EndObject();
  str("value", e.msg.value);
  w.EndObject();
  std::cout << buf.GetString() << "\n";
}

} // namespace

int dlq_command(const env_lookup& env, int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (!args) {
    std::cerr << dlq_usage;
    return 2;
  }
  auto loaded = load_dlq_config(env);
  if (auto* err = std::get_if<std::string>(&loaded)) {
    std::cerr << *err << "\n";
    return 2;
  }
  const auto& cfg = std::get<dlq_config>(loaded);
  kafka::dlq_run_settings s;
  s.brokers = cfg.kafka_brokers;
  s.topic = topics::order_dlq;
  s.group_id = cfg.group_id;
  s.options.max_redrives = cfg.max_redrives;
  s.options.reason = args->reason;
  s.replay = args->replay;
  s.dry_run = args->dry_run;
  s.limit = args->limit;
  auto r = kafka::run_dlq(s, print_entry);
  std::cerr << "dlq " << (args->replay ? (args->dry_run ? "replay --dry-run" : "replay") : "list")
            << ": " << r.seen << " seen, " << r.replayed << " replayed, " << r.passed_over
            << " passed over, " << r.refused << " refused, " << r.failed << " failed"
            << (r.error ? "; stopped: " + *r.error : std::string{}) << "\n";
  return r.error ? 1 : 0;
}

} // namespace flashsale
