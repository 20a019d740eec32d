#include "messages/order.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace flashsale {

namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Money goes out as a JSON number with exactly two decimals ("12.50"), written as
// raw text so that no double ever touches it.
void write_money(json_writer& w, minor_units m) {
  auto text = format_money(m);
  w.RawValue(text.data(), text.size(), rapidjson::kNumberType);
}

void write_items(json_writer& w, const std::vector<order_item>& items) {
  w.StartArray();
  for (const auto& item : items) {
    w.StartObject();
    w.Key("sku_id");
    write_string(w, item.sku_id);
    w.Key("quantity");
    w.Int(item.quantity);
    w.Key("price");
    write_money(w, item.price);
    w.EndObject();
  }
  w.EndArray();
}

void write_order(json_writer& w, const order& o) {
  w.StartObject();
  w.Key("id");
  write_string(w, o.id);
  w.Key("user_id");
  write_string(w, o.user_id);
  w.Key("status");
  write_string(w, to_string(o.status));
  w.Key("currency");
  write_string(w, o.currency);
  w.Key("total_amount");
  write_money(w, o.total_amount);
  w.Key("items");
  write_items(w, o.items);
  w.Key("created_at");
  w.Int64(o.created_at);
  w.Key("updated_at");
  w.Int64(o.updated_at);
  if (o.expired_at) {
    w.Key("expired_at");
    w.Int64(*o.expired_at);
  }
  if (!o.reason.empty()) {
    w.Key("reason");
    write_string(w, o.reason);
  }
  w.EndObject();
}

std::string text_of(const rapidjson::StringBuffer& buf) {
  return {buf.GetString(), buf.GetSize()};
}

} // namespace

std::string order_to_json(const order& o) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  write_order(w, o);
  return text_of(buf);
}

std::string order_response_json(const order& o) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("data");
  write_order(w, o);
  w.EndObject();
  return text_of(buf);
}

std::string order_list_response_json(const std::vector<order>& orders) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("data");
  w.StartArray();
  for (const auto& o : orders)
    write_order(w, o);
  w.EndArray();
  w.EndObject();
  return text_of(buf);
}

} // namespace flashsale
