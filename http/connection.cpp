#include "http/connection.hpp"

namespace flashsale::http {

bool keeps_connection(http_version version, connection_option option) {
  switch (option) {
    case connection_option::close:
      return false;
    case connection_option::keep_alive:
      return true;
    case connection_option::absent:
    case connection_option::other:
      break;
  }
  return version == http_version::http_1_1;
}

} // namespace flashsale::http
