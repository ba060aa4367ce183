// The SCIM User resource <-> Contact mapping (galsync/scim.h has the table).
#include <algorithm>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "galsync/scim.h"
#include "scim/scim_schema.h"

namespace galsync::scim {

namespace json = boost::json;

namespace {

// Extra keys that SCIM attributes map to.
constexpr std::string_view kExtraUserName = "scim.userName";
constexpr std::string_view kExtraExternalId = "scim.externalId";
struct ExtraAttr {
  std::string_view scim;   // canonical attribute name
  std::string_view extra;  // contact extra key
  bool enterprise;
};
constexpr ExtraAttr kExtraAttrs[] = {
    {"externalId", kExtraExternalId, false},
    {"userType", "scim.userType", false},
    {"preferredLanguage", "scim.preferredLanguage", false},
    {"locale", "scim.locale", false},
    {"timezone", "scim.timezone", false},
    {"employeeNumber", "employee_number", true},
    {"costCenter", "cost_center", true},
    {"division", "division", true},
};

std::string_view ExtraOf(const Contact& c, std::string_view key) {
  for (const auto& [k, v] : c.extra) {
    if (k == key) return v;
  }
  return {};
}

void SetIf(json::object& o, std::string_view key, std::string_view v) {
  if (!v.empty()) o[key] = v;
}

Error BadValue(std::string message) {
  return Error::InvalidArgument("invalidValue", std::move(message));
}

// A string attribute: absent or null is "", anything but a string is an
// error.
Result<std::string> Str(const json::object& o, std::string_view key,
                        std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) {
    return BadValue(std::string(where) + std::string(key) + " must be a string");
  }
  return std::string(v->get_string());
}

// SCIM booleans; identity providers are known to send "True"/"False" too.
Result<bool> Bool(const json::value& v, std::string_view name) {
  if (v.is_bool()) return v.get_bool();
  if (v.is_string()) {
    std::string s = AsciiLower(v.get_string());
    if (s == "true") return true;
    if (s == "false") return false;
  }
  return BadValue(std::string(name) + " must be true or false");
}

// The elements of a multi-valued attribute, each an object. The element
// with "primary": true comes first.
Result<std::vector<const json::object*>> Elements(const json::object& o,
                                                  std::string_view key) {
  std::vector<const json::object*> out;
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) return BadValue(std::string(key) + " must be an array");
  for (const json::value& e : v->get_array()) {
    if (!e.is_object()) {
      return BadValue(std::string(key) + " must be an array of objects");
    }
    out.push_back(&e.get_object());
  }
  auto primary = std::find_if(out.begin(), out.end(), [](const json::object* e) {
    const json::value* p = e->if_contains("primary");
    if (p == nullptr) return false;
    auto primary = Bool(*p, "primary");
    return primary.ok() && *primary;
  });
  if (primary != out.end()) std::rotate(out.begin(), primary, primary + 1);
  return out;
}

// An element's type among `known`: "work" when it has none (as a contact's
// e-mail or phone without a type), "other" when it is another one.
std::string TypeOf(const json::object& e,
                   std::initializer_list<std::string_view> known) {
  const json::value* t = e.if_contains("type");
  if (t == nullptr || t->is_null()) return "work";
  if (!t->is_string()) return "other";
  std::string type = AsciiLower(t->get_string());
  for (std::string_view k : known) {
    if (type == k) return type;
  }
  return "other";
}

}  // namespace

std::string UserNameKey(std::string_view user_name) {
  return AsciiLower(user_name);
}

