// HttpConnection: one keep-alive connection, asynchronous operations run to
// completion in the calling thread under one deadline per request.
#include "client/http_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <optional>

namespace galsync {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Error Unavailable(std::string reason, std::string message) {
  return {ErrorKind::kUnavailable, std::move(reason), std::move(message)};
}

}  // namespace

constexpr size_t kReadBufferBytes = 256 * 1024;

struct HttpConnection::Impl {
  std::string host;         // to resolve
  std::string port;
  std::string host_header;  // host[:port] as written in the URL
  std::string base_path;    // without a trailing "/"
  std::string api_key;

  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::atomic<bool> cancelled{false};

  void Close() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
    }
    stream.reset();
    buffer.clear();
  }

  // One attempt. `reused` tells whether it ran on an already open
  // connection (which the server may have closed while idle).
  Result<HttpResponse> Once(std::string_view target,
                            std::chrono::milliseconds timeout, bool& reused);
};

HttpConnection::HttpConnection(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

HttpConnection::~HttpConnection() {
  if (impl_) impl_->Close();
}

Result<std::unique_ptr<HttpConnection>> HttpConnection::Create(
    std::string_view base_url, std::string api_key) {
  auto bad = [&](std::string why) {
    return Error::InvalidArgument(
        "invalid_server_url",
        "server URL \"" + std::string(base_url) + "\" " + why +
            " (expected http://host[:port][/path])");
  };
  auto url = boost::urls::parse_uri(base_url);
  if (!url) return bad("is not a URL");
  if (url->scheme() == "https") {
    return bad("uses https, which this client does not support yet");
  }
  if (url->scheme() != "http") return bad("does not start with http://");
  if (!url->has_authority() || url->host().empty()) return bad("has no host");
  if (url->has_query() || url->has_fragment()) {
    return bad("has a query or fragment");
  }
  if (url->has_userinfo()) return bad("has user information");
  auto impl = std::make_unique<Impl>();
  if (url->host_type() == boost::urls::host_type::ipv6) {
    impl->host = url->host_ipv6_address().to_string();
  } else {
    impl->host = url->host();
  }
  impl->port = url->has_port() ? std::string(url->port()) : "80";
  impl->host_header = url->encoded_host_and_port();
  impl->base_path = url->encoded_path();
  while (!impl->base_path.empty() && impl->base_path.back() == '/') {
    impl->base_path.pop_back();
  }
  impl->api_key = std::move(api_key);
  return std::unique_ptr<HttpConnection>(new HttpConnection(std::move(impl)));
}

void HttpConnection::Cancel() {
  impl_->cancelled = true;
  // Runs in the thread that runs the io_context, so it never races with the
  // operations it aborts.
  asio::post(impl_->ioc, [impl = impl_.get()] {
    if (impl->stream) impl->stream->cancel();
  });
}

void HttpConnection::Reset() {
  impl_->ioc.restart();
  impl_->ioc.poll();  // drains a Cancel posted while no request ran
  impl_->cancelled = false;
}

Result<HttpResponse> HttpConnection::Get(std::string_view target,
                                         std::chrono::milliseconds timeout) {
  bool reused = false;
  auto r = impl_->Once(target, timeout, reused);
  // A keep-alive connection the server closed while idle fails before any
  // byte of the answer: that one deserves a second try on a new connection.
  if (!r.ok() && reused && r.error().reason == "connection_lost") {
    r = impl_->Once(target, timeout, reused);
  }
  if (!r.ok() && r.error().reason == "connection_lost") {
    Error e = std::move(r).error();
    e.reason = "unreachable";
    return e;
  }
  return r;
}

Result<HttpResponse> HttpConnection::Impl::Once(
    std::string_view target, std::chrono::milliseconds timeout, bool& reused) {
  ioc.restart();
  if (cancelled) return Unavailable("cancelled", "the sync was stopped");
  reused = stream.has_value();
  if (!stream) {
    stream.emplace(ioc);
    // Reads take up to 64 KiB at a time (Beast's cap) when the buffer has
    // room; with its default growth a 4 MiB page arrived in ~1,400 reads.
    buffer.reserve(kReadBufferBytes);
  }

  http::request<http::empty_body> req{http::verb::get,
                                      base_path + std::string(target), 11};
  req.set(http::field::host, host_header);
  req.set(http::field::user_agent, "galsync/0.1");
  req.set(http::field::accept, "application/json");
  if (!api_key.empty()) req.set(http::field::authorization, "Bearer " + api_key);

  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(kMaxBodyBytes);

  std::optional<Error> failure;
  uint64_t received = 0;
  const std::string where = host_header;

  auto fail = [&](beast::error_code ec, const char* during) {
    if (cancelled || ec == asio::error::operation_aborted) {
      if (!cancelled) {
        failure = Unavailable("timeout", "no answer from " + where + " within " +
                                             std::to_string(timeout.count()) +
                                             " ms");
      } else {
        failure = Unavailable("cancelled", "the sync was stopped");
      }
    } else if (ec == beast::error::timeout) {
      failure = Unavailable("timeout", "no answer from " + where + " within " +
                                           std::to_string(timeout.count()) +
                                           " ms");
    } else if (ec.category() ==
                   http::make_error_code(http::error::bad_target).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      failure = Error::InvalidArgument(
          "bad_response",
          "the server at " + where + " sent something that is not a valid "
          "HTTP response (" + ec.message() + ")");
    } else if (!parser.got_some() && reused &&
               std::string_view(during) != "connect") {
      failure = Unavailable("connection_lost",
                            "connection to " + where + " lost: " + ec.message());
    } else {
      failure = Unavailable("unreachable", std::string("cannot ") + during +
                                               " " + where + ": " +
                                               ec.message());
    }
  };

  auto read_response = [&] {
    http::async_read(*stream, buffer, parser,
                     [&](beast::error_code ec, size_t n) {
                       received += n;
                       if (ec) fail(ec, "read from");
                     });
  };
  auto write_request = [&] {
    http::async_write(*stream, req, [&](beast::error_code ec, size_t) {
      if (ec) return fail(ec, "send to");
      if (cancelled) return fail(asio::error::operation_aborted, "send to");
      read_response();
    });
  };

  stream->expires_after(timeout);
  tcp::resolver resolver(ioc);
  if (reused) {
    write_request();
  } else {
    resolver.async_resolve(
        host, port, [&](beast::error_code ec, tcp::resolver::results_type eps) {
          if (ec) return fail(ec, "resolve");
          if (cancelled) return fail(asio::error::operation_aborted, "connect");
          stream->async_connect(
              eps, [&](beast::error_code ec2, const tcp::endpoint&) {
                if (ec2) return fail(ec2, "connect");
                write_request();
              });
        });
  }
  ioc.run();
  if (failure) {
    Close();
    return *failure;
  }
  HttpResponse out;
  out.wire_bytes = received;
  auto res = parser.release();
  out.status = res.result_int();
  if (auto it = res.find(http::field::retry_after); it != res.end()) {
    out.retry_after = std::string(it->value());
  }
  if (auto it = res.find(http::field::content_type); it != res.end()) {
    out.content_type = std::string(it->value());
  }
  if (!res.keep_alive()) Close();
  out.body = std::move(res.body());
  return out;
}

}  // namespace galsync
