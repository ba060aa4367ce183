// HttpConnection: one keep-alive connection, asynchronous operations run to
// completion in the calling thread under one deadline per request.
#include "client/http_connection.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <functional>
#include <optional>
#include <vector>

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
  std::unique_ptr<asio::ssl::context> tls;  // set for https

  asio::io_context ioc;
  // The open connection, if any: `stream` for http, `tls_stream` for https.
  std::optional<beast::tcp_stream> stream;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream;
  beast::flat_buffer buffer;
  std::atomic<bool> cancelled{false};

  bool open() const { return stream || tls_stream; }
  beast::tcp_stream& tcp() {
    return tls_stream ? beast::get_lowest_layer(*tls_stream) : *stream;
  }
  // Calls `f` with the open stream, whichever it is.
  template <typename F>
  void WithStream(F&& f) {
    if (tls_stream) {
      f(*tls_stream);
    } else {
      f(*stream);
    }
  }

  void Close() {
    if (open()) {
      beast::error_code ignored;
      tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
      tcp().close();
    }
    stream.reset();
    tls_stream.reset();
    buffer.clear();
  }

  // One attempt. `reused` tells whether it ran on an already open
  // connection (which the server may have closed while idle).
  // With `upload`, a POST of its body; else a GET.
  Result<HttpResponse> Once(std::string_view target,
                            std::chrono::milliseconds timeout, bool& reused,
                            Upload* upload = nullptr);
};

