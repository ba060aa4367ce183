// Listener and sessions of the HTTP front end; see http_server.h.
#include "server/http_server.h"

#include <openssl/err.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <iostream>

namespace galsync::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);

std::string_view ReasonFor(const beast::error_code& ec, int* status) {
  if (ec == http::error::header_limit) {
    *status = 431;
    return "headers_too_large";
  }
  if (ec == http::error::body_limit) {
    *status = 413;
    return "body_too_large";
  }
  *status = 400;
  return "bad_http_request";
}

// An error answer after which the connection closes (what follows on it
// cannot be trusted to be a request).
http::response<http::string_body> LastResponse(int status, Response r) {
  http::response<http::string_body> res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::connection, "close");
  res.body() = std::move(r.body);
  res.prepare_payload();
  return res;
}

// Counts something for as long as it lives.
struct Counter {
  std::atomic<size_t>& n;
  explicit Counter(std::atomic<size_t>& c) : n(c) { ++n; }
  ~Counter() { --n; }
};

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

// Ends a connection: TLS says close_notify first (bounded by a short
// deadline: a peer that does not answer must not hold the session), then the
// sending side of TCP closes.
asio::awaitable<void> Close(beast::tcp_stream& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  co_return;
}
asio::awaitable<void> Close(beast::ssl_stream<beast::tcp_stream>& stream) {
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  co_await stream.async_shutdown(kUseAwaitable);
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send,
                                                   ignored);
}

}  // namespace

Result<std::unique_ptr<asio::ssl::context>> MakeServerTlsContext(
    const std::string& cert_file, const std::string& key_file) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds |
                   asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                   asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                   asio::ssl::context::single_dh_use);
  // The key first: loaded after the certificate, a key that does not match
  // fails with no reason; this way the check below names the mismatch.
  ERR_clear_error();
  beast::error_code ec;
  ctx->use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) {
    return Error::InvalidArgument(
        "bad_tls_files",
        "cannot load the private key " + key_file + ": " + OpenSslErrors());
  }
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    return Error::InvalidArgument(
        "bad_tls_files",
        "cannot load the certificate chain " + cert_file + ": " + OpenSslErrors());
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return Error::InvalidArgument(
        "bad_tls_files", "the private key " + key_file +
                             " does not match the certificate " + cert_file);
  }
  return ctx;
}

HttpServer::HttpServer(asio::io_context& ioc, const Router& router,
                       HttpLimits limits, asio::ssl::context* tls)
    : ioc_(ioc), router_(router), limits_(limits), tls_(tls), acceptor_(ioc) {}

Status HttpServer::Listen(const std::string& host, uint16_t port) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    return Error::InvalidArgument("bad_listen_address",
                                  "cannot parse listen address \"" + host +
                                      "\": " + ec.message());
  }
  tcp::endpoint ep(addr, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error{ErrorKind::kUnavailable, "listen_failed",
                 "cannot listen on " + host + ":" + std::to_string(port) +
                     ": " + ec.message()};
  }
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(ioc_, AcceptLoop(), asio::detached);
  return Ok{};
}

asio::awaitable<void> HttpServer::AcceptLoop() {
  while (!stopping_) {
    // Each session gets its own strand: its coroutine, timers and any
    // cross-thread wake-ups are serialized on it.
    auto [ec, socket] =
        co_await acceptor_.async_accept(asio::make_strand(ioc_), kUseAwaitable);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) break;
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer t(ioc_, std::chrono::milliseconds(50));
      co_await t.async_wait(kUseAwaitable);
      continue;
    }
    if (connections_.load() >= limits_.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);  // over the connection limit: refuse
      continue;
    }
    std::string peer;
    {
      beast::error_code ec2;
      auto ep = socket.remote_endpoint(ec2);
      if (!ec2) peer = ep.address().to_string();
    }
    {
      std::lock_guard lock(peers_mu_);
      size_t& n = peers_[peer];
      if (n >= limits_.max_connections_per_client) {
        beast::error_code ignored;
        socket.close(ignored);  // over this client's limit: refuse
        continue;
      }
      ++n;
    }
    auto ex = socket.get_executor();
    asio::co_spawn(ex, Session(std::move(socket), std::move(peer)),
                   asio::detached);
  }
}

