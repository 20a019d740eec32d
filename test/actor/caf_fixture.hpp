#pragma once
// A Boost.Test fixture around CAF 0.17's test_coordinator: an actor system whose
// scheduler runs nothing by itself. The test runs the queued messages one by one
// (run, run_once) and moves the system's clock (advance), so timers and timeouts fire
// exactly when the test says, with no sleeps and no threads of CAF's own.

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace flashsale::test {

struct testing_config : caf::actor_system_config {
  testing_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.file-verbosity", caf::atom("quiet"));
    set("logger.console-verbosity", caf::atom("quiet"));
  }
};

class caf_fixture {
public:
  caf_fixture()
    : sys(cfg), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {}

  /// Ends the actors the test started (CAF's shutdown waits for every actor) and
  /// runs what their ends set off.
  ~caf_fixture() {
    for (auto& a : started_)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Runs queued messages until none is left (timers stay pending).
  std::size_t run() { return sched.run(); }

  /// Moves the clock by `d`, delivering the timers due by then, and runs what follows;
  /// a timer armed meanwhile for a time already passed is delivered too.
  void advance(caf::timespan d) {
    sched.advance_time(d);
    run();
    while (sched.advance_time(caf::timespan{0}) > 0)
      run();
  }

  /// Keeps `a` to be ended with the fixture.
  template <class Handle>
  Handle keep(Handle a) {
    started_.push_back(caf::actor_cast<caf::actor>(a));
    return a;
  }

  /// Sends a request from a client actor of its own; the reply lands in the returned
  /// slot once the test runs the messages (empty until then, or on an error). The
  /// timeout is far beyond any clock move of a test, so it never fires.
  template <class Reply, class Dest, class... Ts>
  std::shared_ptr<std::optional<Reply>> ask(Dest dest, Ts... xs) {
    auto slot = std::make_shared<std::optional<Reply>>();
    keep(sys.spawn([=](caf::event_based_actor* client) {
      client->request(dest, std::chrono::seconds{24 * 3600}, xs...)
        .then([=](Reply& r) { *slot = std::move(r); }, [](caf::error&) {});
    }));
    return slot;
  }

  testing_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;

private:
  std::vector<caf::actor> started_;
};

} // namespace flashsale::test
