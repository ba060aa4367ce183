// The SCIM User schema table (scim/scim_schema.h).
#include "scim/scim_schema.h"

#include <boost/json.hpp>

namespace galsync::scim {

namespace json = boost::json;

namespace {

constexpr std::string_view kNameSubs[] = {
    "formatted", "familyName", "givenName", "middleName", "honorificPrefix",
    "honorificSuffix", ""};
constexpr std::string_view kMultiSubs[] = {"value", "display", "type",
                                           "primary", ""};
constexpr std::string_view kAddressSubs[] = {
    "formatted", "streetAddress", "locality", "region", "postalCode",
    "country", "type", "primary", ""};
constexpr std::string_view kRefSubs[] = {"value", "$ref", "display", "type",
                                         ""};
constexpr std::string_view kMetaSubs[] = {"resourceType", "created",
                                          "lastModified", "location",
                                          "version", ""};
constexpr std::string_view kManagerSubs[] = {"value", "$ref", "displayName",
                                             ""};

//   name, enterprise, multi-valued, read-only, case-exact, sub-attributes
constexpr AttrInfo kAttributes[] = {
    {"id", false, false, true, true, nullptr},
    {"externalId", false, false, false, true, nullptr},
    {"userName", false, false, false, false, nullptr},
    {"name", false, false, false, false, kNameSubs},
    {"displayName", false, false, false, false, nullptr},
    {"nickName", false, false, false, false, nullptr},
    {"profileUrl", false, false, false, false, nullptr},
    {"title", false, false, false, false, nullptr},
    {"userType", false, false, false, false, nullptr},
    {"preferredLanguage", false, false, false, false, nullptr},
    {"locale", false, false, false, false, nullptr},
    {"timezone", false, false, false, false, nullptr},
    {"active", false, false, false, false, nullptr},
    {"password", false, false, false, false, nullptr},
    {"emails", false, true, false, false, kMultiSubs},
    {"phoneNumbers", false, true, false, false, kMultiSubs},
    {"ims", false, true, false, false, kMultiSubs},
    {"photos", false, true, false, false, kMultiSubs},
    {"addresses", false, true, false, false, kAddressSubs},
    {"groups", false, true, true, false, kRefSubs},
    {"entitlements", false, true, false, false, kMultiSubs},
    {"roles", false, true, false, false, kMultiSubs},
    {"x509Certificates", false, true, false, false, kMultiSubs},
    {"meta", false, false, true, true, kMetaSubs},
    {"employeeNumber", true, false, false, false, nullptr},
    {"costCenter", true, false, false, false, nullptr},
    {"organization", true, false, false, false, nullptr},
    {"division", true, false, false, false, nullptr},
    {"department", true, false, false, false, nullptr},
    {"manager", true, false, false, false, kManagerSubs},
};

}  // namespace

const AttrInfo* FindAttr(std::string_view name, bool enterprise) {
  for (const AttrInfo& a : kAttributes) {
    if (a.enterprise == enterprise && EqualsIgnoreAsciiCase(a.name, name)) return &a;
  }
  return nullptr;
}

bool NamesKnownAttribute(std::string_view path) {
  if (EqualsIgnoreAsciiCase(path, kEnterpriseSchema)) return true;
  bool enterprise = false;
  if (path.size() > 4 && EqualsIgnoreAsciiCase(path.substr(0, 4), "urn:")) {
    const size_t colon = path.rfind(':');
    const std::string_view urn = path.substr(0, colon);
    if (EqualsIgnoreAsciiCase(urn, kEnterpriseSchema)) {
      enterprise = true;
    } else if (!EqualsIgnoreAsciiCase(urn, kUserSchema)) {
      return false;
    }
    path = path.substr(colon + 1);
  }
  const size_t end = path.find_first_of(".[");
  return FindAttr(path.substr(0, end), enterprise) != nullptr;
}

std::string_view CanonicalSub(const AttrInfo& attr, std::string_view sub) {
  if (attr.subs == nullptr) return {};
  for (const std::string_view* s = attr.subs; !s->empty(); ++s) {
    if (EqualsIgnoreAsciiCase(*s, sub)) return *s;
  }
  return {};
}

json::value CanonicalValue(const AttrInfo& a, const json::value& v) {
  if (a.subs == nullptr) return v;
  auto one = [&](const json::value& e) -> json::value {
    if (!e.is_object()) return e;
    json::object out;
    for (const auto& kv : e.get_object()) {
      std::string_view sub = CanonicalSub(a, kv.key());
      if (!sub.empty()) out[sub] = kv.value();
    }
    return out;
  };
  if (a.multi_valued && v.is_array()) {
    json::array out;
    for (const json::value& e : v.get_array()) out.push_back(one(e));
    return out;
  }
  return one(v);
}

Result<json::object> CanonicalUser(const json::object& user) {
  json::object out;
  for (const auto& kv : user) {
    if (EqualsIgnoreAsciiCase(kv.key(), kEnterpriseSchema)) {
      if (kv.value().is_null()) continue;
      if (!kv.value().is_object()) {
        return Error::InvalidArgument(
            "invalidValue",
            std::string(kEnterpriseSchema) + " must be an object");
      }
      json::object ext;
      for (const auto& e : kv.value().get_object()) {
        if (const AttrInfo* a = FindAttr(e.key(), true)) {
          ext[a->name] = CanonicalValue(*a, e.value());
        }
      }
      out[kEnterpriseSchema] = std::move(ext);
    } else if (const AttrInfo* a = FindAttr(kv.key(), false)) {
      out[a->name] = CanonicalValue(*a, kv.value());
    }
  }
  return out;
}

}  // namespace galsync::scim
