#pragma once
// What bounds the connections of one process (issue 12 item 4): a cap on open
// connections, a read timeout per phase of a request (a slowloris client trickling its
// header or body is cut), a write timeout for its answer (a client that stops reading is
// cut) and an idle timeout, all enforced by one watchdog thread.
// Pistache 0.0.5 has header and body timeouts of its own, but it answers them in plain
// text and applies only the keep-alive timeout to a request trickled on a persistent
// connection; its timeouts stay as a backstop behind ours.

#include "http/connection_settings.hpp"
#include "metrics/metrics.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace flashsale::http {

/// Where a connection is: between requests, reading a request's head or body, waiting for
/// its answer, writing it, or cut by us (everything it still sends is dropped).
enum class conn_phase : int { idle, head, body, busy, write, cut };

/// One open connection. Shared by the request parser (Pistache's thread) and the answers
/// in flight; the watchdog holds it weakly. It owns a duplicate of the socket, so that the
/// watchdog never acts on a descriptor number Pistache has closed and reused.
class conn_state {
public:
  /// A connection refused at accept: cut from the start, with no descriptor, not counted.
  conn_state();
  /// An accepted connection: `fd` is our duplicate of its socket, closed with the state;
  /// `open` counts the open connections and counts this one already.
  conn_state(int fd, std::shared_ptr<std::atomic<long>> open);
  ~conn_state();
  conn_state(const conn_state&) = delete;
  conn_state& operator=(const conn_state&) = delete;

  /// The phase and when it began, read together: they live in one word and change in
  /// one step, so that a phase is never judged by the previous phase's start.
  struct snapshot {
    conn_phase phase;
    std::chrono::steady_clock::time_point since;
    std::uint64_t word;
  };
  snapshot look() const;
  conn_phase phase() const { return look().phase; }
  bool cut() const { return phase() == conn_phase::cut; }

  /// The first bytes of a request arrived (between requests, or pipelined behind one).
  void request_started();
  /// The head is read; the body, if any, comes next.
  void head_done();
  /// The whole request is read; its answer is pending.
  void request_done();
  /// The answer is handed to Pistache to write.
  void writing();
  /// The answer is written: idle again, unless a next request has started meanwhile.
  void answered();
  /// After an answer that ends the connection: our side is done, the client reads the
  /// answer and then the end of the stream (and closes, so Pistache forgets the peer).
  void finish() const;
  /// An answer could not be written: ends the connection at once, with a reset (the
  /// client has gone or stopped reading, what is still unsent is dropped). False when
  /// it was cut already.
  bool abort();
  /// When the connection is exactly as `seen` (the same phase, begun at the same time;
  /// a request that began after the look is not cut for an older one): writes `response`
  /// (raw HTTP; empty: none) as far as the socket takes it at once and shuts the socket
  /// down both ways, so that Pistache sees the end of the stream and forgets the peer.
  /// Cut while writing an answer, the connection is reset. False when it had moved on.
  bool cut_if(std::string_view response, const snapshot& seen);

  /// Pistache saw the connection end (the client closed or reset it, or a cut above
  /// ended it): no answer can reach the client any more.
  void gone() { gone_->store(true); }
  /// Set once gone(): carried by work that must not be done for nobody (a create's
  /// commit, CONTRACT §3 "Overload"). Outlives the connection.
  std::shared_ptr<const std::atomic<bool>> gone_flag() const { return gone_; }

private:
  bool move(conn_phase from, conn_phase to);
  bool cut_from(std::string_view response, const snapshot& seen, bool reset);

  std::atomic<std::uint64_t> state_; // (steady ticks << 3) | phase
  int fd_;
  std::shared_ptr<std::atomic<long>> open_;
  std::shared_ptr<std::atomic<bool>> gone_ = std::make_shared<std::atomic<bool>>(false);
};

/// The count of answers not written, by reason: "error", "timeout" or "forgotten".
counter& write_failures(metrics_registry& metrics, const char* reason);

/// Counts the open connections, refuses those over the cap and cuts the ones over a
/// timeout, from its own thread (never Pistache's, never CAF's).
class connection_watch {
public:
  connection_watch(connection_settings settings, metrics_registry& metrics);
  ~connection_watch();
  connection_watch(const connection_watch&) = delete;
  connection_watch& operator=(const connection_watch&) = delete;

  /// A connection Pistache has just accepted (`fd` is Pistache's, valid for this call).
  /// Over the cap, or when no descriptor is left for our duplicate (EMFILE), it is
  /// answered 503 UNAVAILABLE with Retry-After and shut down at once, and comes back cut.
  std::shared_ptr<conn_state> open(int fd);
  long open_count() const { return open_->load(); }
  const connection_settings& settings() const { return settings_; }

  /// The raw answers the watchdog writes itself (JSON error bodies, CONTRACT §3).
  static std::string timeout_response();
  static std::string refusal_response();

private:
  std::shared_ptr<conn_state> refuse(int fd, const char* reason);
  void run();
  void sweep();

  connection_settings settings_;
  metrics_registry& metrics_;
  std::shared_ptr<std::atomic<long>> open_ = std::make_shared<std::atomic<long>>(0);
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<std::weak_ptr<conn_state>> conns_;
  std::thread thread_;
};

} // namespace flashsale::http
