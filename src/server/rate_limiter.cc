// Token buckets per key; see rate_limiter.h.
#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace galsync::server {

RateLimiter::RateLimiter(double rate, double burst)
    : rate_(rate), burst_(std::max(1.0, burst)) {}

std::optional<int> RateLimiter::Take(std::string_view key,
                                     Clock::time_point now) {
  if (rate_ <= 0) return std::nullopt;
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(std::string(key), Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_);
    b.last = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate_)));
}

}  // namespace galsync::server
