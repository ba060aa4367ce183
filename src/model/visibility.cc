// Visibility policy and the public view; see galsync/visibility.h.
#include "galsync/visibility.h"

#include <string.h>

#include <algorithm>
#include <array>

#include <boost/json.hpp>

namespace galsync {
namespace json = boost::json;
namespace {

// Whole members a policy can make private.
constexpr std::array<std::string_view, 11> kMembers = {
    "nickname", "emails", "phones",  "title", "department", "organization",
    "manager",  "office", "links",   "photo", "extra"};
// Typed entries: "emails.<type>" and "phones.<type>".
constexpr std::array<std::string_view, 3> kEmailTypes = {"work", "home",
                                                         "other"};
constexpr std::array<std::string_view, 6> kPhoneTypes = {
    "work", "home", "mobile", "fax", "pager", "other"};

bool Contains(auto& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// The free-form key of "extra.<key>", or "" if `name` is not of that form.
// Keys follow the contact codec's rule: 1..64 of A-Z a-z 0-9 _ . : -
std::string_view ExtraKeyOf(std::string_view name) {
  constexpr std::string_view kPrefix = "extra.";
  if (!name.starts_with(kPrefix)) return {};
  std::string_view key = name.substr(kPrefix.size());
  if (key.empty() || key.size() > ContactLimits::kMaxExtraKeyBytes) return {};
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                    c == ':' || c == '-';
    if (!ok) return {};
  }
  return key;
}

// "phones.mobile" -> {"phones", "mobile"}; {name, ""} without a dot.
std::pair<std::string_view, std::string_view> Split(std::string_view name) {
  size_t dot = name.find('.');
  if (dot == std::string_view::npos) return {name, {}};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

bool IsAttributeName(std::string_view name) {
  if (Contains(kMembers, name)) return true;
  auto [member, sub] = Split(name);
  if (member == "emails") return Contains(kEmailTypes, sub);
  if (member == "phones") return Contains(kPhoneTypes, sub);
  return !ExtraKeyOf(name).empty();
}

Error InvalidPolicy(std::string message) {
  return Error::InvalidArgument("invalid_policy", std::move(message));
}

// The member syntax in a contact's canonical JSON whose presence an
// attribute depends on: `"phones":` for "phones", `"type":"mobile"` for
// "phones.mobile", `"badge":` for "extra.badge".
std::string MarkerOf(std::string_view name) {
  if (Contains(kMembers, name)) return "\"" + std::string(name) + "\":";
  if (std::string_view key = ExtraKeyOf(name); !key.empty()) {
    return "\"" + std::string(key) + "\":";
  }
  return "\"type\":\"" + std::string(Split(name).second) + "\"";
}

constexpr std::string_view kHiddenMarker = "\"hidden\":true";

}  // namespace

std::string_view ViewName(View v) {
  return v == View::kFull ? "full" : "public";
}

Result<VisibilityPolicy> PolicyFromJson(const json::value& v) {
  const json::object* o = v.if_object();
  if (o == nullptr) {
    return InvalidPolicy("a policy is a JSON object: "
                         "{\"private_attributes\": [...]}");
  }
  VisibilityPolicy p;
  for (const auto& kv : *o) {
    if (kv.key() != "private_attributes") {
      return InvalidPolicy("unknown field \"" + std::string(kv.key()) +
                           "\"; a policy has only \"private_attributes\"");
    }
    const json::array* list = kv.value().if_array();
    if (list == nullptr) {
      return InvalidPolicy("private_attributes: expected an array of names");
    }
    if (list->size() > PolicyLimits::kMaxAttributes) {
      return InvalidPolicy("private_attributes: at most " +
                           std::to_string(PolicyLimits::kMaxAttributes) +
                           " names are allowed");
    }
    for (size_t i = 0; i < list->size(); ++i) {
      const json::string* name = (*list)[i].if_string();
      if (name == nullptr || !IsAttributeName(*name)) {
        std::string shown =
            name ? "\"" + std::string(name->subview().substr(0, 80)) + "\""
                 : "a " + std::string(json::to_string((*list)[i].kind()));
        return InvalidPolicy(
            "private_attributes[" + std::to_string(i) + "]: " + shown +
            " is not an attribute that can be private; use nickname, "
            "emails, emails.<work|home|other>, phones, "
            "phones.<work|home|mobile|fax|pager|other>, title, department, "
            "organization, manager, office, links, photo, extra or "
            "extra.<key>");
      }
      p.private_attributes.emplace_back(*name);
    }
  }
  std::sort(p.private_attributes.begin(), p.private_attributes.end());
  p.private_attributes.erase(
      std::unique(p.private_attributes.begin(), p.private_attributes.end()),
      p.private_attributes.end());
  return p;
}

Result<VisibilityPolicy> ParsePolicyJson(std::string_view text) {
  if (text.empty()) return VisibilityPolicy{};
  json::parse_options opts;
  opts.max_depth = 4;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec) return InvalidPolicy("the policy is not valid JSON: " + ec.message());
  return PolicyFromJson(v);
}

std::string PolicyJson(const VisibilityPolicy& policy) {
  json::array list;
  for (const std::string& name : policy.private_attributes) {
    list.emplace_back(name);
  }
  json::object o;
  o["private_attributes"] = std::move(list);
  return json::serialize(o);
}

bool RemovePrivateAttributes(const VisibilityPolicy& policy, Contact& c) {
  bool removed = false;
  auto clear = [&removed](auto& member) {
    if (member == std::remove_reference_t<decltype(member)>{}) return;
    member = {};
    removed = true;
  };
  for (const std::string& name : policy.private_attributes) {
    // Plain variables, not a structured binding: lambdas below capture them.
    const auto parts = Split(name);
    const std::string_view member = parts.first, sub = parts.second;
    if (name == "nickname") clear(c.nickname);
    else if (name == "emails") clear(c.emails);
    else if (name == "phones") clear(c.phones);
    else if (name == "title") clear(c.title);
    else if (name == "department") clear(c.department);
    else if (name == "organization") clear(c.organization);
    else if (name == "manager") clear(c.manager);
    else if (name == "office") clear(c.office);
    else if (name == "links") clear(c.links);
    else if (name == "photo") clear(c.photo);
    else if (name == "extra") clear(c.extra);
    else if (member == "emails") {
      removed |= std::erase_if(c.emails,
                               [&](const Email& e) { return e.type == sub; }) > 0;
    } else if (member == "phones") {
      removed |= std::erase_if(c.phones,
                               [&](const Phone& p) { return p.type == sub; }) > 0;
    } else if (member == "extra") {
      removed |= std::erase_if(c.extra,
                               [&](const auto& kv) { return kv.first == sub; }) > 0;
    }
  }
  return removed;
}

PublicProjection::PublicProjection(VisibilityPolicy policy)
    : policy_(std::move(policy)) {
  markers_.emplace_back(kHiddenMarker);  // [0]: checked apart, by position
  for (const std::string& name : policy_.private_attributes) {
    std::string m = MarkerOf(name);
    if (!Contains(markers_, m)) markers_.push_back(std::move(m));
  }
}

bool PublicProjection::MayApply(std::string_view stored_json) const {
  // Hidden first, in O(id): the canonical form puts "hidden" right after
  // the id, whose characters need no escaping.
  constexpr std::string_view kIdStart = "{\"id\":\"";
  if (stored_json.starts_with(kIdStart)) {
    const size_t end = stored_json.find('"', kIdStart.size());
    if (end != std::string_view::npos &&
        stored_json.substr(end + 1).starts_with(',') &&
        stored_json.substr(end + 2).starts_with(kHiddenMarker)) {
      return true;
    }
  }
  // glibc's memmem (two-way) is several times faster than a naive search
  // over JSON, where the first byte of every marker, '"', is everywhere.
  for (size_t i = 1; i < markers_.size(); ++i) {
    const std::string& m = markers_[i];
    if (memmem(stored_json.data(), stored_json.size(), m.data(), m.size())) {
      return true;
    }
  }
  return false;
}

PublicProjection::Projected PublicProjection::Project(
    std::string_view stored_json) const {
  Projected out;
  if (!MayApply(stored_json)) return out;
  auto c = ParseContactJson(stored_json);
  // Stored JSON is the codec's own output; were it ever unreadable, serve
  // nothing of it rather than risk serving what the policy withholds.
  if (!c || c->hidden) {
    out.kind = Kind::kHidden;
    return out;
  }
  if (!RemovePrivateAttributes(policy_, *c)) return out;
  out.kind = Kind::kRedacted;
  out.json = StoredContactJson(CanonicalContentJson(*c), c->domain, c->seq,
                               c->updated_us);
  return out;
}

bool PublicProjection::Differs(const PublicProjection& a,
                               const PublicProjection& b,
                               std::string_view stored_json) {
  if (!a.MayApply(stored_json) && !b.MayApply(stored_json)) return false;
  auto c = ParseContactJson(stored_json);
  if (!c) return true;  // cannot tell: re-serve it
  if (c->hidden) return false;
  Contact under_a = *c;
  Contact under_b = std::move(*c);
  RemovePrivateAttributes(a.policy_, under_a);
  RemovePrivateAttributes(b.policy_, under_b);
  return !under_a.SameContent(under_b);
}

}  // namespace galsync
