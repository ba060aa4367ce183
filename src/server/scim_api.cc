// SCIM 2.0 handlers (server/scim_api.h): HTTP in, galsync/scim.h to map
// users onto contacts, Directory to read and write them.
#include "server/scim_api.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "galsync/contact.h"
#include "galsync/scim.h"
#include "server/handler_util.h"
#include "util/crypto.h"

namespace galsync::server {

namespace json = boost::json;
using scim::kSource;

namespace {

constexpr std::string_view kScimJson = "application/scim+json";

Response ScimResponse(int status, const json::value& body) {
  return Response{status, json::serialize(body), std::string(kScimJson), {}, {}};
}

bool IsScimType(std::string_view reason) {
  static constexpr std::string_view kTypes[] = {
      "invalidFilter", "tooMany",   "uniqueness", "mutability", "invalidSyntax",
      "invalidPath",   "noTarget",  "invalidValue", "invalidVers", "sensitive"};
  return std::find(std::begin(kTypes), std::end(kTypes), reason) !=
         std::end(kTypes);
}

// RFC 7644 3.12: {"schemas":[Error],"status":"404","scimType":..,"detail":..}
// with the HTTP status galsync gives the error.
Response ScimError(const Error& e) {
  const Response plain = ErrorResponse(e);
  json::object o;
  o["schemas"] = json::array{json::string(scim::kErrorSchema)};
  o["status"] = std::to_string(plain.status);
  if (IsScimType(e.reason)) o["scimType"] = e.reason;
  o["detail"] = e.message;
  Response res = ScimResponse(plain.status, o);
  res.headers = plain.headers;
  return res;
}

std::string UserLocation(std::string_view domain, std::string_view id) {
  return "/v1/domains/" + std::string(domain) + "/scim/v2/Users/" +
         std::string(id);
}

Error UserNotFound(std::string_view id) {
  return Error::NotFound("user_not_found",
                         "no SCIM user with id \"" + std::string(id) + "\"");
}

Error Taken(std::string_view user_name) {
  return {ErrorKind::kConflict, "uniqueness",
          "userName \"" + std::string(user_name) + "\" is taken"};
}

// The contact a User resource describes, validated as any write is.
Result<Contact> Validate(const Contact& c) {
  auto valid = ParseContactJson(CanonicalContentJson(c));
  if (!valid) {
    return Error::InvalidArgument("invalidValue", valid.error().message);
  }
  return valid;
}

// A live contact of the domain that SCIM owns.
Result<StoredContact> UserRow(Directory& dir, std::string_view domain,
                              std::string_view id) {
  auto row = dir.GetContact(domain, id, View::kFull);
  if (!row) {
    if (row.error().kind == ErrorKind::kNotFound &&
        row.error().reason != "domain_not_found") {
      return UserNotFound(id);
    }
    return std::move(row).error();
  }
  if (row->source != kSource) return UserNotFound(id);
  return row;
}

Result<Contact> ContactOfRow(const StoredContact& row) {
  auto c = ParseContactJson(row.json);
  if (!c) {
    return Error{ErrorKind::kInternal, "store_corrupt",
                 "stored contact \"" + row.id + "\" cannot be read: " +
                     c.error().message};
  }
  return c;
}

// The user as it is now, answered with `status`.
Response UserResponse(Directory& dir, std::string_view domain,
                      std::string_view id, int status) {
  auto row = UserRow(dir, domain, id);
  if (!row) return ScimError(row.error());
  auto c = ContactOfRow(*row);
  if (!c) return ScimError(c.error());
  const std::string location = UserLocation(domain, id);
  Response res = ScimResponse(status, scim::UserOf(*c, location));
  res.headers.emplace_back("ETag", "W/\"" + c->version() + "\"");
  if (status == 201) res.headers.emplace_back("Location", location);
  return res;
}

Result<int64_t> IntParam(const Request& r, std::string_view name,
                         int64_t dflt) {
  auto v = r.query_param(name);
  if (!v) return dflt;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size()) {
    return Error::InvalidArgument(
        "invalidValue", std::string(name) + " must be an integer, got \"" +
                            std::string(v->substr(0, 32)) + "\"");
  }
  return n;
}

}  // namespace

