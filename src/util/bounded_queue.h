// BoundedQueue: a blocking FIFO of at most `capacity` items between
// threads of a pipeline. A full queue makes the producer wait (so a fast
// stage cannot run ahead of a slow one and fill memory); an empty one makes
// the consumer wait.
//
//   producer ──Push──► [ item item item ] ──Pop──► consumer
//                 Close(): no more items; Pop drains what is left, then ends
//                 Cancel(): stop now; what is queued is dropped
//
// One mutex, two condition variables: meant for items that are batches of
// work (a few hundred records), not single records.
#ifndef GALSYNC_UTIL_BOUNDED_QUEUE_H_
#define GALSYNC_UTIL_BOUNDED_QUEUE_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace galsync {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  // Waits for room. False if the queue is closed or cancelled: the item was
  // not taken.
  bool Push(T item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Waits for an item. Empty once the queue is closed and drained, or
  // cancelled.
  std::optional<T> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  // No more pushes; the consumer still gets every queued item.
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  // Close() and drop every queued item.
  void Cancel() {
    std::lock_guard lock(mu_);
    closed_ = true;
    items_.clear();
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace galsync

#endif  // GALSYNC_UTIL_BOUNDED_QUEUE_H_
