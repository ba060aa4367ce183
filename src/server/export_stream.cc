// ExportStream (server/export_stream.h): the scan thread and the queue of
// pieces between it and the session.
#include "server/export_stream.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

namespace galsync::server {

namespace asio = boost::asio;

struct ExportStream::Shared {
  explicit Shared(asio::any_io_executor ex) : wake(std::move(ex)) {}

  std::mutex mu;
  std::condition_variable space;  // the scan waits here for the queue
  std::deque<std::string> pieces;  // GUARDED_BY(mu)
  bool done = false;               // GUARDED_BY(mu)
  std::optional<Error> error;      // GUARDED_BY(mu)
  bool cancelled = false;          // GUARDED_BY(mu)
  // Next() waits on it; the scan cancels it (on the session's executor)
  // after each piece it queues.
  asio::steady_timer wake;
  std::thread thread;

  // Called by the scan thread. False once the reader went away.
  bool Push(std::string piece, std::shared_ptr<Shared> self) {
    std::unique_lock lock(mu);
    space.wait(lock, [&] {
      return cancelled || pieces.size() < kMaxQueuedPieces;
    });
    if (cancelled) return false;
    pieces.push_back(std::move(piece));
    Wake(std::move(self));
    return true;
  }

  void Finish(std::optional<Error> e, std::shared_ptr<Shared> self) {
    std::lock_guard lock(mu);
    done = true;
    error = std::move(e);
    if (!cancelled) Wake(std::move(self));
  }

  // REQUIRES: mu held and not cancelled. Once the stream is cancelled (its
  // session, and maybe the io_context, is going away) nothing is posted.
  static void Wake(std::shared_ptr<Shared> self) {
    auto ex = self->wake.get_executor();
    asio::post(ex, [self = std::move(self)] { self->wake.cancel(); });
  }
};

ExportStream::ExportStream(Directory& dir, std::string domain, View view,
                           ExportFormat format, asio::any_io_executor executor,
                           std::atomic<int>& running)
    : s_(std::make_shared<Shared>(std::move(executor))), running_(running) {
  // The export holds at least every commit this server knew of when it was
  // asked for (a read replica's snapshot may be older: wait for it).
  const uint64_t known = dir.LastSeq(domain).value_or(0);
  s_->thread = std::thread([&dir, domain = std::move(domain), view, format,
                            known, s = s_]() mutable {
    std::string piece = format.Begin();
    std::optional<Error> failure;
    bool reader_gone = false;
    // Rows past the end of the domain are never visited: no limit.
    constexpr size_t kAllRows = size_t{1} << 62;
    auto visit = [&](const ChangeRow& row) {
      if (row.deleted) return true;  // hidden in this view
      if (format.format == SourceFormat::kJsonLines) {
        piece.append(row.json).push_back('\n');  // as served
      } else {
        auto c = ParseContactJson(row.json);
        if (!c) {
          failure = Error{ErrorKind::kInternal, "store_corrupt",
                          "stored contact \"" + std::string(row.id) +
                              "\" cannot be read: " + c.error().message};
          return false;
        }
        piece += format.Entry(*c);
      }
      if (piece.size() < kPieceBytes) return true;
      if (!s->Push(std::move(piece), s)) {
        reader_gone = true;
        return false;
      }
      piece.clear();
      return true;
    };
    auto scan = dir.ScanChanges(domain, view, 0, UINT64_MAX, kAllRows, visit,
                                known, std::chrono::seconds(5));
    if (!scan && !failure) failure = scan.error();
    if (!failure && !reader_gone && !piece.empty()) {
      reader_gone = !s->Push(std::move(piece), s);
    }
    s->Finish(std::move(failure), s);
  });
}

ExportStream::~ExportStream() {
  {
    std::lock_guard lock(s_->mu);
    s_->cancelled = true;
  }
  s_->space.notify_all();
  s_->thread.join();
  --running_;
}

asio::awaitable<Result<std::string>> ExportStream::Next() {
  for (;;) {
    {
      std::lock_guard lock(s_->mu);
      if (!s_->pieces.empty()) {
        std::string piece = std::move(s_->pieces.front());
        s_->pieces.pop_front();
        s_->space.notify_one();
        co_return piece;
      }
      if (s_->done) {
        if (s_->error) co_return *s_->error;
        co_return std::string();
      }
    }
    // Woken by the scan's next piece; the deadline is only a safety net.
    s_->wake.expires_after(std::chrono::seconds(1));
    co_await s_->wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace galsync::server
