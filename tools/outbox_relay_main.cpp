// flashsale-outbox-relay: only the outbox relay pool, configured like the service
// (DATABASE_URL, KAFKA_BROKERS, OUTBOX_*), until SIGINT or SIGTERM. The integration
// tests run it as "another process" and SIGKILL it mid-batch; `flashsale-order serve`
// with ORDER_ROLES=relay runs the same pool inside the service.

#include "actors/log.hpp"
#include "actors/outbox/outbox_relay.hpp"
#include "actors/stop.hpp"
#include "app/config.hpp"
#include "app/relay_settings.hpp"
#include "metrics/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <csignal>
#include <cstdio>
#include <variant>

using namespace flashsale;

int main() {
  auto loaded = load_config(environment_with({}));
  if (auto* error = std::get_if<std::string>(&loaded)) {
    std::fprintf(stderr, "%s\n", error->c_str());
    return 2;
  }
  const auto& cfg = std::get<config>(loaded);
  log::configure(cfg.log_level, cfg.log_format);

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto rs = relay_settings_from(cfg);

  metrics_registry metrics; // outlives the actor system
  caf::actor_system_config caf_cfg;
  caf_cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{caf_cfg};
  auto relays = spawn_outbox_relays(sys, rs, metrics);
  log::info("outbox relays running", {{"relays", std::to_string(rs.relays)}});

  int sig = 0;
  sigwait(&stop, &sig);
  log::info("stopping", {{"signal", std::to_string(sig)}});
  stop_and_wait(sys, relays);
  return 0;
}