asio::awaitable<void> HttpServer::Session(tcp::socket socket,
                                          std::string peer) {
  Counter conn(connections_);
  // Gives the client's connection slot back, however the session ends.
  struct PeerSlot {
    HttpServer* s;
    const std::string& peer;
    ~PeerSlot() {
      std::lock_guard lock(s->peers_mu_);
      auto it = s->peers_.find(peer);
      if (it != s->peers_.end() && --it->second == 0) s->peers_.erase(it);
    }
  } slot{this, peer};
  if (tls_ == nullptr) {
    beast::tcp_stream stream(std::move(socket));
    co_await Serve(stream, peer);
    co_return;
  }
  // A client that speaks plain HTTP to the TLS port is told so, in plain
  // HTTP, rather than left with a closed connection. The detection and the
  // handshake are bounded like a request's headers.
  beast::tcp_stream tcp_stream(std::move(socket));
  beast::flat_buffer buffer;
  tcp_stream.expires_after(limits_.idle_timeout);
  auto [dec, is_tls] =
      co_await beast::async_detect_ssl(tcp_stream, buffer, kUseAwaitable);
  if (dec) co_return;
  if (!is_tls) {
    auto res = LastResponse(400, ErrorResponse(Error::InvalidArgument(
        "tls_required", "this server speaks HTTPS only; use an https:// URL")));
    tcp_stream.expires_after(limits_.write_timeout);
    co_await http::async_write(tcp_stream, res, kUseAwaitable);
    co_await Close(tcp_stream);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *tls_);
  auto [ec, used] = co_await stream.async_handshake(
      asio::ssl::stream_base::server, buffer.data(), kUseAwaitable);
  if (ec) co_return;  // no common ground: nothing to answer
  co_await Serve(stream, peer);
}

// The body of a request to a streaming route, read straight from the
// connection into a fixed buffer, one piece per Read.
template <typename Stream>
class StreamedBody final : public BodyStream {
 public:
  StreamedBody(Stream& stream, beast::flat_buffer& buffer,
               http::request_parser<http::buffer_body>& parser,
               const HttpLimits& limits, bool expect_continue)
      : stream_(stream), buffer_(buffer), parser_(parser), limits_(limits),
        expect_continue_(expect_continue) {
    // Large socket reads (the buffer's own growth starts at a few KB).
    buffer_.reserve(kReadBytes);
  }

  // The whole body was read: the connection may carry the next request.
  bool complete() const { return parser_.is_done() && !failed_; }

  asio::awaitable<Result<std::string_view>> Read() override {
    if (failed_) {
      co_return Error::InvalidArgument("bad_http_request",
                                       "the request body could not be read");
    }
    auto& tcp_layer = beast::get_lowest_layer(stream_);
    if (expect_continue_) {
      // The key was admitted: now the client may send the body (RFC 9110
      // 10.1.1).
      expect_continue_ = false;
      http::response<http::empty_body> go{http::status::continue_, 11};
      tcp_layer.expires_after(limits_.write_timeout);
      auto [ec, n] = co_await http::async_write(stream_, go, kUseAwaitable);
      if (ec) co_return Fail(ec);
    }
    // Whole pieces: each costs the handler a hop to its thread pool, and
    // while the machine's cores are busy (an import's converters) each hop
    // waits to be scheduled; 1 MiB pieces make those waits rare.
    if (!piece_) piece_ = std::make_unique_for_overwrite<char[]>(kPieceBytes);
    auto& body = parser_.get().body();
    body.data = piece_.get();
    body.size = kPieceBytes;
    while (!parser_.is_done() && body.size > 0) {
      tcp_layer.expires_after(limits_.read_timeout);
      auto [ec, n] =
          co_await http::async_read(stream_, buffer_, parser_, kUseAwaitable);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return Fail(ec);
    }
    co_return std::string_view(piece_.get(), kPieceBytes - body.size);
  }

