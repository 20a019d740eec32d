#pragma once
// The transport between nodes (CONTRACT §7): CAF's middleman in plaintext, or CAF's
// OpenSSL module with mutual TLS. With TLS, CAF's session (libcaf_openssl 0.17.6,
// session.cpp) builds one SSL context for accepted and for initiated connections that
// loads CLUSTER_TLS_CERT/KEY, trusts only CLUSTER_TLS_CA (SSL_CTX_load_verify_locations,
// no default paths) and sets SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT with the
// cipher list HIGH:!aNULL:!MD5: a peer without a certificate of that CA fails the
// handshake in both directions. There is no host-name check: every holder of a
// certificate of that CA is a node, so the CA must serve the cluster alone.

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace flashsale {

struct cluster_tls {
  std::string ca;   // CLUSTER_TLS_CA
  std::string cert; // CLUSTER_TLS_CERT
  std::string key;  // CLUSTER_TLS_KEY
  bool enabled() const { return !ca.empty(); }
};

/// Loads CAF's OpenSSL module with the three files when TLS is on; call before the
/// actor system is made.
void configure_cluster_transport(caf::actor_system_config& cfg, const cluster_tls& tls);

/// Parses the three files the way a connection will (certificate chain, private key,
/// the key matching the certificate, the CA); one line naming the variable when one
/// fails. CAF itself reports such a failure only by throwing in its I/O thread.
std::optional<std::string> check_cluster_tls(const cluster_tls& tls);

/// Publishes `whom` on host:port (port 0: any), over TLS when `tls` is on.
caf::expected<std::uint16_t> publish_cluster_endpoint(caf::actor_system& sys,
                                                      const caf::actor& whom,
                                                      const std::string& host,
                                                      std::uint16_t port, bool tls);

/// Connects to a peer's published actor; blocks (call it from a detached actor).
caf::expected<caf::actor> connect_cluster_peer(caf::actor_system& sys, const std::string& host,
                                               std::uint16_t port, bool tls);

/// Why a TLS handshake with host:port fails, in words (CAF does not say): tries one
/// with the same files and reports the verification result or the alert the peer
/// sent. Blocks for at most `timeout`.
std::string diagnose_cluster_tls(const cluster_tls& tls, const std::string& host,
                                 std::uint16_t port, std::chrono::milliseconds timeout);

} // namespace flashsale
