// galsync's one error vocabulary.
//
// Every fallible operation in the core returns Result<T>: either a value or an
// Error. An Error carries a kind (which maps to one HTTP status), a stable
// machine-readable reason (snake_case, part of the API: clients branch on it)
// and a human-readable message that says what was wrong with the input.
// "Not found" is an Error of kind kNotFound, never an exception.
//
// Thread-safety: plain values; no shared state.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace galsync {

enum class ErrorKind {
  kInvalidArgument,     // 400: the request is malformed or violates a rule
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kNotFound,            // 404
  kMethodNotAllowed,    // 405
  kConflict,            // 409: e.g. domain already exists
  kGone,                // 410: sync token no longer usable; start over
  kPreconditionFailed,  // 412: If-Match version mismatch
  kPayloadTooLarge,     // 413
  kUriTooLong,          // 414
  kUnprocessable,       // 422: well-formed but semantically invalid
  kRateLimited,         // 429
  kInternal,            // 500
  kUnavailable,         // 503: shutting down, store busy
};

// The HTTP status code that represents `kind` in the JSON API.
int HttpStatus(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string reason;   // stable, machine-readable, e.g. "token_expired"
  std::string message;  // for people: what was wrong and, if useful, what to do

  static Error InvalidArgument(std::string reason, std::string message) {
    return {ErrorKind::kInvalidArgument, std::move(reason), std::move(message)};
  }
  static Error NotFound(std::string reason, std::string message) {
    return {ErrorKind::kNotFound, std::move(reason), std::move(message)};
  }
  static Error Internal(std::string message) {
    return {ErrorKind::kInternal, "internal", std::move(message)};
  }
};

// A value of type T or an Error. Cheap to move; check ok() before value().
template <typename T>
class [[nodiscard]] Result {
 public:
  // An Error until assigned; exists for frameworks that need a default.
  Result() : v_(std::in_place_index<1>, Error::Internal("no result")) {}
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result of an operation that yields no value.
struct Ok {};
using Status = Result<Ok>;

}  // namespace galsync
