#pragma once
// `flashsale-order dlq list|replay [--dry-run] [--reason R] [--limit N]` (CONTRACT §1):
// the arguments and the report; the work is kafka/dlq_redrive.

#include "app/config.hpp"

namespace flashsale {

/// Runs the dlq subcommand of argv (argv[1] == "dlq"); returns the exit code: 0 done,
/// 1 a message could not be replayed or the run stopped early, 2 usage or configuration.
int dlq_command(const env_lookup& env, int argc, char** argv);

} // namespace flashsale
