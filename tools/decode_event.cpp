// flashsale-decode-event: the saga consumer's decoder (messages/events.hpp) on values
// read one a line from stdin; prints "accepted EVENT_TYPE ORDER_ID" or "refused CODE"
// (the dlq_reason's code) for each. test/e2e/test_asyncapi.sh feeds it the examples
// and counter-examples of docs/asyncapi.yaml.

#include "messages/events.hpp"

#include <iostream>
#include <string>
#include <variant>

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    auto decoded = flashsale::decode_incoming(line);
    if (const auto* e = std::get_if<flashsale::incoming_event>(&decoded)) {
      std::cout << "accepted " << e->event_type << " " << e->order_id << "\n";
    } else {
      const auto& why = std::get<flashsale::decode_error>(decoded).detail;
      std::cout << "refused " << why.substr(0, why.find(':')) << "\n";
    }
  }
  return 0;
}
