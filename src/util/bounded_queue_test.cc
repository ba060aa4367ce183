#include "util/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace galsync {
namespace {

TEST(BoundedQueueTest, ItemsArriveInOrderAcrossThreads) {
  BoundedQueue<int> q(3);
  std::thread producer([&] {
    for (int i = 0; i < 10000; ++i) ASSERT_TRUE(q.Push(i));
    q.Close();
  });
  int expected = 0;
  while (auto item = q.Pop()) EXPECT_EQ(*item, expected++);
  producer.join();
  EXPECT_EQ(expected, 10000);
}

TEST(BoundedQueueTest, AFullQueueHoldsTheProducerBack) {
  BoundedQueue<int> q(2);
  std::atomic<int> pushed = 0;
  std::thread producer([&] {
    for (int i = 0; i < 5; ++i) {
      if (!q.Push(i)) break;
      ++pushed;
    }
  });
  // Two fit; the third waits until something is taken.
  while (pushed.load() < 2) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(pushed.load(), 2);
  EXPECT_EQ(q.Pop(), 0);
  while (pushed.load() < 3) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(pushed.load(), 3);
  q.Close();  // the waiting producer gives up; the queued items stay
  producer.join();
  EXPECT_EQ(pushed.load(), 3);
  EXPECT_EQ(q.Pop(), 1);
  EXPECT_EQ(q.Pop(), 2);
  EXPECT_EQ(q.Pop(), std::nullopt);
}

TEST(BoundedQueueTest, CancelDropsTheItemsAndWakesEveryone) {
  BoundedQueue<int> q(1);
  ASSERT_TRUE(q.Push(1));
  std::thread producer([&] { EXPECT_FALSE(q.Push(2)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  q.Cancel();
  producer.join();
  EXPECT_EQ(q.Pop(), std::nullopt);

  BoundedQueue<int> empty(1);
  std::thread consumer([&] { EXPECT_EQ(empty.Pop(), std::nullopt); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  empty.Cancel();
  consumer.join();
  EXPECT_FALSE(empty.Push(3));
}

}  // namespace
}  // namespace galsync
