// The SCIM 2.0 endpoints (RFC 7644) under /v1/domains/{domain}/scim/v2:
// Users (create, get, replace, patch, delete, list with filter and paging)
// and ServiceProviderConfig. Users are the domain's contacts owned by the
// source "scim" (galsync/scim.h maps them); contacts written any other way
// are not SCIM resources, so an identity provider never takes over or
// deletes them. Every route needs a key with read, write and private
// (Access::kProvision). docs/scim.md documents it.
//
// Thread-safety: handlers run concurrently; writes of one ScimApi are
// serialized (a userName's uniqueness is checked and written as one step).
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <mutex>
#include <vector>

#include "galsync/directory.h"
#include "server/router.h"

namespace galsync::server {

struct ScimLimits {
  size_t default_count = 100;  // users per list page when `count` is absent
  size_t max_count = 1000;     // `count` above is lowered to this
  int max_json_depth = 32;
};

class ScimApi {
 public:
  // Writes run on `write_pool`, which must outlive the ScimApi.
  ScimApi(Directory& dir, boost::asio::thread_pool& write_pool,
          ScimLimits limits = {});

  // The routes, to be part of the server's one route table.
  std::vector<Route> Routes();

 private:
  using Awaitable = boost::asio::awaitable<Response>;
  Awaitable ServiceProviderConfig(Request& r);
  Awaitable ListUsers(Request& r);
  Awaitable CreateUser(Request& r);
  Awaitable GetUser(Request& r);
  Awaitable ReplaceUser(Request& r);
  Awaitable PatchUser(Request& r);
  Awaitable DeleteUser(Request& r);
  Awaitable Update(Request& r, bool patch);
  using MakeChanges = std::function<Result<std::vector<ChangeRequest>>(
      const StoredContact& user)>;
  boost::asio::awaitable<Status> ChangeUser(Request& r,
                                            const MakeChanges& make);

  Directory& dir_;
  boost::asio::thread_pool& write_pool_;
  const ScimLimits limits_;
  std::mutex write_mu_;  // held across a write's uniqueness check and write
};

}  // namespace galsync::server
