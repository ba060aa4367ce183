// Request rate per API key: a token bucket per key, refilled at `rate`
// requests per second up to `burst`. A request that finds its key's bucket
// empty is answered 429 with the seconds until the next token.
//
// Buckets exist only for keys that passed verification, so their number is
// bounded by the number of keys, not by what clients send.
//
// Thread-safety: Take may be called from any thread (one mutex; a bucket
// update is a few arithmetic operations).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace galsync::server {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // rate <= 0: unlimited. burst < 1 is raised to 1.
  RateLimiter(double rate, double burst);

  // nullopt if `key` may make a request now (taking a token); otherwise the
  // whole seconds (at least 1) until it may.
  std::optional<int> Take(std::string_view key, Clock::time_point now);

  double rate() const { return rate_; }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  const double rate_;
  const double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
};

}  // namespace galsync::server
