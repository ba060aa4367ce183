// Small helpers the handlers of every API share: the JSON request body,
// entity tags, the audit actor, and running blocking work off the network
// threads.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "galsync/status.h"
#include "server/router.h"

namespace galsync::server {

// Parses the request body as JSON (UTF-8 checked, at most `max_depth`
// deep). kInvalidArgument "invalid_json" naming the problem.
Result<boost::json::value> ParseBody(const Request& r, int max_depth);

// Strips the quotes (and a weak prefix) from an entity tag.
std::string Unquote(std::string_view etag);

// The audit actor of a write: the key that made it and where it came from.
std::string ActorOf(const Request& r);

// Runs `fn` on `pool` and resumes the caller on its own executor.
template <typename Fn>
auto OnPool(boost::asio::thread_pool& pool, Fn fn)
    -> boost::asio::awaitable<decltype(fn())> {
  using R = decltype(fn());
  co_return co_await boost::asio::co_spawn(
      pool, [fn = std::move(fn)]() -> boost::asio::awaitable<R> {
        co_return fn();
      },
      boost::asio::use_awaitable);
}

}  // namespace galsync::server
