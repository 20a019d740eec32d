#include "actors/cluster/cluster_tls.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace flashsale {

namespace {

/// The cipher list CAF's session uses with authentication on.
constexpr const char* cluster_ciphers = "HIGH:!aNULL:!MD5";

std::string openssl_errors() {
  std::string msg;
  while (auto err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    msg += (msg.empty() ? "" : "; ") + std::string{buf};
  }
  return msg.empty() ? "no detail" : msg;
}

struct ctx_deleter {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct ssl_deleter {
  void operator()(SSL* p) const { SSL_free(p); }
};
using ctx_ptr = std::unique_ptr<SSL_CTX, ctx_deleter>;
using ssl_ptr = std::unique_ptr<SSL, ssl_deleter>;

/// A context like CAF's: our certificate and key, only our CA trusted, peers verified.
/// On failure, `error` names the variable.
ctx_ptr make_context(const cluster_tls& tls, std::string& error) {
  ERR_clear_error();
  ctx_ptr ctx{SSL_CTX_new(TLS_method())};
  if (!ctx) {
    error = "cannot create an OpenSSL context: " + openssl_errors();
    return nullptr;
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert.c_str()) != 1) {
    error = "CLUSTER_TLS_CERT: cannot load the certificate '" + tls.cert + "': " + openssl_errors();
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "CLUSTER_TLS_KEY: cannot load the private key '" + tls.key
            + "' (it must be PEM and unencrypted): " + openssl_errors();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    error = "CLUSTER_TLS_KEY: the key '" + tls.key + "' does not match CLUSTER_TLS_CERT '"
            + tls.cert + "': " + openssl_errors();
    return nullptr;
  }
  if (SSL_CTX_load_verify_locations(ctx.get(), tls.ca.c_str(), nullptr) != 1) {
    error = "CLUSTER_TLS_CA: cannot load the CA certificate '" + tls.ca + "': " + openssl_errors();
    return nullptr;
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  if (SSL_CTX_set_cipher_list(ctx.get(), cluster_ciphers) != 1) {
    error = "cannot set the cipher list: " + openssl_errors();
    return nullptr;
  }
  return ctx;
}

/// A TCP connection to host:port within `timeout`, -1 with `error` set otherwise.
int connect_tcp(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout,
                std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard{res, freeaddrinfo};
  int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  if (fd < 0) {
    error = std::string{"socket: "} + std::strerror(errno);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = poll(&p, 1, static_cast<int>(timeout.count())) == 1 ? 0 : -1;
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (rc == 0 && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0))
      rc = -1, errno = so_error;
    else if (rc != 0)
      errno = ETIMEDOUT;
  }
  if (rc != 0) {
    error = "cannot connect: " + std::string{std::strerror(errno)};
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

} // namespace

void configure_cluster_transport(caf::actor_system_config& cfg, const cluster_tls& tls) {
  if (!tls.enabled())
    return;
  cfg.load<caf::openssl::manager>();
  cfg.openssl_cafile = tls.ca;
  cfg.openssl_certificate = tls.cert;
  cfg.openssl_key = tls.key;
}

std::optional<std::string> check_cluster_tls(const cluster_tls& tls) {
  if (!tls.enabled())
    return std::nullopt;
  std::string error;
  if (!make_context(tls, error))
    return error;
  return std::nullopt;
}

caf::expected<std::uint16_t> publish_cluster_endpoint(caf::actor_system& sys,
                                                      const caf::actor& whom,
                                                      const std::string& host,
                                                      std::uint16_t port, bool tls) {
  if (tls)
    return caf::openssl::publish(whom, port, host.c_str());
  return sys.middleman().publish(whom, port, host.c_str());
}

caf::expected<caf::actor> connect_cluster_peer(caf::actor_system& sys, const std::string& host,
                                               std::uint16_t port, bool tls) {
  if (tls)
    return caf::openssl::remote_actor(sys, host, port);
  return sys.middleman().remote_actor(host, port);
}

std::string diagnose_cluster_tls(const cluster_tls& tls, const std::string& host,
                                 std::uint16_t port, std::chrono::milliseconds timeout) {
  std::string error;
  auto ctx = make_context(tls, error);
  if (!ctx)
    return error;
  int fd = connect_tcp(host, port, timeout, error);
  if (fd < 0)
    return error;
  ssl_ptr ssl{SSL_new(ctx.get())};
  SSL_set_fd(ssl.get(), fd);
  ERR_clear_error();
  int rc = SSL_connect(ssl.get());
  std::string why;
  if (rc == 1) {
    // The handshake passes here; the peer may still reject our certificate in its
    // last step (TLS 1.3 reports that only on the first read).
    char byte = 0;
    if (SSL_read(ssl.get(), &byte, 1) <= 0 && ERR_peek_error() != 0)
      why = "the peer rejected this node's certificate (not signed by its CLUSTER_TLS_CA?): "
            + openssl_errors();
    else
      why = "the TLS handshake succeeds; the peer did not complete CAF's handshake";
  } else if (auto v = SSL_get_verify_result(ssl.get()); v != X509_V_OK) {
    why = "the peer's certificate is not signed by CLUSTER_TLS_CA: "
          + std::string{X509_verify_cert_error_string(v)};
  } else {
    auto detail = openssl_errors();
    if (detail.find("alert") != std::string::npos)
      why = "the peer rejected this node's certificate (not signed by its CLUSTER_TLS_CA?): "
            + detail;
    else
      why = "no TLS handshake with the peer (does it run without CLUSTER_TLS_*?): " + detail;
  }
  SSL_shutdown(ssl.get());
  close(fd);
  return why;
}

} // namespace flashsale
