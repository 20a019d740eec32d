#pragma once
// The messages actors exchange: atoms and the reply types. Local-only types are
// whitelisted for CAF here, in one place.

#include "messages/commands.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <memory>
#include <string>
#include <vector>

namespace flashsale {

using create_atom = caf::atom_constant<caf::atom("fs_create")>;
using write_atom = caf::atom_constant<caf::atom("fs_write")>;
using load_atom = caf::atom_constant<caf::atom("fs_load")>;
using list_atom = caf::atom_constant<caf::atom("fs_list")>;
using fetch_atom = caf::atom_constant<caf::atom("fs_fetch")>;
using cancel_atom = caf::atom_constant<caf::atom("fs_cancel")>;
using flush_atom = caf::atom_constant<caf::atom("fs_flush")>;
using passivate_atom = caf::atom_constant<caf::atom("fs_passiv")>;
using stop_atom = caf::atom_constant<caf::atom("fs_stop")>;
using probe_atom = caf::atom_constant<caf::atom("fs_probe")>;

/// The answer to a command about one order.
struct order_reply {
  bool ok = false;
  order value;
  api_error error;
};

/// The answer to a load from the database: found, missing, or failed.
struct load_reply {
  bool found = false;
  order value;
  bool failed = false;
  api_error error;
};

struct list_reply {
  bool ok = false;
  std::vector<order> orders;
  api_error error;
};

inline order_reply reply_ok(order o) {
  return {true, std::move(o), {}};
}

inline order_reply reply_error(error_code code, std::string message) {
  return {false, {}, {code, std::move(message)}};
}

} // namespace flashsale

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::create_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::create_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::write_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::write_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::list_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::order_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::load_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::list_reply)