ScimApi::ScimApi(Directory& dir, boost::asio::thread_pool& write_pool,
                 ScimLimits limits)
    : dir_(dir), write_pool_(write_pool), limits_(limits) {}

std::vector<Route> ScimApi::Routes() {
  using V = http::verb;
  auto h = [this](Awaitable (ScimApi::*m)(Request&)) -> Handler {
    return [this, m](Request& r) { return (this->*m)(r); };
  };
  const std::string b = "/v1/domains/{domain}/scim/v2";
  const Access a = Access::kProvision;
  return {
      {V::get, b + "/ServiceProviderConfig", a,
       h(&ScimApi::ServiceProviderConfig)},
      {V::get, b + "/Users", a, h(&ScimApi::ListUsers)},
      {V::post, b + "/Users", a, h(&ScimApi::CreateUser)},
      {V::get, b + "/Users/{id}", a, h(&ScimApi::GetUser)},
      {V::put, b + "/Users/{id}", a, h(&ScimApi::ReplaceUser)},
      {V::patch, b + "/Users/{id}", a, h(&ScimApi::PatchUser)},
      {V::delete_, b + "/Users/{id}", a, h(&ScimApi::DeleteUser)},
  };
}

ScimApi::Awaitable ScimApi::ServiceProviderConfig(Request& r) {
  auto d = dir_.GetDomain(r.param("domain"));
  if (!d) co_return ScimError(d.error());
  json::object o;
  o["schemas"] = json::array{
      "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"};
  o["documentationUri"] = "docs/scim.md";
  o["patch"] = json::object{{"supported", true}};
  o["bulk"] = json::object{
      {"supported", false}, {"maxOperations", 0}, {"maxPayloadSize", 0}};
  o["filter"] = json::object{{"supported", true},
                             {"maxResults", limits_.max_count}};
  o["changePassword"] = json::object{{"supported", false}};
  o["sort"] = json::object{{"supported", false}};
  o["etag"] = json::object{{"supported", true}};
  o["authenticationSchemes"] = json::array{json::object{
      {"type", "oauthbearertoken"},
      {"name", "API key"},
      {"description",
       "Authorization: Bearer <galsync key with read, write and private>"}}};
  co_return ScimResponse(200, o);
}

ScimApi::Awaitable ScimApi::GetUser(Request& r) {
  co_return UserResponse(dir_, r.param("domain"), r.param("id"), 200);
}

ScimApi::Awaitable ScimApi::CreateUser(Request& r) {
  auto body = ParseBody(r, limits_.max_json_depth);
  if (!body) co_return ScimError(body.error());
  if (!body->is_object()) {
    co_return ScimError(Error::InvalidArgument(
        "invalidSyntax", "the body must be a User resource (an object)"));
  }
  const std::string& domain = r.param("domain");
  const std::string actor = ActorOf(r);
  auto made = co_await OnPool(write_pool_, [&]() -> Result<std::string> {
    std::lock_guard lock(write_mu_);
    Contact base;
    base.id = crypto::RandomHex128();
    std::string user_name;
    auto c = scim::ContactOfUser(body->get_object(), base, &user_name);
    if (!c) return std::move(c).error();
    const std::string key = scim::UserNameKey(user_name);
    auto held = dir_.ContactBySource(domain, kSource, key);
    if (held) {
      if (!held->deleted) return Taken(user_name);
      c->id = held->id;  // deleted through the plain API: revive its id
    } else if (held.error().kind != ErrorKind::kNotFound ||
               held.error().reason == "domain_not_found") {
      return std::move(held).error();
    }
    auto valid = Validate(*c);
    if (!valid) return std::move(valid).error();
    ChangeRequest ch{ChangeOp::kUpsert, c->id, CanonicalContentJson(*valid)};
    ch.if_none_match = true;
    ch.source = kSource;
    ch.source_key = key;
    auto w = dir_.Write(domain, std::span(&ch, 1), actor);
    if (!w) return std::move(w).error();
    return c->id;
  });
  if (!made) co_return ScimError(made.error());
  co_return UserResponse(dir_, domain, *made, 201);
}