json::object UserOf(const Contact& c, std::string_view location) {
  json::object u;
  u["schemas"] = json::array{json::string(kUserSchema)};
  u["id"] = c.id;
  SetIf(u, "externalId", ExtraOf(c, kExtraExternalId));
  std::string_view user_name = ExtraOf(c, kExtraUserName);
  if (user_name.empty()) {
    user_name = c.emails.empty() ? std::string_view(c.id)
                                 : std::string_view(c.emails.front().address);
  }
  u["userName"] = user_name;
  json::object name;
  SetIf(name, "formatted", c.name.full);
  SetIf(name, "familyName", c.name.family);
  SetIf(name, "givenName", c.name.given);
  SetIf(name, "middleName", c.name.middle);
  SetIf(name, "honorificPrefix", c.name.prefix);
  SetIf(name, "honorificSuffix", c.name.suffix);
  if (!name.empty()) u["name"] = std::move(name);
  SetIf(u, "displayName", c.name.full);
  SetIf(u, "nickName", c.nickname);
  for (const Link& l : c.links) {
    if (l.type == "profile") {
      u["profileUrl"] = l.uri;
      break;
    }
  }
  SetIf(u, "title", c.title);
  for (const ExtraAttr& a : kExtraAttrs) {
    if (!a.enterprise && a.scim != "externalId") {
      SetIf(u, a.scim, ExtraOf(c, a.extra));
    }
  }
  u["active"] = !c.hidden;
  auto typed = [](std::string_view value, std::string_view type, bool first) {
    json::object e;
    e["value"] = value;
    e["type"] = type;
    if (first) e["primary"] = true;
    return e;
  };
  if (!c.emails.empty()) {
    json::array a;
    for (const Email& e : c.emails) a.push_back(typed(e.address, e.type, a.empty()));
    u["emails"] = std::move(a);
  }
  if (!c.phones.empty()) {
    json::array a;
    for (const Phone& p : c.phones) a.push_back(typed(p.number, p.type, a.empty()));
    u["phoneNumbers"] = std::move(a);
  }
  json::object adr;
  SetIf(adr, "streetAddress", c.office.street);
  SetIf(adr, "locality", c.office.locality);
  SetIf(adr, "region", c.office.region);
  SetIf(adr, "postalCode", c.office.postcode);
  SetIf(adr, "country", c.office.country);
  if (!adr.empty()) {
    adr["type"] = "work";
    adr["primary"] = true;
    u["addresses"] = json::array{std::move(adr)};
  }
  if (!c.photo.empty()) {
    u["photos"] = json::array{typed(c.photo, "photo", true)};
  }
  json::object ent;
  for (const ExtraAttr& a : kExtraAttrs) {
    if (a.enterprise) SetIf(ent, a.scim, ExtraOf(c, a.extra));
  }
  SetIf(ent, "organization", c.organization);
  SetIf(ent, "department", c.department);
  if (!c.manager.empty()) ent["manager"] = json::object{{"value", c.manager}};
  if (!ent.empty()) {
    u["schemas"].as_array().emplace_back(kEnterpriseSchema);
    u[kEnterpriseSchema] = std::move(ent);
  }
  json::object meta;
  meta["resourceType"] = "User";
  if (c.updated_us != 0) meta["lastModified"] = FormatTime(c.updated_us);
  meta["version"] = "W/\"" + c.version() + "\"";
  meta["location"] = location;
  u["meta"] = std::move(meta);
  return u;
}

