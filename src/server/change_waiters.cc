// Long-poll wake-ups; see change_waiters.h.
#include "server/change_waiters.h"

#include <boost/asio/post.hpp>
#include <vector>

namespace galsync::server {

void ChangeWaiters::Wake(const std::shared_ptr<Timer>& t) {
  // Timers are not thread-safe: cancel on the timer's own strand.
  boost::asio::post(t->get_executor(), [t] { t->cancel(); });
}

uint64_t ChangeWaiters::Add(const std::string& domain,
                            std::shared_ptr<Timer> timer) {
  std::lock_guard lock(mu_);
  uint64_t ticket = next_ticket_++;
  if (closed_) {
    Wake(timer);
    return ticket;
  }
  by_domain_[domain].emplace(ticket, std::move(timer));
  return ticket;
}

void ChangeWaiters::Remove(const std::string& domain, uint64_t ticket) {
  std::lock_guard lock(mu_);
  auto it = by_domain_.find(domain);
  if (it == by_domain_.end()) return;
  it->second.erase(ticket);
  if (it->second.empty()) by_domain_.erase(it);
}

void ChangeWaiters::Notify(const std::string& domain) {
  std::unordered_map<uint64_t, std::shared_ptr<Timer>> woken;
  {
    std::lock_guard lock(mu_);
    auto it = by_domain_.find(domain);
    if (it == by_domain_.end()) return;
    woken.swap(it->second);
    by_domain_.erase(it);
  }
  for (auto& [_, t] : woken) Wake(t);
}

void ChangeWaiters::NotifyAll() {
  std::unordered_map<std::string,
                     std::unordered_map<uint64_t, std::shared_ptr<Timer>>>
      all;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    all.swap(by_domain_);
  }
  for (auto& [_, m] : all) {
    for (auto& [__, t] : m) Wake(t);
  }
}

bool ChangeWaiters::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

size_t ChangeWaiters::waiting() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (auto& [_, m] : by_domain_) n += m.size();
  return n;
}

}  // namespace galsync::server