ScimApi::Awaitable ScimApi::ReplaceUser(Request& r) {
  co_return co_await Update(r, false);
}

ScimApi::Awaitable ScimApi::PatchUser(Request& r) {
  co_return co_await Update(r, true);
}

// The one way a user changes: under the write lock, the user is read,
// `make` turns it into changes, and they are written, the first with a
// version check (If-Match, else the version read, so that a write racing
// this one through the plain API is never overwritten blindly).
boost::asio::awaitable<Status> ScimApi::ChangeUser(Request& r,
                                                   const MakeChanges& make) {
  std::optional<std::string> if_match;
  if (auto h = r.header("If-Match")) if_match = Unquote(*h);
  const std::string& domain = r.param("domain");
  const std::string& id = r.param("id");
  const std::string actor = ActorOf(r);
  co_return co_await OnPool(write_pool_, [&]() -> Status {
    std::lock_guard lock(write_mu_);
    auto row = UserRow(dir_, domain, id);
    if (!row) return std::move(row).error();
    auto changes = make(*row);
    if (!changes) return std::move(changes).error();
    changes->front().if_match = if_match ? *if_match : std::to_string(row->seq);
    auto w = dir_.Write(domain, *changes, actor);
    if (!w) return std::move(w).error();
    return Ok{};
  });
}

// PUT and PATCH: the request applied to the user as it is.
ScimApi::Awaitable ScimApi::Update(Request& r, bool patch) {
  auto body = ParseBody(r, limits_.max_json_depth);
  if (!body) co_return ScimError(body.error());
  if (!patch && !body->is_object()) {
    co_return ScimError(Error::InvalidArgument(
        "invalidSyntax", "the body must be a User resource (an object)"));
  }
  const std::string& domain = r.param("domain");
  const std::string& id = r.param("id");
  auto done = co_await ChangeUser(
      r, [&](const StoredContact& row) -> Result<std::vector<ChangeRequest>> {
        auto current = ContactOfRow(row);
        if (!current) return std::move(current).error();
        json::object user;
        if (patch) {
          user = scim::UserOf(*current, UserLocation(domain, id));
          if (auto st = scim::ApplyPatch(*body, user); !st) return st.error();
        } else {
          user = body->get_object();
        }
        std::string user_name;
        auto c = scim::ContactOfUser(user, *current, &user_name);
        if (!c) return std::move(c).error();
        c->id = id;
        const std::string key = scim::UserNameKey(user_name);
        if (key != row.source_key) {
          auto held = dir_.ContactBySource(domain, kSource, key);
          if (held && held->id != id) return Taken(user_name);
        }
        auto valid = Validate(*c);
        if (!valid) return std::move(valid).error();
        ChangeRequest ch{ChangeOp::kUpsert, id, CanonicalContentJson(*valid)};
        ch.source = kSource;
        ch.source_key = key;
        return std::vector{std::move(ch)};
      });
  if (!done) co_return ScimError(done.error());
  co_return UserResponse(dir_, domain, id, 200);
}

// A delete also releases the userName: in the same transaction, the
// contact's owner key becomes "\x01<id>" (its content unchanged, so that
// takes no seq), so the name can go to a new user.
ScimApi::Awaitable ScimApi::DeleteUser(Request& r) {
  const std::string& id = r.param("id");
  auto done = co_await ChangeUser(
      r, [&](const StoredContact& row) -> Result<std::vector<ChangeRequest>> {
        ChangeRequest release{ChangeOp::kUpsert, id,
                              ContentOfStoredJson(row.json)};
        release.source = kSource;
        release.source_key = "\x01" + id;
        return std::vector{std::move(release),
                           ChangeRequest{ChangeOp::kDelete, id, ""}};
      });
  if (!done) co_return ScimError(done.error());
  co_return Response{204, "", std::string(kScimJson), {}, {}};
}

