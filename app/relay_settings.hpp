#pragma once
// The outbox relays' settings from the configuration: shared by `serve` and the
// stand-alone flashsale-outbox-relay tool.

#include "actors/outbox/outbox_relay.hpp"
#include "app/config.hpp"

namespace flashsale {

relay_settings relay_settings_from(const config& cfg);

/// The bounds every PostgreSQL connection of the service carries (DB_CONNECT_TIMEOUT_S,
/// DB_STATEMENT_TIMEOUT_MS, DB_TCP_USER_TIMEOUT_MS, DB_KEEPALIVE_IDLE_S).
persistence::pg_limits database_limits(const config& cfg);

} // namespace flashsale
