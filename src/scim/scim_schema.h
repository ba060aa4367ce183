// The SCIM User schema as galsync knows it (RFC 7643 4.1 and 4.3): which
// attributes exist, their canonical spelling (attribute names are
// case-insensitive), which are multi-valued, complex, read-only or
// case-exact. One table, kAttributes in scim_schema.cc, answers all of it.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "galsync/scim.h"
#include "galsync/status.h"
#include "util/ascii.h"

namespace galsync::scim {


struct AttrInfo {
  std::string_view name;
  bool enterprise;
  bool multi_valued;
  bool read_only;
  bool case_exact;
  // Sub-attributes of a complex attribute, "" terminated; none: simple.
  const std::string_view* subs;
};

// The attribute `name` (any case) of the core schema, or of the enterprise
// extension when `enterprise`; null if unknown.
const AttrInfo* FindAttr(std::string_view name, bool enterprise);
// Whether a path ("title", "name.givenName", "emails[...]", with or without
// a schema URN) starts with an attribute of the schema, or names the
// enterprise extension itself.
bool NamesKnownAttribute(std::string_view path);

// The canonical spelling of `sub` in `attr`; "" if unknown.
std::string_view CanonicalSub(const AttrInfo& attr, std::string_view sub);

// A copy of a complex value (or of each element of a multi-valued one)
// with canonical sub-attribute names; unknown sub-attributes are dropped.
boost::json::value CanonicalValue(const AttrInfo& attr,
                                  const boost::json::value& v);

// A copy of a User object with canonical attribute names throughout;
// attributes galsync does not know, and "schemas", are dropped. kInvalidArgument
// "invalidValue" if the enterprise extension's member is not an object.
Result<boost::json::object> CanonicalUser(const boost::json::object& user);

}  // namespace galsync::scim
