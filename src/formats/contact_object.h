// ContactObject: builds a contact's JSON object in the API's shape
// (docs/api.md, "Contact") one field at a time, as a source reader finds
// the fields. It is not a validator: ContactFromJson judges the result.
//
// Every value is cleaned on the way in: surrounding white space is trimmed,
// and line breaks, tabs and other control characters become single spaces
// (a two-line street address in a vCard is one line in galsync). Empty
// values are dropped, so a blank CSV cell sets nothing.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "util/ascii.h"

namespace galsync::formats {

class ContactObject {
 public:
  // The object, and everything in it, lives in `storage`.
  explicit ContactObject(boost::json::storage_ptr storage = {})
      : o_(std::move(storage)) {}

  // A top-level text member: "id", "nickname", "title", "department",
  // "organization", "manager", "photo". Replaces an earlier value.
  void Set(std::string_view member, std::string_view value);
  // Like Set, but only when the member is not set yet.
  void SetIfUnset(std::string_view member, std::string_view value);
  // name.<part>: "full", "prefix", "given", "middle", "family", "suffix".
  void SetName(std::string_view part, std::string_view value);
  // office.<part>: "room", "street", "locality", "region", "postcode",
  // "country".
  void SetOffice(std::string_view part, std::string_view value);
  // Appended in order; an address or number already present (ASCII case
  // ignored) is not added twice.
  void AddEmail(std::string_view address, std::string_view type);
  void AddPhone(std::string_view number, std::string_view type);
  void AddLink(std::string_view uri, std::string_view type);
  void AddExtra(std::string_view key, std::string_view value);

  bool Has(std::string_view member) const { return o_.contains(member); }
  bool empty() const { return o_.empty(); }
  boost::json::object Take() { return std::move(o_); }

 private:
  void AddTyped(std::string_view array, std::string_view value_member,
                std::string_view value, std::string_view type);
  boost::json::object& Sub(std::string_view member);

  boost::json::object o_;
};

// `value` trimmed, with every run of control characters made one space.
std::string CleanValue(std::string_view value);

}  // namespace galsync::formats
