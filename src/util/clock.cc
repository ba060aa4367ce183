// The real clock.
#include "galsync/clock.h"

namespace galsync {
namespace {

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

Clock* Clock::System() {
  static SystemClock clock;
  return &clock;
}

}  // namespace galsync