 private:
  Error Fail(const beast::error_code& ec) {
    failed_ = true;
    if (ec == http::error::body_limit) {
      return {ErrorKind::kPayloadTooLarge, "body_too_large",
              "the request body is larger than " +
                  std::to_string(limits_.max_stream_body_bytes) + " bytes"};
    }
    if (ec == beast::error::timeout) {
      return Error::InvalidArgument(
          "body_timeout", "the client sent no part of the body for " +
                              std::to_string(limits_.read_timeout.count()) +
                              " s");
    }
    return Error::InvalidArgument("bad_http_request",
                                  "cannot read the request body: " +
                                      ec.message());
  }

  Stream& stream_;
  beast::flat_buffer& buffer_;
  http::request_parser<http::buffer_body>& parser_;
  const HttpLimits& limits_;
  bool expect_continue_;
  bool failed_ = false;
  static constexpr size_t kPieceBytes = 1 << 20;
  static constexpr size_t kReadBytes = 64 * 1024;
  std::unique_ptr<char[]> piece_;  // allocated at the first Read
};

template <typename Stream>
asio::awaitable<void> HttpServer::Serve(Stream& stream, const std::string& peer) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  for (;;) {
    // Idle wait for the next request's headers; then, unless its route
    // reads the body itself, a bound on reading all of the body.
    tcp_layer.expires_after(limits_.idle_timeout);
    http::request_parser<http::empty_body> head;
    head.header_limit(static_cast<uint32_t>(limits_.max_header_bytes));
    // Which body limit applies is known once the route is: checked below.
    head.body_limit(boost::none);
    auto [hec, hn] =
        co_await http::async_read_header(stream, buffer, head, kUseAwaitable);
    beast::error_code ec = hec;
    const bool streams =
        !ec && router_.StreamsBody(head.get().method(), head.get().target());
    if (!ec) {
      const size_t limit =
          streams ? limits_.max_stream_body_bytes : limits_.max_body_bytes;
      if (head.content_length() && *head.content_length() > limit) {
        ec = http::error::body_limit;
      }
    }
    std::optional<http::request_parser<http::string_body>> whole;
    std::optional<http::request_parser<http::buffer_body>> piecewise;
    if (ec) {
      // answered below
    } else if (streams) {
      piecewise.emplace(std::move(head));
      piecewise->body_limit(limits_.max_stream_body_bytes);
    } else {
      whole.emplace(std::move(head));
      whole->body_limit(limits_.max_body_bytes);
      tcp_layer.expires_after(limits_.read_timeout);
      auto [bec, bn] =
          co_await http::async_read(stream, buffer, *whole, kUseAwaitable);
      ec = bec;
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted ||
        ec == asio::ssl::error::stream_truncated) {
      break;
    }
    if (ec) {
      // Malformed or oversized: answer once, then close the connection
      // (the rest of the stream cannot be trusted to be framed).
      int status = 400;
      std::string_view reason = ReasonFor(ec, &status);
      auto res = LastResponse(
          status, ErrorResponse({status == 413 ? ErrorKind::kPayloadTooLarge
                                               : ErrorKind::kInvalidArgument,
                                 std::string(reason),
                                 "cannot read request: " + ec.message()}));
      tcp_layer.expires_after(limits_.write_timeout);
      co_await http::async_write(stream, res, kUseAwaitable);
      break;
    }

    // In flight from dispatch until the response is written, so shutdown
    // never cuts a response to a write that has committed.
    Counter busy(in_flight_);
    HttpRequest req;
    Response r;
    bool framed = true;  // the connection is at the start of a request
    if (whole) {
      req = whole->release();
      r = co_await router_.Dispatch(req, peer);
    } else {
      req.base() = piecewise->get().base();
      StreamedBody<Stream> body(stream, buffer, *piecewise, limits_,
                                beast::iequals(req[http::field::expect],
                                               "100-continue"));
      r = co_await router_.Dispatch(req, peer, &body);
      // A body the handler left unread (an error answered early) is not
      // drained: the connection closes after the response.
      framed = body.complete();
    }
    const bool keep_alive = req.keep_alive() && !stopping_ && framed;
    if (r.stream && req.method() != http::verb::head) {
      if (!co_await WriteStreamed(stream, req, r, keep_alive) || !keep_alive) {
        break;
      }
      continue;
    }
    http::response<http::string_body> res{static_cast<http::status>(r.status),
                                          req.version()};
    res.set(http::field::server, "galsyncd");
    res.set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    if (req.method() == http::verb::head) {
      res.content_length(r.body.size());  // what GET would send, no body
    } else {
      res.body() = std::move(r.body);
      res.prepare_payload();
    }
    tcp_layer.expires_after(limits_.write_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, kUseAwaitable);
    if (wec || !keep_alive) break;
  }
  co_await Close(stream);
}