// Matching users in order of userName, a page of them. A filter
// `userName eq "x"` is one index lookup; any other filter, or none, reads
// every SCIM user of the domain (cost O(users)).
ScimApi::Awaitable ScimApi::ListUsers(Request& r) {
  std::optional<scim::Filter> filter;
  if (auto f = r.query_param("filter")) {
    auto parsed = scim::ParseFilter(*f);
    if (!parsed) co_return ScimError(parsed.error());
    filter = std::move(*parsed);
  }
  auto start = IntParam(r, "startIndex", 1);
  if (!start) co_return ScimError(start.error());
  auto count = IntParam(r, "count", static_cast<int64_t>(limits_.default_count));
  if (!count) co_return ScimError(count.error());
  // RFC 7644 3.4.2.4: below 1 means 1; a negative count means 0.
  const size_t first = static_cast<size_t>(std::max<int64_t>(*start, 1));
  const size_t want = static_cast<size_t>(std::clamp<int64_t>(
      *count, 0, static_cast<int64_t>(limits_.max_count)));
  const std::string& domain = r.param("domain");

  auto page = co_await OnPool(write_pool_, [&]() -> Result<json::object> {
    auto d = dir_.GetDomain(domain);
    if (!d) return std::move(d).error();
    // (userName key, id) of every match.
    std::vector<std::pair<std::string, std::string>> matches;
    auto consider = [&](std::string_view key, std::string_view id,
                        std::string_view json_text) -> Status {
      if (filter) {
        auto c = ParseContactJson(json_text);
        if (!c) {
          return Error{ErrorKind::kInternal, "store_corrupt",
                       "stored contact \"" + std::string(id) +
                           "\" cannot be read: " + c.error().message};
        }
        if (!scim::Matches(*filter, scim::UserOf(*c, UserLocation(domain, id)))) {
          return Ok{};
        }
      }
      matches.emplace_back(key, id);
      return Ok{};
    };
    std::optional<std::string> user_name;
    if (filter) user_name = scim::UserNameEquals(*filter);
    if (user_name) {
      auto held = dir_.ContactBySource(domain, kSource,
                                       scim::UserNameKey(*user_name));
      if (held && !held->deleted) {
        if (auto st = consider(held->source_key, held->id, held->json); !st) {
          return st.error();
        }
      } else if (!held && held.error().kind != ErrorKind::kNotFound) {
        return std::move(held).error();
      }
    } else {
      Status inner = Ok{};
      auto st = dir_.store().SourceContacts(
          d->id, kSource, [&](const SourceRow& row) {
            if (row.deleted) return true;
            inner = consider(row.source_key, row.id, row.json);
            return inner.ok();
          });
      if (!st) return st.error();
      if (!inner) return inner.error();
    }
    std::sort(matches.begin(), matches.end());
    json::array resources;
    for (size_t i = first - 1; i < matches.size() && resources.size() < want;
         ++i) {
      auto row = UserRow(dir_, domain, matches[i].second);
      if (!row) continue;  // deleted meanwhile
      auto c = ContactOfRow(*row);
      if (!c) return std::move(c).error();
      resources.push_back(scim::UserOf(*c, UserLocation(domain, c->id)));
    }
    json::object out;
    out["schemas"] = json::array{json::string(scim::kListResponseSchema)};
    out["totalResults"] = matches.size();
    out["startIndex"] = first;
    out["itemsPerPage"] = resources.size();
    out["Resources"] = std::move(resources);
    return out;
  });
  if (!page) co_return ScimError(page.error());
  co_return ScimResponse(200, *page);
}

}  // namespace galsync::server
