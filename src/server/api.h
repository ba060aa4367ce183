// The native JSON API (docs/api.md): its route table and handlers. Handlers
// translate between HTTP and the core Directory; they hold no state of their
// own besides the long-poll waiters and the pool that runs blocking writes.
//
// Thread-safety: handlers run concurrently on the server's threads.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "galsync/directory.h"
#include "galsync/keys.h"
#include "galsync/search.h"
#include "server/change_waiters.h"
#include "server/router.h"
#include "server/scim_api.h"

namespace galsync::server {

struct ApiLimits {
  int64_t max_wait_seconds = 120;     // long-poll `wait`
  size_t max_limit_param = 1000000;   // `limit` above this is a 400
  int max_json_depth = 32;            // request bodies
  int max_exports = 2;                // exports streaming at once; 503 beyond
  int max_imports = 2;                // imports running at once; 503 beyond
  // How long a page request waits for a read replica that is behind the
  // reader's position before answering 503 replica_behind.
  std::chrono::microseconds replica_wait = std::chrono::seconds(5);
};

class JsonApi {
 public:
  // `search` may be null: the search endpoint then answers 503.
  JsonApi(Directory& dir, KeyRing& keys, SearchService* search,
          ApiLimits limits = {});
  ~JsonApi();

  // The route table; every endpoint of the API is declared here (the SCIM
  // endpoints in ScimApi::Routes, which this includes).
  std::vector<Route> Routes();

  // Wakes every long-poll (shutdown).
  void WakeAll() { waiters_.NotifyAll(); }
  // Waits for running writes to finish and stops the write pool.
  void Shutdown() { write_pool_.join(); }
  ChangeWaiters& waiters() { return waiters_; }

 private:
  using Awaitable = boost::asio::awaitable<Response>;
  Awaitable Health(Request& r);
  // Directory::Changes, retried on a timer while a read replica is behind
  // (for up to ApiLimits::replica_wait), without holding a thread.
  boost::asio::awaitable<Result<ChangesPage>> PageWhenReplicaHasIt(
      const std::string& domain, const ChangesRequest& req);
  Awaitable ListDomains(Request& r);
  Awaitable CreateDomain(Request& r);
  Awaitable GetDomain(Request& r);
  Awaitable GetContact(Request& r);
  Awaitable PutContact(Request& r);
  Awaitable PostContact(Request& r);
  Awaitable DeleteContact(Request& r);
  Awaitable Batch(Request& r);
  Awaitable Changes(Request& r);
  Awaitable ContactHistory(Request& r);
  Awaitable DomainHistory(Request& r);
  Awaitable Purge(Request& r);
  Awaitable GetPolicy(Request& r);
  Awaitable PutPolicy(Request& r);
  Awaitable Search(Request& r);
  Awaitable Import(Request& r);
  Awaitable Export(Request& r);
  Awaitable WhoAmI(Request& r);
  Awaitable CreateKey(Request& r);
  Awaitable ListKeys(Request& r);
  Awaitable RevokeKey(Request& r);

  Awaitable Put(Request& r, std::string id, bool created_by_post);
  Awaitable History(Request& r, std::string_view contact_id);

  Directory& dir_;
  KeyRing& keys_;
  SearchService* const search_;
  const ApiLimits limits_;
  uint64_t listener_ = 0;
  ChangeWaiters waiters_;
  std::atomic<int> exports_running_{0};
  std::atomic<int> imports_running_{0};
  // Writes block on fsync; they run here, off the network threads.
  boost::asio::thread_pool write_pool_{2};
  ScimApi scim_{dir_, write_pool_,
                ScimLimits{.max_json_depth = limits_.max_json_depth}};
};

}  // namespace galsync::server
