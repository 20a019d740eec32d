#pragma once
// Wires the components of one node in one place: every dependency is visible here.

#include "app/config.hpp"

namespace flashsale {

/// Runs the roles of `cfg` until SIGINT or SIGTERM; returns the process exit code.
int serve(const config& cfg);

} // namespace flashsale