Result<Contact> ContactOfUser(const json::object& body, Contact c,
                              std::string* user_name) {
  auto canonical = CanonicalUser(body);
  if (!canonical) return std::move(canonical).error();
  const json::object& u = *canonical;

  auto un = Str(u, "userName", "");
  if (!un) return std::move(un).error();
  if (un->empty()) return BadValue("userName is required");
  *user_name = std::move(*un);

  // Clear what SCIM maps; keep the rest of the contact.
  c.name = {};
  c.nickname.clear();
  c.title.clear();
  c.emails.clear();
  c.phones.clear();
  c.office = Office{.room = c.office.room};
  c.photo.clear();
  c.organization.clear();
  c.department.clear();
  c.manager.clear();
  c.hidden = false;
  std::erase_if(c.links, [](const Link& l) { return l.type == "profile"; });
  std::erase_if(c.extra, [](const auto& kv) {
    if (kv.first == kExtraUserName) return true;
    for (const ExtraAttr& a : kExtraAttrs) {
      if (kv.first == a.extra) return true;
    }
    return false;
  });
  std::vector<std::pair<std::string, std::string>> extra;
  extra.emplace_back(kExtraUserName, *user_name);

  if (const json::value* n = u.if_contains("name"); n && !n->is_null()) {
    if (!n->is_object()) return BadValue("name must be an object");
    const json::object& no = n->get_object();
    struct Part {
      std::string_view attr;
      std::string* field;
    };
    for (const Part& p : {Part{"givenName", &c.name.given},
                          Part{"familyName", &c.name.family},
                          Part{"middleName", &c.name.middle},
                          Part{"honorificPrefix", &c.name.prefix},
                          Part{"honorificSuffix", &c.name.suffix},
                          Part{"formatted", &c.name.full}}) {
      auto v = Str(no, p.attr, "name.");
      if (!v) return std::move(v).error();
      *p.field = std::move(*v);
    }
  }
  auto display = Str(u, "displayName", "");
  if (!display) return std::move(display).error();
  if (!display->empty()) c.name.full = std::move(*display);
  if (c.name.full.empty() && c.name.given.empty() && c.name.family.empty()) {
    c.name.full = *user_name;  // a contact needs a name to show
  }
  struct Text {
    std::string_view attr;
    std::string* field;
  };
  for (const Text& t : {Text{"nickName", &c.nickname}, Text{"title", &c.title}}) {
    auto v = Str(u, t.attr, "");
    if (!v) return std::move(v).error();
    *t.field = std::move(*v);
  }
  auto profile = Str(u, "profileUrl", "");
  if (!profile) return std::move(profile).error();
  if (!profile->empty()) {
    c.links.insert(c.links.begin(), Link{std::move(*profile), "profile"});
  }
  for (const ExtraAttr& a : kExtraAttrs) {
    if (a.enterprise) continue;
    auto v = Str(u, a.scim, "");
    if (!v) return std::move(v).error();
    if (!v->empty()) extra.emplace_back(a.extra, std::move(*v));
  }
  if (const json::value* a = u.if_contains("active"); a && !a->is_null()) {
    auto active = Bool(*a, "active");
    if (!active) return std::move(active).error();
    c.hidden = !*active;
  }

  auto emails = Elements(u, "emails");
  if (!emails) return std::move(emails).error();
  for (const json::object* e : *emails) {
    auto v = Str(*e, "value", "emails[].");
    if (!v) return std::move(v).error();
    if (v->empty()) return BadValue("emails[].value is required");
    c.emails.push_back({std::move(*v), TypeOf(*e, {"work", "home", "other"})});
  }
  auto phones = Elements(u, "phoneNumbers");
  if (!phones) return std::move(phones).error();
  for (const json::object* e : *phones) {
    auto v = Str(*e, "value", "phoneNumbers[].");
    if (!v) return std::move(v).error();
    if (v->empty()) return BadValue("phoneNumbers[].value is required");
    c.phones.push_back(
        {std::move(*v),
         TypeOf(*e, {"work", "home", "mobile", "fax", "pager", "other"})});
  }
  auto addresses = Elements(u, "addresses");
  if (!addresses) return std::move(addresses).error();
  if (!addresses->empty()) {
    // The work address; else the primary (first after Elements); else the
    // first.
    const json::object* a = addresses->front();
    for (const json::object* e : *addresses) {
      if (TypeOf(*e, {"work"}) == "work") {
        a = e;
        break;
      }
    }
    struct Part {
      std::string_view attr;
      std::string* field;
    };
    for (const Part& p : {Part{"streetAddress", &c.office.street},
                          Part{"locality", &c.office.locality},
                          Part{"region", &c.office.region},
                          Part{"postalCode", &c.office.postcode},
                          Part{"country", &c.office.country}}) {
      auto v = Str(*a, p.attr, "addresses[].");
      if (!v) return std::move(v).error();
      *p.field = std::move(*v);
    }
    if (c.office.street.empty()) {
      auto f = Str(*a, "formatted", "addresses[].");
      if (!f) return std::move(f).error();
      c.office.street = std::move(*f);
    }
  }
  auto photos = Elements(u, "photos");
  if (!photos) return std::move(photos).error();
  if (!photos->empty()) {
    auto v = Str(*photos->front(), "value", "photos[].");
    if (!v) return std::move(v).error();
    c.photo = std::move(*v);
  }

  if (const json::value* e = u.if_contains(kEnterpriseSchema);
      e && !e->is_null()) {
    if (!e->is_object()) {
      return BadValue(std::string(kEnterpriseSchema) + " must be an object");
    }
    const json::object& eo = e->get_object();
    for (const ExtraAttr& a : kExtraAttrs) {
      if (!a.enterprise) continue;
      auto v = Str(eo, a.scim, "");
      if (!v) return std::move(v).error();
      if (!v->empty()) extra.emplace_back(a.extra, std::move(*v));
    }
    for (const Text& t : {Text{"organization", &c.organization},
                          Text{"department", &c.department}}) {
      auto v = Str(eo, t.attr, "");
      if (!v) return std::move(v).error();
      *t.field = std::move(*v);
    }
    if (const json::value* m = eo.if_contains("manager"); m && !m->is_null()) {
      // {"value": id}; some providers send the id as a plain string.
      if (m->is_string()) {
        c.manager = std::string(m->get_string());
      } else if (m->is_object()) {
        auto v = Str(m->get_object(), "value", "manager.");
        if (!v) return std::move(v).error();
        c.manager = std::move(*v);
      } else {
        return BadValue("manager must be an object {\"value\": \"<id>\"}");
      }
    }
  }
  for (auto& kv : extra) c.extra.push_back(std::move(kv));
  std::sort(c.extra.begin(), c.extra.end());
  return c;
}

}  // namespace galsync::scim
