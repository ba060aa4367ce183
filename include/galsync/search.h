// Search of a directory: how a contact becomes words for the prefix index,
// and the per-domain indexes a server keeps current by tailing the store.
//
// Words of a contact (all folded with FoldForMatch):
//   name   each word of name.given, middle, family, full and nickname; for a
//          word with inner punctuation ("jean-luc", "o'brien") also its
//          pieces and its letters joined ("obrien"); for a word in a
//          non-Latin script also its Latin forms (LatinForms)
//   email  each whole address ("alice@example.com") and the pieces of its
//          local part split at . _ - + and between letters and digits
//          ("alice.smith42" gives "alice", "smith", "42")
//   other  words of title, department and office locality (not the
//          organization: mostly the same for everyone, it would match all)
// Positions count words within their field, so a given name ranks before
// a family name, and a first e-mail before a second.
//
// Thread-safety: IndexDocFromContact and AddContactDoc (to a table of the
// caller's) are pure functions. A SearchService
// may be used from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "galsync/contact.h"
#include "galsync/live_index.h"
#include "galsync/prefix_index.h"

namespace galsync {

class Directory;

IndexDoc IndexDocFromContact(const Contact& c, uint8_t rank = 0);
// Appends the same document to `out`, with no allocation of its own.
void AddContactDoc(const Contact& c, uint8_t rank, IndexDocs& out);

// Keeps one LiveIndex per domain current with the store: it indexes the
// public view (galsync/visibility.h), so hidden contacts and private
// attributes are never matched, whatever the key searching. Built from a full
// scan on Start(), then advanced by scanning each domain's changes after
// the position it has applied, as soon as the directory reports a commit
// (the same way a client tails the server). A commit is searchable a few
// milliseconds after it returns.
class SearchService {
 public:
  explicit SearchService(Directory& dir);
  ~SearchService();

  // Builds every domain's index (blocking) and starts following commits.
  Status Start();

  // kNotFound for an unknown domain; kUnavailable if its index cannot be
  // built yet (its store, or read replica, is unavailable or behind).
  Result<std::vector<SearchHit>> Search(std::string_view domain,
                                        const Query& q, size_t k);
  // The seq up to which `domain`'s index has applied changes (0 if none).
  uint64_t applied_seq(std::string_view domain);
  // Wakes the follower for `domain` (called on every commit).
  void Notify(const std::string& domain);

 private:
  struct DomainIndex {
    LiveIndex index;
    std::atomic<uint64_t> applied_seq{0};
    std::mutex catch_up_mu;  // one catch-up at a time per domain
  };
  // Applies the domain's changes after d.applied_seq; an initial catch-up
  // builds the index from a full scan. While a read replica is behind what
  // the scan needs it waits up to `behind_wait`, then fails.
  Status CatchUp(const std::string& domain, DomainIndex& d, bool initial,
                 std::chrono::milliseconds behind_wait);
  // The domain's index, built on first use for a domain new to this server.
  Result<std::shared_ptr<DomainIndex>> Get(std::string_view domain);
  void Follow();

  Directory& dir_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<DomainIndex>, std::less<>>
      domains_;                 // GUARDED_BY(mu_)
  std::vector<std::string> pending_;  // GUARDED_BY(mu_): domains to catch up
  bool stop_ = false;                 // GUARDED_BY(mu_)
  std::condition_variable cv_;
  uint64_t listener_ = 0;
  std::thread follower_;
};

}  // namespace galsync
