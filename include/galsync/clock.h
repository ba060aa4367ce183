// Time source for the core, injectable so tests can move time (purge,
// retention, `since=` mapping) without sleeping.
//
// Thread-safety: NowMicros() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace galsync {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in microseconds since the Unix epoch.
  virtual int64_t NowMicros() const = 0;
  // The process-wide real clock.
  static Clock* System();
};

// A clock that only moves when told to. For tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_us) : now_(start_us) {}
  int64_t NowMicros() const override { return now_.load(); }
  void Set(int64_t us) { now_.store(us); }
  void Advance(int64_t us) { now_.fetch_add(us); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace galsync
