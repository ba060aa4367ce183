// A minimal HTTP/1.1 client for the sync client: one keep-alive connection
// (plain or TLS) to one server, GET, and POST of a streamed upload (an
// import); every request bounded by a deadline and a body limit, and
// cancellable from another thread.
//
// Requests run Beast's asynchronous operations on a private io_context in
// the calling thread, which is what gives sync-style calls a deadline
// (tcp_stream timeouts apply to asynchronous operations only) and lets
// Cancel() abort a long-poll at once.
//
// Thread-safety: one thread calls Get; Cancel may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "galsync/status.h"

namespace galsync {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string retry_after;   // the Retry-After header, if any
  std::string content_type;
  uint64_t wire_bytes = 0;   // header and body bytes received
};

// A request body produced piece by piece (a file being uploaded).
struct Upload {
  std::string content_type = "application/octet-stream";
  uint64_t size = 0;  // Content-Length: read must produce exactly this much
  // Fills up to `cap` bytes of `buf`; returns how many (0: the end).
  std::function<Result<size_t>(char* buf, size_t cap)> read;
  // Called after each piece was sent, with the bytes sent so far.
  std::function<void(uint64_t sent)> progress;
};

class HttpConnection {
 public:
  // `base_url`: http(s)://host[:port][/path-prefix]. kInvalidArgument
  // reason "invalid_server_url" if it is not such a URL. For https the
  // server's certificate must chain to a CA in `ca_file` (PEM) or, when it
  // is empty, in the system's store, and must name the URL's host;
  // "invalid_ca_file" if `ca_file` cannot be loaded.
  static Result<std::unique_ptr<HttpConnection>> Create(
      std::string_view base_url, std::string api_key,
      const std::string& ca_file = "");
  ~HttpConnection();

  // Limits on what the server may send back.
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;
  static constexpr size_t kMaxBodyBytes = 64 * 1024 * 1024;

  // GET base_path + `target` (which starts with "/"). Errors: kUnavailable
  // with reason "unreachable" (cannot connect, connection lost), "timeout",
  // "cancelled", "tls_error" (handshake failed: e.g. an untrusted
  // certificate, or one for another host); kInvalidArgument "bad_response"
  // (not HTTP, too large).
  Result<HttpResponse> Get(std::string_view target,
                           std::chrono::milliseconds timeout);

  // POST base_path + `target` with `upload` as the body, on a new
  // connection. `timeout` bounds each step (connecting, sending one piece,
  // waiting for the answer), not the whole upload. Errors as for Get; if
  // the server answers before it has read the whole body (e.g. 403), that
  // answer is returned.
  Result<HttpResponse> Post(std::string_view target, Upload& upload,
                            std::chrono::milliseconds timeout);

  // Aborts the request in flight (it returns "cancelled") and every later
  // one until Reset().
  void Cancel();
  void Reset();

 private:
  struct Impl;
  explicit HttpConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace galsync
