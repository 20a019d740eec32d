// flashsale-saga-sim: plays the Inventory and Payment services for development, demos
// and tests. It consumes order.v1.events and answers on inventory.v1.events and
// payment.v1.events with the envelopes of CONTRACT §5:
//
//   ORDER_CREATED    reserve every item or none; INVENTORY_RESERVED or
//                    INVENTORY_RESERVATION_FAILED (reason STOCK_EXHAUSTED). After a
//                    reservation, PAYMENT_INTENT_CREATED (after SIM_INTENT_DELAY_MS),
//                    then after SIM_PAYMENT_DELAY_MS PAYMENT_SUCCEEDED, PAYMENT_FAILED
//                    (SIM_DECLINE_RATE) or nothing (SIM_NO_ANSWER_RATE).
//   ORDER_CANCELLED, ORDER_EXPIRED   release the reservation; INVENTORY_RELEASED.
//   ORDER_PAID       the reserved items count as sold.
//
// Stock is finite for SKUs sku-0 .. sku-(SIM_SKUS-1), SIM_STOCK_PER_SKU each; other SKUs
// are not part of the sale and have unlimited stock (they are still booked). Nothing is
// ever oversold: a reservation takes all of an order's items or none. The books live in
// memory only. `--report FILE` writes them as JSON every second and on exit; SIGINT or
// SIGTERM prints a summary and exits.
//
// The intent waits a little after the reservation because the two answers travel on
// different topics: Kafka orders neither against the other, and an intent that overtook
// its reservation would meet an order still CREATED.

#include "kafka/producer.hpp"
#include "messages/clock.hpp"
#include "messages/events.hpp"
#include "messages/trace_context.hpp"
#include "messages/uuid.hpp"

#include <librdkafka/rdkafkacpp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

using namespace flashsale;

namespace {

using steady = std::chrono::steady_clock;

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) {
  stop_requested = 1;
}

// -- configuration --------------------------------------------------------------------

struct sim_config {
  std::string brokers;               // KAFKA_BROKERS (required)
  std::string group_id = "saga-sim"; // SIM_GROUP_ID
  int skus = 50;                     // SIM_SKUS
  long stock_per_sku = 100;          // SIM_STOCK_PER_SKU
  std::string sku_prefix = "sku-";   // SIM_SKU_PREFIX
  /// Only orders all of whose SKUs start with this are answered (a test on the shared
  /// broker plays its own orders, not the history of the topic); empty: every order.
  std::string answer_prefix;         // SIM_ANSWER_SKU_PREFIX
  long intent_delay_ms = 200;        // SIM_INTENT_DELAY_MS
  long payment_delay_ms = 500;       // SIM_PAYMENT_DELAY_MS
  double decline_rate = 0.1;         // SIM_DECLINE_RATE
  double no_answer_rate = 0.05;      // SIM_NO_ANSWER_RATE
  long reservation_ttl_s = 900;      // SIM_RESERVATION_TTL_S (informative)
  long payment_ttl_s = 900;          // SIM_PAYMENT_TTL_S (informative)
  std::string report_path;           // --report FILE or SIM_REPORT
  std::chrono::milliseconds report_every{1000};
  std::chrono::milliseconds poll_wait{50};
  std::chrono::milliseconds exit_flush{5000};
};

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

bool read_long(const char* name, long lo, long hi, long& out) {
  auto text = env_or(name, "");
  if (text.empty())
    return true;
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (*end != '\0' || v < lo || v > hi) {
    std::fprintf(stderr, "%s must be an integer in [%ld, %ld]\n", name, lo, hi);
    return false;
  }
  out = v;
  return true;
}

