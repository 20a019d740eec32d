// flashsale-order: serve | migrate up|down [N]|status | dlq list|replay | health | version
// | --help

#include "actors/log.hpp"
#include "app/config.hpp"
#include "app/dlq_command.hpp"
#include "app/health_check.hpp"
#include "app/service.hpp"
#include "persistence/migrator.hpp"

#include <cstdlib>
#include <iostream>
#include <string>
#include <variant>

namespace {

const char* usage = R"(usage: flashsale-order <command>

commands:
  serve                 run the roles named by ORDER_ROLES (default http,relay,consumer,expiry)
  migrate up            apply every pending migration
  migrate down [N]      revert the newest N migrations (default 1)
  migrate status        list migrations and whether each is applied
                        (each waits up to MIGRATE_DATABASE_WAIT_S, default 60, for
                        a database that does not accept connections yet)
  dlq list [--limit N]  print the dead letters (order.v1.dlq) not replayed yet
  dlq replay [--dry-run] [--reason R] [--limit N]
                        send them back to their source topic (see docs/OPERATIONS.md)
  health                GET /healthz of the service configured here (HTTP_ADDR);
                        exit 0 when it answers 200 or the node has no http role
  version               print the version
  --help                this text

Configuration comes from the environment (and an optional .env file); see README.md.
)";

std::string migrations_dir() {
  if (const char* dir = std::getenv("MIGRATIONS_DIR"))
    return dir;
  return FLASHSALE_MIGRATIONS_DIR;
}

int migrate(const flashsale::env_lookup& env, int argc, char** argv) {
  std::string action = argc > 2 ? argv[2] : "";
  auto url = env("DATABASE_URL");
  if (!url || url->empty()) {
    std::cerr << "configuration error: DATABASE_URL is required\n";
    return 2;
  }
  flashsale::persistence::migrate_settings settings;
  if (auto wait = env("MIGRATE_DATABASE_WAIT_S"); wait && !wait->empty()) {
    char* end = nullptr;
    long s = std::strtol(wait->c_str(), &end, 10);
    if (*end != '\0' || s < 0 || s > 86400) {
      std::cerr << "configuration error: MIGRATE_DATABASE_WAIT_S takes 0 to 86400 seconds\n";
      return 2;
    }
    settings.database_wait = std::chrono::seconds(s);
  }
  flashsale::persistence::migrator m{*url, migrations_dir(), settings};
  try {
    if (action == "up") {
      const int applied = m.up(); // before printing: a failure prints no half line
      std::cout << "applied " << applied << " migration(s)\n";
    } else if (action == "down") {
      int steps = 1;
      if (argc > 3) {
        char* end = nullptr;
        long n = std::strtol(argv[3], &end, 10);
        if (*end != '\0' || n < 1 || n > 1000000) {
          std::cerr << "migrate down takes a positive number of steps\n";
          return 2;
        }
        steps = static_cast<int>(n);
      }
      const int reverted = m.down(steps);
      std::cout << "reverted " << reverted << " migration(s)\n";
    } else if (action == "status") {
      for (const auto& s : m.status())
        std::cout << s.version << " " << s.name << " " << (s.applied ? "applied" : "pending")
                  << "\n";
    } else {
      std::cerr << usage;
      return 2;
    }
  } catch (const std::exception& e) {
    std::cerr << "migrate " << action << " failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

// The container health check: the service's own address, from the same configuration.
int health(const flashsale::config& cfg) {
  if (!cfg.enabled.http) {
    std::cout << "healthy: no http role, nothing to ask\n";
    return 0;
  }
  flashsale::health_check_settings hs;
  hs.host = flashsale::dial_host(cfg.http.host);
  hs.port = cfg.http.port;
  auto r = flashsale::check_health(hs);
  (r.healthy ? std::cout : std::cerr) << (r.healthy ? "healthy: " : "unhealthy: ") << r.detail << "\n";
  return r.healthy ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  std::string command = argc > 1 ? argv[1] : "";
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << usage;
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::cout << "flashsale-order " << FLASHSALE_VERSION << "\n";
    return 0;
  }
  auto env = flashsale::environment_with(flashsale::read_dotenv(".env"));
  if (command == "migrate")
    return migrate(env, argc, argv);
  if (command == "dlq")
    return flashsale::dlq_command(env, argc, argv);
  if (command != "serve" && command != "health") {
    std::cerr << usage;
    return 2;
  }
  auto loaded = flashsale::load_config(env);
  if (auto* err = std::get_if<std::string>(&loaded)) {
    std::cerr << *err << "\n";
    return 2;
  }
  const auto& cfg = std::get<flashsale::config>(loaded);
  if (command == "health")
    return health(cfg);
  flashsale::log::configure(cfg.log_level, cfg.log_format);
  return flashsale::serve(cfg);
}
