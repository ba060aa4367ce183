// The HTTP/1.1 front door: a listener that accepts connections and a session
// per connection that reads requests, hands them to the Router and writes
// responses. Sessions own the socket, buffers, timeouts and size limits;
// nothing above them sees a socket.
//
//   listener ──accept──► session (coroutine on its own strand)
//                          [TLS handshake, when the server has a context]
//                          loop: read (header/body limits, timeout)
//                                └─► Router::Dispatch ─► write ─► keep-alive?
//
// Thread-safety: Run() drives a fixed pool of threads over one io_context;
// Stop() may be called from any thread (or a signal handler via asio).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "galsync/status.h"
#include "server/router.h"

namespace galsync::server {

// Every limit of the HTTP layer, with its default. Each is enforced in
// http_server.cc where input arrives, and tested in tests/http_api_test.cc.
struct HttpLimits {
  size_t max_header_bytes = 16 * 1024;        // 431 beyond
  size_t max_body_bytes = 32 * 1024 * 1024;   // 413 beyond
  // Bodies of streaming routes (imports), read piece by piece, never held.
  size_t max_stream_body_bytes = size_t{16} << 30;  // 16 GiB; 413 beyond
  // Waiting for a request's headers (keep-alive idle time included).
  std::chrono::seconds idle_timeout{75};
  // Reading a request's body once its headers are in.
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds write_timeout{60};     // sending one response
  size_t max_connections = 10000;             // further accepts are refused
  // From one client address: one host cannot take every connection. Clients
  // behind one NAT share an address, and each long-poll holds a connection.
  size_t max_connections_per_client = 1000;
  std::chrono::seconds shutdown_grace{10};    // for in-flight requests
};

// Loads a PEM certificate chain and private key into a server-side TLS
// context (TLS 1.2 and 1.3 only). kInvalidArgument "bad_tls_files" with
// OpenSSL's reason if they cannot be read or do not match.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& cert_file, const std::string& key_file);

class HttpServer {
 public:
  // With `tls` (which must outlive the server) every connection is TLS;
  // without, plain HTTP.
  HttpServer(boost::asio::io_context& ioc, const Router& router,
             HttpLimits limits, boost::asio::ssl::context* tls = nullptr);

  // Binds and listens. "host:port"; port 0 picks a free one.
  Status Listen(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }

  // Stops accepting, lets in-flight requests finish (up to shutdown_grace),
  // then stops the io_context. `on_stop` runs first, e.g. to wake long-polls.
  void Stop(std::function<void()> on_stop = {});
  bool stopping() const { return stopping_.load(); }

  size_t connections() const { return connections_.load(); }

 private:
  boost::asio::awaitable<void> AcceptLoop();
  boost::asio::awaitable<void> Session(boost::asio::ip::tcp::socket socket,
                                       std::string peer);
  // The request loop of one connection, plain or TLS.
  template <typename Stream>
  boost::asio::awaitable<void> Serve(Stream& stream, const std::string& peer);
  template <typename Stream>
  boost::asio::awaitable<bool> WriteStreamed(Stream& stream,
                                             const HttpRequest& req,
                                             Response& r, bool keep_alive);

  boost::asio::io_context& ioc_;
  const Router& router_;
  const HttpLimits limits_;
  boost::asio::ssl::context* const tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> connections_{0};
  std::atomic<size_t> in_flight_{0};
  std::mutex peers_mu_;
  std::unordered_map<std::string, size_t> peers_;  // GUARDED_BY(peers_mu_)
};

}  // namespace galsync::server