bool read_rate(const char* name, double& out) {
  auto text = env_or(name, "");
  if (text.empty())
    return true;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (*end != '\0' || !(v >= 0 && v <= 1)) {
    std::fprintf(stderr, "%s must be a number in [0, 1]\n", name);
    return false;
  }
  out = v;
  return true;
}

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: flashsale-saga-sim [--report FILE]\n\n"
               "Plays the Inventory and Payment services against order.v1.events.\n"
               "Environment: KAFKA_BROKERS (required), SIM_GROUP_ID (saga-sim), SIM_SKUS (50),\n"
               "SIM_STOCK_PER_SKU (100), SIM_SKU_PREFIX (sku-), SIM_INTENT_DELAY_MS (200),\n"
               "SIM_PAYMENT_DELAY_MS (500), SIM_DECLINE_RATE (0.1), SIM_NO_ANSWER_RATE (0.05),\n"
               "SIM_RESERVATION_TTL_S (900), SIM_PAYMENT_TTL_S (900), SIM_REPORT (no report),\n"
               "SIM_ANSWER_SKU_PREFIX (empty: answer every order).\n");
}

std::optional<sim_config> load(int argc, char** argv) {
  sim_config c;
  c.brokers = env_or("KAFKA_BROKERS", "");
  c.group_id = env_or("SIM_GROUP_ID", c.group_id);
  c.sku_prefix = env_or("SIM_SKU_PREFIX", c.sku_prefix);
  c.answer_prefix = env_or("SIM_ANSWER_SKU_PREFIX", "");
  c.report_path = env_or("SIM_REPORT", "");
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--report" && i + 1 < argc) {
      c.report_path = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      std::exit(0);
    } else {
      usage(stderr);
      return std::nullopt;
    }
  }
  long skus = c.skus;
  bool ok = read_long("SIM_SKUS", 0, 1000000, skus)
            && read_long("SIM_STOCK_PER_SKU", 0, 1L << 40, c.stock_per_sku)
            && read_long("SIM_INTENT_DELAY_MS", 0, 3600000, c.intent_delay_ms)
            && read_long("SIM_PAYMENT_DELAY_MS", 0, 3600000, c.payment_delay_ms)
            && read_long("SIM_RESERVATION_TTL_S", 1, 86400, c.reservation_ttl_s)
            && read_long("SIM_PAYMENT_TTL_S", 1, 86400, c.payment_ttl_s)
            && read_rate("SIM_DECLINE_RATE", c.decline_rate)
            && read_rate("SIM_NO_ANSWER_RATE", c.no_answer_rate);
  c.skus = static_cast<int>(skus);
  if (ok && c.decline_rate + c.no_answer_rate > 1) {
    std::fprintf(stderr, "SIM_DECLINE_RATE + SIM_NO_ANSWER_RATE must not exceed 1\n");
    ok = false;
  }
  if (ok && c.brokers.empty()) {
    std::fprintf(stderr, "KAFKA_BROKERS is required\n");
    ok = false;
  }
  return ok ? std::optional<sim_config>{c} : std::nullopt;
}

// -- the books ------------------------------------------------------------------------

constexpr long unlimited = -1;

struct sku_book {
  long stock = unlimited; // initial stock, or unlimited
  long reserved = 0;
  long sold = 0;
  long available() const { return stock - reserved - sold; }
};

struct order_line {
  std::string sku;
  long quantity = 0;
};

enum class order_phase { reserved, failed, released, sold };

struct sim_order {
  std::vector<order_line> lines;
  std::string amount; // total_amount as sent (exact decimal text)
  std::string currency;
  std::string payment_intent_id;
  order_phase phase = order_phase::failed;
  std::string reason; // why it was released
  std::string trace;  // ORDER_CREATED's traceparent: the saga's events continue it
};

class books {
public:
  explicit books(const sim_config& cfg) {
    for (int i = 0; i < cfg.skus; ++i)
      skus_[cfg.sku_prefix + std::to_string(i)].stock = cfg.stock_per_sku;
  }

  /// All lines or none.
  bool reserve(const std::vector<order_line>& lines) {
    std::map<std::string, long> wanted; // the same SKU may appear on several lines
    for (const auto& l : lines)
      wanted[l.sku] += l.quantity;
    for (const auto& [sku, qty] : wanted) {
      const auto& b = skus_[sku];
      if (b.stock != unlimited && b.available() < qty)
        return false;
    }
    for (const auto& [sku, qty] : wanted)
      skus_[sku].reserved += qty;
    return true;
  }

