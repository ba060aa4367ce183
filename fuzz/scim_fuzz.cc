// Fuzz target: SCIM input. The first byte picks the parser: a list filter,
// a PATCH path, a PATCH body applied to a fixed user, or a User resource
// made into a contact. Whatever parses is used (matched, applied, mapped
// back), so the code after each parser runs on what it lets through.
#include <cstdint>
#include <string_view>

#include <boost/json.hpp>

#include "galsync/scim.h"

namespace {

const boost::json::object& Someone() {
  static const boost::json::object u = [] {
    galsync::Contact c;
    c.id = "u1";
    c.name.given = "Ann";
    c.name.family = "Lee";
    c.emails.push_back({"ann@example.com", "work"});
    c.phones.push_back({"+1 555 0100", "mobile"});
    c.office.street = "1 Main St";
    c.manager = "u0";
    c.extra.emplace_back("scim.userName", "ann");
    return galsync::scim::UserOf(c, "/u1");
  }();
  return u;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace scim = galsync::scim;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto f = scim::ParseFilter(text);
      if (f.ok()) (void)scim::Matches(*f, Someone());
      break;
    }
    case 1:
      (void)scim::ParsePatchPath(text);
      break;
    default: {
      boost::json::parse_options opts;
      opts.max_depth = 32;
      boost::json::error_code ec;
      boost::json::value v = boost::json::parse(text, ec, {}, opts);
      if (ec) break;
      galsync::Contact base;
      base.id = "u1";
      std::string user_name;
      if (data[0] % 4 == 2) {
        boost::json::object u = Someone();
        if (!scim::ApplyPatch(v, u).ok()) break;
        (void)scim::ContactOfUser(u, base, &user_name);
      } else if (v.is_object()) {
        auto c = scim::ContactOfUser(v.get_object(), base, &user_name);
        if (c.ok()) (void)galsync::ParseContactJson(galsync::CanonicalContentJson(*c));
      }
    }
  }
  return 0;
}
