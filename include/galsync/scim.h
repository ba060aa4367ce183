// SCIM 2.0 for identity providers that push people into a domain: the
// User resource (RFC 7643) mapped onto a Contact, the filter language and
// PATCH (RFC 7644). The HTTP side is src/server/scim_api.cc; this is the
// part that knows SCIM's shapes and nothing of HTTP or the store.
//
// The mapping (docs/scim.md has the full table):
//
//   SCIM User                        Contact
//   -------------------------------  ------------------------------------
//   id                               id
//   userName                         the owner key (source "scim", key =
//                                    userName in ASCII lower case, unique
//                                    per domain) and extra "scim.userName"
//   externalId                       extra "scim.externalId"
//   name.givenName/familyName/       name.given/family/middle/prefix/
//     middleName/honorificPrefix/      suffix
//     honorificSuffix
//   displayName (else name.formatted) name.full
//   nickName, title                  nickname, title
//   profileUrl                       the first link of type "profile"
//   emails[] value/type/primary      emails (primary first; types work,
//                                    home, other)
//   phoneNumbers[] value/type/primary phones (work home mobile fax pager
//                                    other)
//   addresses[] (the "work" one, or  office street/locality/region/
//     the primary, or the first)       postcode/country
//   photos[] (the primary or first)  photo
//   active (default true)            !hidden
//   userType, preferredLanguage,     extra "scim.userType", ...
//     locale, timezone
//   enterprise extension:
//     employeeNumber, costCenter,    extra "employee_number",
//     division                         "cost_center", "division"
//     organization, department       organization, department
//     manager.value                  manager
//   meta.version / lastModified      W/"<seq>" / updated
//
// Attributes SCIM has no name for (office.room, links other than the
// profile URL, other extra keys) are kept when a user is replaced.
// Attributes galsync does not store (password, ims, roles, entitlements,
// x509Certificates, other extensions) are accepted and dropped; groups is
// read-only and never returned. Attribute names are case-insensitive.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "galsync/contact.h"
#include "galsync/status.h"

namespace galsync::scim {

inline constexpr std::string_view kUserSchema =
    "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr std::string_view kEnterpriseSchema =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr std::string_view kListResponseSchema =
    "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr std::string_view kPatchOpSchema =
    "urn:ietf:params:scim:api:messages:2.0:PatchOp";
inline constexpr std::string_view kErrorSchema =
    "urn:ietf:params:scim:api:messages:2.0:Error";

// The import source that owns the contacts SCIM creates.
inline constexpr std::string_view kSource = "scim";

// Errors carry SCIM's scimType (RFC 7644 3.12) as their reason:
// invalidFilter, invalidPath, noTarget, invalidValue, invalidSyntax,
// mutability, uniqueness, tooMany.

// The owner key of a userName: its ASCII lower-case form (userName is
// case-insensitive, RFC 7643 4.1.1).
std::string UserNameKey(std::string_view user_name);

// The User resource of a contact; `location` is its URL, for
// meta.location. A contact SCIM did not create has no userName of its own:
// its first e-mail address, else its id, stands in.
boost::json::object UserOf(const Contact& c, std::string_view location);

// Builds the contact a User resource describes, on top of `base` (the
// contact as it is, or an empty one with just an id): every attribute SCIM
// maps is taken from `user` (absent = cleared), the rest of `base` is kept.
// Sets `user_name` to the userName. Read-only attributes (id, meta, groups)
// are ignored. kInvalidArgument "invalidValue" when userName is missing or
// a value has the wrong type; the contact is validated by the caller
// (ContactFromJson rules).
Result<Contact> ContactOfUser(const boost::json::object& user, Contact base,
                              std::string* user_name);

// ---------------------------------------------------------------------------
// Filters (RFC 7644 3.4.2.2) and attribute paths.
//
//   filter    = or-exp
//   or-exp    = and-exp *("or" and-exp)
//   and-exp   = unary *("and" unary)
//   unary     = "not" "(" filter ")" / "(" filter ")" / attr-exp / value-path
//   attr-exp  = path "pr" / path compare-op value
//   value-path= path "[" filter "]"          (filter relative to the element)
//   compare-op= eq / ne / co / sw / ew / gt / ge / lt / le   (any case)
//   value     = "string" (JSON escapes) / true / false / null / number
//   path      = [schema-urn ":"] name ["." name]
//
// Strings compare without regard to case, except id, externalId and
// meta.version (caseExact in RFC 7643). A comparison on a multi-valued
// attribute holds if it holds for any value; "emails eq x" compares the
// "value" sub-attribute.

struct AttrPath {
  bool enterprise = false;  // an attribute of the enterprise extension
  // Canonical name: "userName", "emails", "department"; inside a value
  // path's brackets, a sub-attribute of the element ("type"). Empty with
  // `enterprise`: the whole extension (a PATCH path may name it).
  std::string attr;
  std::string sub;   // canonical sub-attribute, or ""
};

struct Filter {
  enum class Kind { kCompare, kPresent, kAnd, kOr, kNot, kValuePath };
  Kind kind = Kind::kCompare;
  AttrPath path;                // kCompare, kPresent, kValuePath
  std::string op;               // kCompare: eq ne co sw ew gt ge lt le
  boost::json::value value;     // kCompare
  bool case_exact = false;      // kCompare: strings compare as they are
  std::vector<Filter> children; // kAnd/kOr: 2; kNot and kValuePath: 1
};

// Limits of the parser, so that a hostile filter costs bounded work.
struct FilterLimits {
  static constexpr size_t kMaxBytes = 4096;
  static constexpr int kMaxDepth = 16;  // nested parentheses and brackets
  static constexpr size_t kMaxTerms = 64;
};

// kInvalidArgument "invalidFilter" with a message naming the position.
Result<Filter> ParseFilter(std::string_view text);
// Whether `resource` (a User object, or an element of a multi-valued
// attribute for the inside of a value path) matches.
bool Matches(const Filter& f, const boost::json::object& resource);
// If the filter is `userName eq "<x>"`, returns x (the lookup a store can
// answer from its index instead of a scan).
std::optional<std::string> UserNameEquals(const Filter& f);

// A PATCH path: attr-path, or value-path with an optional ".sub" after the
// closing bracket, e.g. emails[type eq "work"].value.
struct PatchPath {
  AttrPath path;
  std::shared_ptr<Filter> filter;  // the value filter, if any
};
// kInvalidArgument "invalidPath".
Result<PatchPath> ParsePatchPath(std::string_view text);

// ---------------------------------------------------------------------------
// PATCH (RFC 7644 3.5.2)

struct PatchLimits {
  static constexpr size_t kMaxOperations = 100;
};

// Applies a PatchOp request body ({"schemas":[PatchOp],"Operations":[...]})
// to `user` (a User resource from UserOf), all operations or none.
// Operation names are case-insensitive ("Add", "replace", ...); an
// operation without a path takes an object whose members are paths (so
// {"name.givenName": "Ann"} works too). Errors: invalidSyntax (malformed
// body), invalidPath, noTarget (replace or remove of a value path that
// matches nothing), mutability (a read-only attribute), invalidValue.
Status ApplyPatch(const boost::json::value& body, boost::json::object& user);

}  // namespace galsync::scim
