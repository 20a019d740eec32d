// flashsale-order: serve | migrate up|down [N]|status | dlq list|replay | version | --help

#include "actors/log.hpp"
#include "app/config.hpp"
#include "app/dlq_command.hpp"
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
  dlq list [--limit N]  print the dead letters (order.v1.dlq) not replayed yet
  dlq replay [--dry-run] [--reason R] [--limit N]
                        send them back to their source topic (see docs/OPERATIONS.md)
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
  flashsale::persistence::migrator m{*url, migrations_dir()};
  try {
    if (action == "up") {
      std::cout << "applied " << m.up() << " migration(s)\n";
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
      std::cout << "reverted " << m.down(steps) << " migration(s)\n";
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
  if (command != "serve") {
    std::cerr << usage;
    return 2;
  }
  auto loaded = flashsale::load_config(env);
  if (auto* err = std::get_if<std::string>(&loaded)) {
    std::cerr << *err << "\n";
    return 2;
  }
  const auto& cfg = std::get<flashsale::config>(loaded);
  flashsale::log::configure(cfg.log_level, cfg.log_format);
  return flashsale::serve(cfg);
}
