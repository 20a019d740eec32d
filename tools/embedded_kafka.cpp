// flashsale-kafka: an embedded Kafka broker for development and tests.
//
// librdkafka ships a mock cluster that speaks the real Kafka wire protocol on
// localhost listeners (produce, idempotent produce, fetch, metadata, consumer
// groups with offset commits). This program starts one, creates the topics the
// order service uses, prints `KAFKA_BROKERS=<bootstrap>` on stdout and serves
// until SIGINT/SIGTERM. SIGUSR1 takes every broker down, SIGUSR2 brings them back,
// so failure tests can simulate a Kafka outage without killing the process; SIGHUP
// makes every broker slow (each answer --slow-rtt-ms late) or fast again.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <signal.h>
#include <unistd.h>

namespace {

const char *const kTopics[] = {"order.v1.events", "inventory.v1.events",
                               "payment.v1.events", "order.v1.dlq"};

// Signal handlers only set flags; the mock API is called from the main loop
// because it takes locks and is not async-signal-safe.
volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_down_requested = 0;
volatile std::sig_atomic_t g_up_requested = 0;
volatile std::sig_atomic_t g_slow_toggled = 0;

void on_signal(int sig) {
  switch (sig) {
  case SIGUSR1: g_down_requested = 1; break;
  case SIGUSR2: g_up_requested = 1; break;
  case SIGHUP: g_slow_toggled = 1; break;
  default: g_stop = 1; break;
  }
}

void install_handlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP})
    sigaction(sig, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

void usage(std::FILE *out) {
  std::fprintf(out,
               "usage: flashsale-kafka [--partitions N] [--brokers N] [--slow-rtt-ms MS]\n"
               "\n"
               "Starts an in-process Kafka cluster (librdkafka mock cluster) on 127.0.0.1,\n"
               "creates the topics order.v1.events, inventory.v1.events, payment.v1.events\n"
               "and order.v1.dlq, prints KAFKA_BROKERS=<bootstrap servers> and runs until\n"
               "SIGINT or SIGTERM.\n"
               "\n"
               "  --partitions N  partitions per topic (default 8)\n"
               "  --brokers N     brokers in the cluster (default 3)\n"
               "  --slow-rtt-ms MS  how late every answer is while slow (default 6000)\n"
               "  --help          this text\n"
               "\n"
               "Signals: SIGUSR1 takes every broker down, SIGUSR2 brings them back up,\n"
               "SIGHUP makes them slow (answers --slow-rtt-ms late) or fast again.\n"
               "Data lives in memory only and is lost on exit.\n");
}

bool parse_positive(const char *text, int &out, long max) {
  char *end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 1 || v > max) return false;
  out = static_cast<int>(v);
  return true;
}

void set_all_brokers(rd_kafka_mock_cluster_t *mc, int brokers, bool up) {
  for (int id = 1; id <= brokers; ++id) {
    rd_kafka_resp_err_t err =
        up ? rd_kafka_mock_broker_set_up(mc, id) : rd_kafka_mock_broker_set_down(mc, id);
    if (err)
      std::fprintf(stderr, "flashsale-kafka: broker %d set %s: %s\n", id,
                   up ? "up" : "down", rd_kafka_err2str(err));
  }
  std::fprintf(stderr, "flashsale-kafka: all %d brokers %s\n", brokers,
               up ? "up" : "down");
}

} // namespace

int main(int argc, char **argv) {
  int partitions = 8;
  int brokers = 3;
  int slow_rtt_ms = 6000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    }
    int *target = arg == "--partitions"    ? &partitions
                  : arg == "--brokers"     ? &brokers
                  : arg == "--slow-rtt-ms" ? &slow_rtt_ms
                                           : nullptr;
    if (!target) {
      std::fprintf(stderr, "flashsale-kafka: unknown argument '%s'\n", arg.c_str());
      usage(stderr);
      return 2;
    }
    if (i + 1 >= argc || !parse_positive(argv[i + 1], *target, target == &slow_rtt_ms ? 600000 : 1024)) {
      std::fprintf(stderr, "flashsale-kafka: %s needs a positive integer\n", arg.c_str());
      return 2;
    }
    ++i;
  }
  install_handlers();

  // The mock cluster needs an rd_kafka_t for bookkeeping; a producer handle that
  // never produces is the cheapest one.
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  // Level 4 keeps warnings and errors but drops the notice about the (unneeded)
  // bootstrap.servers of this bookkeeping handle.
  if (rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "client.id", "flashsale-kafka", errstr, sizeof errstr) !=
          RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "flashsale-kafka: %s\n", errstr);
    rd_kafka_conf_destroy(conf);
    return 1;
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    std::fprintf(stderr, "flashsale-kafka: cannot create handle: %s\n", errstr);
    rd_kafka_conf_destroy(conf); // only consumed on success
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    std::fprintf(stderr, "flashsale-kafka: cannot create mock cluster\n");
    rd_kafka_destroy(rk);
    return 1;
  }

  // Replication factor = broker count (capped at 3) mirrors production; the mock
  // keeps one copy anyway, but metadata then shows replicas like a real cluster.
  const int replication = brokers < 3 ? brokers : 3;
  for (const char *topic : kTopics) {
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, topic, partitions, replication);
    if (err) {
      std::fprintf(stderr, "flashsale-kafka: cannot create topic %s: %s\n", topic,
                   rd_kafka_err2str(err));
      rd_kafka_mock_cluster_destroy(mc);
      rd_kafka_destroy(rk);
      return 1;
    }
  }

  // The one line scripts parse; flushed at once because stdout is usually a pipe.
  std::printf("KAFKA_BROKERS=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  std::fflush(stdout);
  std::fprintf(stderr,
               "flashsale-kafka: %d brokers, %d partitions per topic, pid %d; "
               "SIGUSR1=down SIGUSR2=up\n",
               brokers, partitions, static_cast<int>(getpid()));

  bool slow = false;
  while (!g_stop) {
    if (g_slow_toggled) {
      g_slow_toggled = 0;
      slow = !slow;
      for (int id = 1; id <= brokers; ++id)
        rd_kafka_mock_broker_set_rtt(mc, id, slow ? slow_rtt_ms : 0);
      std::fprintf(stderr, "flashsale-kafka: all %d brokers %s\n", brokers,
                   slow ? "slow" : "fast");
    }
    if (g_down_requested) {
      g_down_requested = 0;
      set_all_brokers(mc, brokers, false);
    }
    if (g_up_requested) {
      g_up_requested = 0;
      set_all_brokers(mc, brokers, true);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  std::fprintf(stderr, "flashsale-kafka: shutting down\n");
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
