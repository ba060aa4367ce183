// The sync client: keeps a Replica in step with a galsync server's change
// feed (docs/api.md, "Sync protocol"). What an e-mail app or plug-in embeds;
// the `galsync` CLI is a thin layer over it.
//
//   SyncOnce   pages through the feed from the replica's token until the
//              server says there is no more, applying each page atomically
//              with its next_token. No token, or a 410 from the server (token
//              expired, store restored): a full sync into a fresh table that
//              replaces the old copy at its end.
//   Run        SyncOnce periodically (interval with jitter), or in follow
//              mode as long-polls so changes arrive within a second of their
//              commit; exponential backoff with a cap on errors, honouring
//              Retry-After; returns when Stop() is called.
//
// Errors are galsync::Error values whose `kind` says what to do about them:
//   kUnavailable        server unreachable, timed out, or answered 5xx/503:
//                       retry later (reason "unreachable", "timeout",
//                       "server_error", "cancelled" after Stop())
//   kRateLimited        429: retry after retry_after()
//   kUnauthenticated,   the key is missing, wrong or lacks the read scope
//   kPermissionDenied
//   kNotFound           the domain does not exist on the server
//   kInvalidArgument    "bad_response": the server sent something that is not
//                       a valid page (the replica is untouched);
//                       "invalid_token": the replica's token was not issued
//                       by this server (sync with full=true to start over);
//                       "replica_corrupt"; "not_configured"
//   kConflict           "concurrent_sync": another process synced the same
//                       replica meanwhile (nothing lost; sync again)
//
// Thread-safety: one thread calls SyncOnce/Run; Stop() may be called from
// any thread (e.g. a signal-handling thread).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "galsync/replica.h"
#include "galsync/status.h"

namespace galsync {

// Parses and validates one change-feed page body. Checks the shape of every
// member, that ops are known, ids valid, seqs strictly ascending, and that an
// upsert's contact is an object with the change's id and seq. Returns
// kInvalidArgument reason "bad_response" naming the first problem.
Result<FeedPage> ParseFeedPage(std::string_view body);

class HttpConnection;
struct HttpResponse;

struct SyncOptions {
  uint32_t page_limit = 1000;  // changes per page asked for (server caps it)
  uint32_t wait_seconds = 0;   // > 0: long-poll when already up to date
  bool full = false;           // discard the token and sync everything again
  std::chrono::milliseconds timeout{30000};  // per request, beyond `wait`
};

struct SyncProgress {
  bool full_sync = false;
  uint64_t pages = 0;
  uint64_t changes = 0;       // applied so far in this SyncOnce
  uint64_t expected = 0;      // full sync: contacts on the server (estimate)
  uint64_t bytes = 0;         // response bytes received
  double seconds = 0;         // since SyncOnce began
};

struct SyncReport {
  bool full_sync = false;      // a full sync ran (and completed)
  std::string resync_reason;   // why, when forced by the server (410 reason)
  uint64_t pages = 0;
  uint64_t changes = 0;        // applied
  uint64_t upserts = 0;
  uint64_t deletes = 0;
  uint64_t bytes = 0;          // response bytes received
  double seconds = 0;
};

struct RunOptions {
  std::chrono::seconds every{300};  // periodic mode: between syncs
  double jitter = 0.1;              // ± this fraction of `every`
  bool follow = false;              // long-poll instead of sleeping
  uint32_t wait_seconds = 30;       // follow mode: long-poll length
  std::chrono::seconds backoff_initial{1};
  std::chrono::seconds backoff_max{300};
};

class SyncClient {
 public:
  // The replica must have a configuration (Replica::SetConfig).
  static Result<std::unique_ptr<SyncClient>> Create(Replica& replica);
  ~SyncClient();

  // kInvalidArgument "invalid_server_url" unless `url` is
  // http://host[:port][/path].
  static Status CheckServerUrl(std::string_view url);

  using ProgressFn = std::function<void(const SyncProgress&)>;

  Result<SyncReport> SyncOnce(const SyncOptions& options,
                              const ProgressFn& progress = {});

  // Called after every SyncOnce in Run, with its outcome and the delay
  // before the next attempt.
  using OutcomeFn = std::function<void(const Result<SyncReport>&,
                                       std::chrono::milliseconds next)>;
  // Syncs until Stop(). Returns Ok after Stop(), or the first error that
  // retrying cannot fix (kUnauthenticated, kPermissionDenied, kNotFound,
  // kInvalidArgument other than bad_response).
  Status Run(const RunOptions& run, const SyncOptions& options,
             const ProgressFn& progress = {}, const OutcomeFn& outcome = {});

  // Interrupts a request in flight and makes Run return. Thread-safe.
  void Stop();

  // The server's Retry-After (seconds) of the last 429 or 503, or 0.
  std::chrono::seconds retry_after() const { return retry_after_.load(); }

  // Reads the server's store incarnation (GET /v1/health).
  Result<std::string> ServerIncarnation(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // GET /v1/domains/{domain}: the domain object's `last_seq` and `contacts`.
  struct DomainInfo {
    uint64_t last_seq = 0;
    uint64_t contacts = 0;
  };
  Result<DomainInfo> Domain(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  struct Fetched {
    FeedPage page;
    std::string from;  // the token it was requested with
    uint64_t wire_bytes = 0;
  };
  class Prefetcher;

  SyncClient(Replica& replica, ReplicaConfig config,
             std::unique_ptr<HttpConnection> http);
  // One page from `from`, parsed and validated; a 410 is a kGone error.
  Result<Fetched> FetchPage(const SyncOptions& options,
                            const std::string& from, bool full);
  Result<std::string> GetJson(const std::string& target,
                              std::chrono::milliseconds timeout);
  Error ServerError(int status, std::string_view body);
  void NoteRetryAfter(const HttpResponse& res);

  Replica& replica_;
  ReplicaConfig config_;
  std::unique_ptr<HttpConnection> http_;
  std::atomic<std::chrono::seconds> retry_after_{std::chrono::seconds(0)};
  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
};

}  // namespace galsync
