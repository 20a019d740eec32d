// A stranger on the cluster port (tests of CONTRACT §7): a plain CAF 0.17 client that
// knows only a node's host and port and the public atom names, optionally with TLS
// files of its own. It connects, sends one command about an order and prints what came
// back. Exit: 0 a reply came, 3 no connection, 4 connected but no reply, 2 usage.
//
//   flashsale-cluster-stranger HOST PORT fetch|cancel|event ORDER_ID [EVENT_TYPE]
//   with CLUSTER_TLS_CA, CLUSTER_TLS_CERT, CLUSTER_TLS_KEY in the environment for TLS.

#include "actors/cluster/cluster_tls.hpp"
#include "actors/protocol.hpp"
#include "actors/cluster/wire_format.hpp"
#include "messages/uuid.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <unistd.h>

using namespace flashsale;

namespace {

constexpr std::chrono::seconds reply_timeout{5};
constexpr unsigned give_up_after_s = 20; // CAF's connect has no timeout of its own

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

void print(const order_reply& r) {
  if (r.ok)
    std::cout << "reply: ok order " << r.value.id << " status " << to_string(r.value.status)
              << "\n";
  else
    std::cout << "reply: error " << to_string(r.error.code) << " " << r.error.message << "\n";
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: " << argv[0] << " HOST PORT fetch|cancel|event ORDER_ID [EVENT_TYPE]\n";
    return 2;
  }
  alarm(give_up_after_s);
  std::string host = argv[1];
  auto port = static_cast<std::uint16_t>(std::stoi(argv[2]));
  std::string command = argv[3];
  std::string order_id = argv[4];
  cluster_tls tls{env_or_empty("CLUSTER_TLS_CA"), env_or_empty("CLUSTER_TLS_CERT"),
                  env_or_empty("CLUSTER_TLS_KEY")};
  caf::actor_system_config cfg;
  cfg.set("logger.console", caf::atom("none"));
  cfg.load<caf::io::middleman>();
  configure_cluster_transport(cfg, tls);
  add_cluster_message_types(cfg);
  caf::actor_system sys{cfg};
  auto node = connect_cluster_peer(sys, host, port, tls.enabled());
  if (!node) {
    std::cout << "no connection: " << sys.render(node.error()) << "\n";
    return 3;
  }
  std::cout << "connected\n";
  caf::scoped_actor self{sys};
  int rc = 4;
  auto on_error = [&](const caf::error& e) {
    std::cout << "no reply: " << sys.render(e) << "\n";
  };
  if (command == "fetch") {
    self->request(*node, reply_timeout, fetch_atom::value, order_id)
      .receive([&](const order_reply& r) { print(r), rc = 0; }, on_error);
  } else if (command == "cancel") {
    self->request(*node, reply_timeout, cancel_atom::value, order_id, std::string{"USER_CANCEL"},
                  std::string{}, std::string{})
      .receive([&](const order_reply& r) { print(r), rc = 0; }, on_error);
  } else if (command == "event") {
    incoming_event ev;
    ev.event_id = new_uuid();
    ev.event_type = argc > 5 ? argv[5] : "INVENTORY_RESERVED";
    ev.order_id = order_id;
    self->request(*node, reply_timeout, event_atom::value, ev)
      .receive(
        [&](const event_reply& r) {
          std::cout << "reply: event status " << static_cast<int>(r.status) << " order status "
                    << to_string(r.current) << "\n";
          rc = 0;
        },
        on_error);
  } else {
    std::cerr << "unknown command " << command << "\n";
    return 2;
  }
  return rc;
}