  void release(const std::vector<order_line>& lines) {
    for (const auto& l : lines)
      skus_[l.sku].reserved -= l.quantity;
  }

  void sell(const std::vector<order_line>& lines) {
    for (const auto& l : lines) {
      skus_[l.sku].reserved -= l.quantity;
      skus_[l.sku].sold += l.quantity;
    }
  }

  /// True when some SKU has more reserved and sold than it had in stock, or negative
  /// reservations: the simulator's own invariant, checked by the tests.
  bool oversold() const {
    for (const auto& [sku, b] : skus_)
      if ((b.stock != unlimited && b.reserved + b.sold > b.stock) || b.reserved < 0)
        return true;
    return false;
  }

  const std::map<std::string, sku_book>& skus() const { return skus_; }

private:
  std::map<std::string, sku_book> skus_;
};

// -- envelopes --------------------------------------------------------------------------

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put(json_writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

struct outgoing {
  std::string topic;
  std::string type;
  std::string order_id;
  std::string value;
};

/// CONTRACT §5 envelope around the payload members `write_payload` writes.
template <class WritePayload>
outgoing envelope(const char* topic, const char* type, const std::string& order_id,
                  WritePayload write_payload) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  put(w, "event_id", new_uuid());
  put(w, "event_type", type);
  put(w, "occurred_at", rfc3339_ms(unix_now_ms()));
  w.Key("schema_version");
  w.Int(1);
  w.Key("payload");
  w.StartObject();
  put(w, "order_id", order_id);
  write_payload(w);
  w.EndObject();
  w.EndObject();
  return {topic, type, order_id, std::string{buf.GetString(), buf.GetSize()}};
}

void put_lines(json_writer& w, const char* key, const std::vector<order_line>& lines) {
  w.Key(key);
  w.StartArray();
  for (const auto& l : lines) {
    w.StartObject();
    put(w, "item_id", l.sku);
    w.Key("quantity");
    w.Int64(l.quantity);
    w.EndObject();
  }
  w.EndArray();
}

// -- the simulator ----------------------------------------------------------------------

enum class step { intent, payment };

struct scheduled {
  steady::time_point due;
  step what;
  std::string order_id;
  bool operator>(const scheduled& o) const { return due > o.due; }
};

struct order_created {
  std::string order_id;
  sim_order order;
};

/// Items, amount and currency of an ORDER_CREATED payload; nullopt when malformed.
std::optional<order_created> parse_created(const rapidjson::Value& payload) {
  order_created c;
  auto id = payload.FindMember("order_id");
  auto items = payload.FindMember("items");
  auto amount = payload.FindMember("total_amount");
  auto currency = payload.FindMember("currency");
  if (id == payload.MemberEnd() || !id->value.IsString() || items == payload.MemberEnd()
      || !items->value.IsArray() || amount == payload.MemberEnd() || !amount->value.IsString()
      || currency == payload.MemberEnd() || !currency->value.IsString())
    return std::nullopt;
  c.order_id = id->value.GetString();
  c.order.amount = amount->value.GetString(); // numbers parsed as strings: exact
  c.order.currency = currency->value.GetString();
  for (const auto& item : items->value.GetArray()) {
    if (!item.IsObject())
      return std::nullopt;
    auto sku = item.FindMember("sku_id");
    auto qty = item.FindMember("quantity");
    if (sku == item.MemberEnd() || !sku->value.IsString() || qty == item.MemberEnd()
        || !qty->value.IsString())
      return std::nullopt;
    c.order.lines.push_back({sku->value.GetString(), std::atol(qty->value.GetString())});
  }
  return c;
}

class simulator {
public:
  explicit simulator(const sim_config& cfg)
    : cfg_(cfg), books_(cfg), rng_(std::random_device{}()) {}

