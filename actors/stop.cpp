#include "actors/stop.hpp"

#include <caf/actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>

namespace flashsale {

void stop_and_wait(caf::actor_system& sys, const caf::actor& a) {
  if (!a)
    return;
  caf::scoped_actor self{sys};
  self->send_exit(a, caf::exit_reason::user_shutdown);
  self->wait_for(a);
}

} // namespace flashsale
