// Visibility policy: what of a domain's directory a key without the
// `private` scope may see.
//
// Two things are withheld from such keys (the *public view*):
//   - hidden contacts (Contact::hidden, e.g. service accounts): the public
//     view does not have them at all; in the change feed they appear as
//     deletes, so a replica that had one drops it when it becomes hidden;
//   - private attributes, named per domain by its policy (e.g. mobile
//     phones): removed from every contact the public view serves.
// Keys with the `private` scope get the *full view*: every contact as stored.
//
// A policy names attributes from a fixed vocabulary (see kAttributeNames in
// visibility.cc and docs/api.md): whole members ("phones", "office", ...),
// typed entries ("phones.mobile", "emails.home", ...) and single free-form
// attributes ("extra.badge"). The name and id are never private.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "galsync/contact.h"
#include "galsync/status.h"

namespace galsync {

enum class View : uint8_t {
  kFull = 0,    // keys with the private scope: everything as stored
  kPublic = 1,  // everyone else: hidden contacts and private attributes withheld
};
std::string_view ViewName(View v);  // "full" | "public"

struct VisibilityPolicy {
  // Attribute names, sorted and unique (the canonical form).
  std::vector<std::string> private_attributes;

  bool empty() const { return private_attributes.empty(); }
  bool operator==(const VisibilityPolicy&) const = default;
};

// Limits on a policy, named in docs/api.md.
struct PolicyLimits {
  static constexpr size_t kMaxAttributes = 64;
};

// Decodes {"private_attributes": [names...]}. kInvalidArgument with reason
// "invalid_policy" naming the offending member or attribute.
Result<VisibilityPolicy> PolicyFromJson(const boost::json::value& json);
// Parses the stored text form; "" is the empty policy.
Result<VisibilityPolicy> ParsePolicyJson(std::string_view text);
// The canonical text form: {"private_attributes":[...]}.
std::string PolicyJson(const VisibilityPolicy& policy);

// Removes the policy's private attributes from `c` in place; returns
// whether it had any.
bool RemovePrivateAttributes(const VisibilityPolicy& policy, Contact& c);

// Decides, per stored contact JSON, what the public view serves. Built once
// per policy; cheap to consult: a contact whose JSON contains none of the
// member names the policy (and hiddenness) depend on is served as stored
// without being parsed. A '"' inside a JSON string is always escaped, so a
// quoted member name followed by ':' in the canonical JSON only occurs as
// member syntax; the test may still say "maybe" for a free-form key that
// looks like a member name, and then the contact is parsed to be sure.
class PublicProjection {
 public:
  explicit PublicProjection(VisibilityPolicy policy);

  const VisibilityPolicy& policy() const { return policy_; }

  enum class Kind {
    kAsStored,  // nothing to withhold: serve the stored bytes
    kRedacted,  // serve `json` instead
    kHidden,    // the contact is hidden: the public view does not have it
  };
  struct Projected {
    Kind kind = Kind::kAsStored;
    std::string json;  // for kRedacted: the stored form without private data
  };
  // `stored_json` is a live contact's stored form (StoredContactJson).
  Projected Project(std::string_view stored_json) const;

  // Whether the public view of the contact differs between policies `a` and
  // `b` (hidden contacts are withheld under both, so never differ).
  static bool Differs(const PublicProjection& a, const PublicProjection& b,
                      std::string_view stored_json);

 private:
  bool MayApply(std::string_view stored_json) const;

  VisibilityPolicy policy_;
  std::vector<std::string> markers_;  // member syntax the policy depends on
};

}  // namespace galsync
