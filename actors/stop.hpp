#pragma once
// Stopping an actor that must be gone before its caller goes on (the consumer commits
// its offsets, the relays finish or roll back their batches, both record into metrics
// owned by the caller).

#include <caf/fwd.hpp>

namespace flashsale {

/// Sends an exit message to `a` and blocks until it has terminated; does nothing for an
/// invalid handle. Call it from a thread of its own (main), never from an actor.
void stop_and_wait(caf::actor_system& sys, const caf::actor& a);

} // namespace flashsale