HttpConnection::HttpConnection(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

HttpConnection::~HttpConnection() {
  if (impl_) impl_->Close();
}

Result<std::unique_ptr<HttpConnection>> HttpConnection::Create(
    std::string_view base_url, std::string api_key, const std::string& ca_file) {
  auto bad = [&](std::string why) {
    return Error::InvalidArgument(
        "invalid_server_url",
        "server URL \"" + std::string(base_url) + "\" " + why +
            " (expected http(s)://host[:port][/path])");
  };
  auto url = boost::urls::parse_uri(base_url);
  if (!url) return bad("is not a URL");
  const bool https = url->scheme() == "https";
  if (url->scheme() != "http" && !https) {
    return bad("does not start with http:// or https://");
  }
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
  impl->port = url->has_port() ? std::string(url->port()) : https ? "443" : "80";
  if (https) {
    impl->tls =
        std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    impl->tls->set_options(asio::ssl::context::default_workarounds |
                           asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 |
                           asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
    impl->tls->set_verify_mode(asio::ssl::verify_peer);
    beast::error_code ec;
    if (ca_file.empty()) {
      impl->tls->set_default_verify_paths(ec);
    } else {
      impl->tls->load_verify_file(ca_file, ec);
    }
    if (ec) {
      return Error::InvalidArgument(
          "invalid_ca_file",
          ca_file.empty()
              ? "cannot load the system's certificate authorities: " + ec.message()
              : "cannot load certificate authorities from " + ca_file + ": " +
                    ec.message());
    }
  }
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
    if (impl->open()) impl->tcp().cancel();
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

Result<HttpResponse> HttpConnection::Post(std::string_view target,
                                          Upload& upload,
                                          std::chrono::milliseconds timeout) {
  // Not retried, so never sent on a connection the server may have closed.
  impl_->Close();
  bool reused = false;
  return impl_->Once(target, timeout, reused, &upload);
}

Result<HttpResponse> HttpConnection::Impl::Once(
    std::string_view target, std::chrono::milliseconds timeout, bool& reused,
    Upload* upload) {
  ioc.restart();
  if (cancelled) return Unavailable("cancelled", "the sync was stopped");
  reused = open();
  if (!reused) {
    if (tls) {
      tls_stream.emplace(ioc, *tls);
    } else {
      stream.emplace(ioc);
    }
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
    WithStream([&](auto& s) {
      http::async_read(s, buffer, parser, [&](beast::error_code ec, size_t n) {
        received += n;
        if (ec) fail(ec, "read from");
      });
    });
  };
  // An upload: the header, then one piece at a time, each step under its
  // own deadline. If sending fails, the server may have answered early
  // (and closed): that answer is read and returned when it is there.
  http::request<http::buffer_body> post{http::verb::post,
                                        base_path + std::string(target), 11};
  std::optional<http::request_serializer<http::buffer_body>> serializer;
  std::vector<char> piece;
  uint64_t sent = 0;
  std::function<void()> send_piece;
  auto send_failed = [&](beast::error_code ec) {
    if (cancelled || ec == beast::error::timeout) return fail(ec, "send to");
    tcp().expires_after(timeout);
    WithStream([&, ec](auto& s) {
      http::async_read(s, buffer, parser, [&, ec](beast::error_code rec, size_t n) {
        received += n;
        if (rec) fail(ec, "send to");
      });
    });
  };
  if (upload) {
    for (const auto& field : req) post.set(field.name_string(), field.value());
    post.method(http::verb::post);
    post.set(http::field::content_type, upload->content_type);
    post.content_length(upload->size);
    serializer.emplace(post);
    piece.resize(64 * 1024);
    send_piece = [&] {
      auto n = upload->read(piece.data(), piece.size());
      if (!n) {
        failure = std::move(n).error();
        return;
      }
      post.body().data = *n ? piece.data() : nullptr;
      post.body().size = *n;
      post.body().more = *n != 0;
      tcp().expires_after(timeout);
      WithStream([&, n = *n](auto& s) {
        http::async_write(s, *serializer, [&, n](beast::error_code ec, size_t) {
          if (ec == http::error::need_buffer) ec = {};
          if (ec) return send_failed(ec);
          if (cancelled) return fail(asio::error::operation_aborted, "send to");
          sent += n;
          if (upload->progress && n) upload->progress(sent);
          if (!serializer->is_done()) return send_piece();
          tcp().expires_after(timeout);
          read_response();
        });
      });
    };
  }
  auto write_request = [&] {
    if (upload) {
      WithStream([&](auto& s) {
        http::async_write_header(s, *serializer, [&](beast::error_code ec, size_t) {
          if (ec) return send_failed(ec);
          send_piece();
        });
      });
      return;
    }
    WithStream([&](auto& s) {
      http::async_write(s, req, [&](beast::error_code ec, size_t) {
        if (ec) return fail(ec, "send to");
        if (cancelled) return fail(asio::error::operation_aborted, "send to");
        read_response();
      });
    });
  };
  // For https: name the host (SNI, for a DNS name only: RFC 6066 §3),
  // check that the certificate is for it, then handshake.
  auto handshake = [&] {
    SSL* ssl = tls_stream->native_handle();
    boost::system::error_code not_ip;
    asio::ip::make_address(host, not_ip);
    // OpenSSL checks the name itself, so a mismatch is reported as such.
    if (not_ip) {
      SSL_set_tlsext_host_name(ssl, host.c_str());
      SSL_set1_host(ssl, host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    }
    tls_stream->async_handshake(
        asio::ssl::stream_base::client, [&, ssl](beast::error_code ec) {
          if (!ec) return write_request();
          if (cancelled || ec == asio::error::operation_aborted ||
              ec == beast::error::timeout) {
            return fail(ec, "connect to");
          }
          std::string why = ec.message();
          if (long v = SSL_get_verify_result(ssl); v != X509_V_OK) {
            why = std::string("certificate not trusted: ") +
                  X509_verify_cert_error_string(v);
          }
          failure = Unavailable("tls_error", "TLS handshake with " + where +
                                                 " failed: " + why);
        });
  };

  tcp().expires_after(timeout);
  tcp::resolver resolver(ioc);
  if (reused) {
    write_request();
  } else {
    resolver.async_resolve(
        host, port, [&](beast::error_code ec, tcp::resolver::results_type eps) {
          if (ec) return fail(ec, "resolve");
          if (cancelled) return fail(asio::error::operation_aborted, "connect");
          tcp().async_connect(
              eps, [&](beast::error_code ec2, const tcp::endpoint&) {
                if (ec2) return fail(ec2, "connect");
                if (tls_stream) return handshake();
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
