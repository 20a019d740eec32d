#pragma once
// The outbox relays' settings from the configuration: shared by `serve` and the
// stand-alone flashsale-outbox-relay tool.

#include "actors/outbox_relay.hpp"
#include "app/config.hpp"

namespace flashsale {

relay_settings relay_settings_from(const config& cfg);

} // namespace flashsale