  bool start() {
    std::string error;
    kafka::producer_settings ps;
    ps.brokers = cfg_.brokers;
    ps.client_id = "flashsale-saga-sim";
    producer_ = kafka::producer::create(
      ps,
      [this](const kafka::delivery_report& r) {
        if (!r.ok) {
          ++counts_["delivery_failed"];
          std::fprintf(stderr, "saga-sim: not delivered: %s\n", r.error.c_str());
        }
      },
      [](kafka::log_severity sev, const std::string& fac, const std::string& text) {
        if (sev == kafka::log_severity::error)
          std::fprintf(stderr, "saga-sim: producer %s: %s\n", fac.c_str(), text.c_str());
      },
      error);
    if (!producer_) {
      std::fprintf(stderr, "saga-sim: producer: %s\n", error.c_str());
      return false;
    }
    return make_consumer();
  }

  void run() {
    auto next_report = steady::now();
    while (!stop_requested) {
      std::unique_ptr<RdKafka::Message> m{consumer_->consume(wait_ms())};
      if (m && m->err() == RdKafka::ERR_NO_ERROR)
        on_message(*m);
      else if (m && m->err() != RdKafka::ERR__TIMED_OUT && m->err() != RdKafka::ERR__PARTITION_EOF)
        std::fprintf(stderr, "saga-sim: consume: %s\n", m->errstr().c_str());
      run_due();
      producer_->poll(std::chrono::milliseconds{0});
      if (steady::now() >= next_report) {
        write_report();
        next_report = steady::now() + cfg_.report_every;
      }
    }
    producer_->flush(cfg_.exit_flush);
    consumer_->close();
    write_report();
    print_summary();
  }

private:
  bool make_consumer() {
    std::string error;
    std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
    const std::pair<const char*, std::string> props[] = {
      {"bootstrap.servers", cfg_.brokers}, {"group.id", cfg_.group_id},
      {"client.id", "flashsale-saga-sim"}, {"auto.offset.reset", "earliest"},
      {"enable.auto.commit", "true"},
    };
    for (const auto& [k, v] : props)
      if (conf->set(k, v, error) != RdKafka::Conf::CONF_OK) {
        std::fprintf(stderr, "saga-sim: %s\n", error.c_str());
        return false;
      }
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
    if (!consumer_ || consumer_->subscribe({topics::order_events}) != RdKafka::ERR_NO_ERROR) {
      std::fprintf(stderr, "saga-sim: consumer: %s\n", error.c_str());
      return false;
    }
    return true;
  }

  int wait_ms() const {
    auto wait = cfg_.poll_wait;
    if (!schedule_.empty()) {
      auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(schedule_.top().due - steady::now());
      wait = std::max(std::chrono::milliseconds{0}, std::min(wait, left));
    }
    return static_cast<int>(wait.count());
  }

  /// The message's traceparent header, empty when it has none.
  static std::string traceparent_of(RdKafka::Message& m) {
    auto* headers = m.headers();
    if (!headers)
      return {};
    auto h = headers->get_last("traceparent");
    if (h.err() != RdKafka::ERR_NO_ERROR || !h.value())
      return {};
    return {static_cast<const char*>(h.value()), h.value_size()};
  }

