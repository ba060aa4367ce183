// Long-poll wake-ups: requests waiting for a domain's next commit.
//
// A waiting request registers a timer (created on its session's strand) under
// its domain, re-checks the domain's last_seq, and waits on the timer. The
// directory's commit listener calls Notify(domain), which cancels every
// registered timer of that domain by posting to its strand, so the waiter
// wakes within microseconds of the commit. Register-then-recheck means no
// wake-up is lost.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace galsync::server {

class ChangeWaiters {
 public:
  using Timer = boost::asio::steady_timer;

  // Registers `timer` for `domain`; returns a ticket for Remove.
  uint64_t Add(const std::string& domain, std::shared_ptr<Timer> timer);
  void Remove(const std::string& domain, uint64_t ticket);
  // Wakes every waiter of `domain`.
  void Notify(const std::string& domain);
  // Wakes every waiter (shutdown); later Adds are woken at once.
  void NotifyAll();
  size_t waiting() const;
  bool closed() const;

 private:
  static void Wake(const std::shared_ptr<Timer>& t);

  mutable std::mutex mu_;
  uint64_t next_ticket_ = 1;  // GUARDED_BY(mu_)
  bool closed_ = false;       // GUARDED_BY(mu_)
  std::unordered_map<std::string,
                     std::unordered_map<uint64_t, std::shared_ptr<Timer>>>
      by_domain_;  // GUARDED_BY(mu_)
};

}  // namespace galsync::server