// Sends a response whose body comes piece by piece: chunked for HTTP/1.1;
// for HTTP/1.0, which has no chunks, the body ends when the connection
// closes. False if the connection must close (a failed write, or a body cut
// short by its stream's error).
template <typename Stream>
asio::awaitable<bool> HttpServer::WriteStreamed(Stream& stream,
                                                const HttpRequest& req,
                                                Response& r, bool keep_alive) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  const bool chunked = req.version() >= 11;
  http::response<http::empty_body> res{static_cast<http::status>(r.status),
                                       req.version()};
  res.set(http::field::server, "galsyncd");
  res.set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive && chunked);
  res.chunked(chunked);
  http::response_serializer<http::empty_body> head{res};
  tcp_layer.expires_after(limits_.write_timeout);
  auto [hec, hn] = co_await http::async_write_header(stream, head, kUseAwaitable);
  if (hec) co_return false;
  for (;;) {
    auto piece = co_await r.stream->Next();
    if (!piece) co_return false;  // cut short: no last chunk
    if (piece->empty()) break;
    tcp_layer.expires_after(limits_.write_timeout);
    beast::error_code ec;
    if (chunked) {
      std::tie(ec, std::ignore) = co_await asio::async_write(
          stream, http::make_chunk(asio::buffer(*piece)), kUseAwaitable);
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(
          stream, asio::buffer(*piece), kUseAwaitable);
    }
    if (ec) co_return false;
  }
  if (!chunked) co_return false;
  tcp_layer.expires_after(limits_.write_timeout);
  auto [lec, ln] =
      co_await asio::async_write(stream, http::make_chunk_last(), kUseAwaitable);
  co_return !lec;
}

void HttpServer::Stop(std::function<void()> on_stop) {
  if (stopping_.exchange(true)) return;
  asio::post(ioc_, [this, on_stop = std::move(on_stop)]() mutable {
    beast::error_code ignored;
    acceptor_.close(ignored);
    if (on_stop) on_stop();
    // Drain: poll until in-flight requests are done or the grace ends.
    auto deadline = std::chrono::steady_clock::now() + limits_.shutdown_grace;
    asio::co_spawn(
        ioc_,
        [this, deadline]() -> asio::awaitable<void> {
          asio::steady_timer t(ioc_);
          while (in_flight_.load() > 0 &&
                 std::chrono::steady_clock::now() < deadline) {
            t.expires_after(std::chrono::milliseconds(20));
            co_await t.async_wait(kUseAwaitable);
          }
          ioc_.stop();
        },
        asio::detached);
  });
}

}  // namespace galsync::server