  void on_message(RdKafka::Message& m) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseNumbersAsStringsFlag>(static_cast<const char*>(m.payload()),
                                                     m.len());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("event_type")
        || !doc["event_type"].IsString() || !doc.HasMember("payload")
        || !doc["payload"].IsObject()) {
      ++counts_["in_malformed"];
      return;
    }
    std::string type = doc["event_type"].GetString();
    const auto& payload = doc["payload"];
    ++counts_["in_" + type];
    auto id = payload.HasMember("order_id") && payload["order_id"].IsString()
                ? std::string{payload["order_id"].GetString()}
                : std::string{};
    if (type == "ORDER_CREATED")
      on_created(payload, traceparent_of(m));
    else if (type == "ORDER_CANCELLED" || type == "ORDER_EXPIRED")
      on_ended(id, type, traceparent_of(m));
    else if (type == "ORDER_PAID")
      on_paid(id);
  }

  void on_created(const rapidjson::Value& payload, const std::string& trace) {
    auto created = parse_created(payload);
    if (!created) {
      ++counts_["in_malformed"];
      return;
    }
    if (orders_.count(created->order_id))
      return; // delivered again
    for (const auto& l : created->order.lines)
      if (l.sku.rfind(cfg_.answer_prefix, 0) != 0)
        return; // another player's order
    auto& o = orders_[created->order_id] = std::move(created->order);
    o.trace = trace;
    const auto& id = created->order_id;
    if (!books_.reserve(o.lines)) {
      o.phase = order_phase::failed;
      send(
        envelope(topics::inventory_events, "INVENTORY_RESERVATION_FAILED", id, [&](json_writer& w) {
          put_lines(w, "failed_items", o.lines);
          put(w, "reason", "STOCK_EXHAUSTED");
        }),
        o.trace);
      return;
    }
    o.phase = order_phase::reserved;
    auto expires = rfc3339_ms(unix_now_ms() + cfg_.reservation_ttl_s * 1000);
    send(envelope(topics::inventory_events, "INVENTORY_RESERVED", id, [&](json_writer& w) {
      put_lines(w, "items", o.lines);
      put(w, "reservation_expires_at", expires);
    }),
         o.trace);
    at(cfg_.intent_delay_ms, step::intent, id);
  }

  void on_ended(const std::string& id, const std::string& type, const std::string& trace) {
    auto i = orders_.find(id);
    if (i == orders_.end() || i->second.phase != order_phase::reserved)
      return;
    auto& o = i->second;
    books_.release(o.lines);
    o.phase = order_phase::released;
    o.reason = type == "ORDER_EXPIRED" ? "ORDER_EXPIRED" : "ORDER_CANCELLED";
    send(envelope(topics::inventory_events, "INVENTORY_RELEASED", id, [&](json_writer& w) {
      put_lines(w, "items", o.lines);
      put(w, "reason", o.reason);
    }),
         trace);
  }

  void on_paid(const std::string& id) {
    auto i = orders_.find(id);
    if (i == orders_.end() || i->second.phase != order_phase::reserved)
      return;
    books_.sell(i->second.lines);
    i->second.phase = order_phase::sold;
  }

  void at(long delay_ms, step what, const std::string& id) {
    schedule_.push({steady::now() + std::chrono::milliseconds{delay_ms}, what, id});
  }

  void run_due() {
    auto now = steady::now();
    while (!schedule_.empty() && schedule_.top().due <= now) {
      auto s = schedule_.top();
      schedule_.pop();
      auto i = orders_.find(s.order_id);
      if (i == orders_.end() || i->second.phase != order_phase::reserved)
        continue; // released meanwhile: the payment service is not asked
      if (s.what == step::intent)
        create_intent(s.order_id, i->second);
      else
        answer_payment(s.order_id, i->second);
    }
  }

  void create_intent(const std::string& id, sim_order& o) {
    o.payment_intent_id = new_uuid();
    auto expires = rfc3339_ms(unix_now_ms() + cfg_.payment_ttl_s * 1000);
    send(envelope(topics::payment_events, "PAYMENT_INTENT_CREATED", id, [&](json_writer& w) {
      put(w, "payment_intent_id", o.payment_intent_id);
      w.Key("amount");
      w.RawValue(o.amount.c_str(), o.amount.size(), rapidjson::kNumberType);
      put(w, "currency", o.currency);
      put(w, "expires_at", expires);
    }),
         o.trace);
    at(cfg_.payment_delay_ms, step::payment, id);
  }

  void answer_payment(const std::string& id, const sim_order& o) {
    double u = std::uniform_real_distribution<double>{0, 1}(rng_);
    if (u < cfg_.decline_rate) {
      send(envelope(topics::payment_events, "PAYMENT_FAILED", id, [&](json_writer& w) {
        put(w, "payment_intent_id", o.payment_intent_id);
        put(w, "gateway_event_id", new_uuid());
        put(w, "reason", "CARD_DECLINED");
      }),
           o.trace);
    } else if (u < cfg_.decline_rate + cfg_.no_answer_rate) {
      ++counts_["out_no_answer"];
    } else {
      send(envelope(topics::payment_events, "PAYMENT_SUCCEEDED", id, [&](json_writer& w) {
        put(w, "payment_intent_id", o.payment_intent_id);
        put(w, "gateway_event_id", new_uuid());
        put(w, "paid_at", rfc3339_ms(unix_now_ms()));
      }),
           o.trace);
    }
  }

  /// Sends `e` in the trace of its cause (`trace`, the traceparent of the order event
  /// that led to it): a span of ours in that trace, or a new trace when there is none,
  /// as a service with a tracing SDK would.
  void send(const outgoing& e, const std::string& trace) {
    ++counts_["out_" + e.type];
    auto refused = producer_->produce(e.topic, e.order_id, e.value,
                                      {{"event_type", e.type},
                                       {"traceparent", next_traceparent(trace)}},
                                      0);
    if (refused) {
      ++counts_["delivery_failed"];
      std::fprintf(stderr, "saga-sim: %s not queued: %s\n", e.type.c_str(), refused->error.c_str());
    }
  }

  std::string report_json() const {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("skus");
    w.StartArray();
    for (const auto& [sku, b] : books_.skus()) {
      w.StartObject();
      put(w, "sku", sku);
      w.Key("stock");
      b.stock == unlimited ? w.Null() : w.Int64(b.stock);
      w.Key("reserved");
      w.Int64(b.reserved);
      w.Key("sold");
      w.Int64(b.sold);
      w.EndObject();
    }
    w.EndArray();
    std::map<std::string, long> phases{
      {"reserved", 0}, {"failed", 0}, {"released", 0}, {"sold", 0}};
    const char* names[] = {"reserved", "failed", "released", "sold"};
    for (const auto& [id, o] : orders_)
      ++phases[names[static_cast<int>(o.phase)]];
    w.Key("orders");
    w.StartObject();
    for (const auto& [k, v] : phases) {
      w.Key(k.c_str());
      w.Int64(v);
    }
    w.EndObject();
    w.Key("events");
    w.StartObject();
    for (const auto& [k, v] : counts_) {
      w.Key(k.c_str());
      w.Int64(v);
    }
    w.EndObject();
    w.Key("oversold");
    w.Bool(books_.oversold());
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
  }

  /// Written beside and renamed, so a reader never sees half a report.
  void write_report() const {
    if (cfg_.report_path.empty())
      return;
    auto tmp = cfg_.report_path + ".tmp";
    {
      std::ofstream out{tmp, std::ios::trunc};
      out << report_json() << '\n';
    }
    std::rename(tmp.c_str(), cfg_.report_path.c_str());
  }

  void print_summary() const {
    long stock = 0, reserved = 0, sold = 0;
    for (const auto& [sku, b] : books_.skus()) {
      if (b.stock != unlimited)
        stock += b.stock;
      reserved += b.reserved;
      sold += b.sold;
    }
    std::printf("saga-sim: %zu orders; stock %ld (listed SKUs), reserved %ld, sold %ld; %s\n",
                orders_.size(), stock, reserved, sold,
                books_.oversold() ? "OVERSOLD" : "nothing oversold");
    for (const auto& [k, v] : counts_)
      std::printf("saga-sim:   %-36s %ld\n", k.c_str(), v);
    std::fflush(stdout);
  }

  sim_config cfg_;
  books books_;
  std::mt19937_64 rng_;
  std::unique_ptr<kafka::producer> producer_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unordered_map<std::string, sim_order> orders_;
  std::priority_queue<scheduled, std::vector<scheduled>, std::greater<>> schedule_;
  std::map<std::string, long> counts_;
};

} // namespace

int main(int argc, char** argv) {
  auto cfg = load(argc, argv);
  if (!cfg)
    return 2;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  simulator sim{*cfg};
  if (!sim.start())
    return 1;
  std::printf("saga-sim: consuming %s as group %s; %d SKUs x %ld\n", topics::order_events,
              cfg->group_id.c_str(), cfg->skus, cfg->stock_per_sku);
  std::fflush(stdout);
  sim.run();
  return 0;
}
