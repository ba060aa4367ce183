// ContactObject (see contact_object.h).
#include "formats/contact_object.h"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

namespace galsync::formats {
namespace json = boost::json;

namespace {

bool IsSpaceOrControl(unsigned char c) { return c <= 0x20 || c == 0x7f; }


}  // namespace

std::string CleanValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool gap = false;  // a run of spaces or controls waits to become one space
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsSpaceOrControl(c)) {
      gap = true;
      continue;
    }
    if (gap && !out.empty()) out.push_back(' ');
    gap = false;
    out.push_back(ch);
  }
  return out;
}


json::object& ContactObject::Sub(std::string_view member) {
  json::value& v = o_[member];
  if (!v.is_object()) v = json::object(o_.storage());
  return v.get_object();
}

void ContactObject::Set(std::string_view member, std::string_view value) {
  std::string v = CleanValue(value);
  if (!v.empty()) o_[member] = v;
}

void ContactObject::SetIfUnset(std::string_view member,
                               std::string_view value) {
  if (!o_.contains(member)) Set(member, value);
}

void ContactObject::SetName(std::string_view part, std::string_view value) {
  std::string v = CleanValue(value);
  if (!v.empty()) Sub("name")[part] = v;
}

void ContactObject::SetOffice(std::string_view part, std::string_view value) {
  std::string v = CleanValue(value);
  if (!v.empty()) Sub("office")[part] = v;
}

void ContactObject::AddTyped(std::string_view array,
                             std::string_view value_member,
                             std::string_view value, std::string_view type) {
  std::string v = CleanValue(value);
  if (v.empty()) return;
  json::value& a = o_[array];
  if (!a.is_array()) a = json::array(o_.storage());
  for (const json::value& e : a.get_array()) {
    const json::string& have = e.at(value_member).get_string();
    if (EqualsIgnoreAsciiCase(have, v)) return;
  }
  a.get_array().push_back(
      json::object({{value_member, v}, {"type", type}}, o_.storage()));
}

void ContactObject::AddEmail(std::string_view address, std::string_view type) {
  AddTyped("emails", "address", address, type);
}

void ContactObject::AddPhone(std::string_view number, std::string_view type) {
  AddTyped("phones", "number", number, type);
}

void ContactObject::AddLink(std::string_view uri, std::string_view type) {
  AddTyped("links", "uri", uri, type);
}

void ContactObject::AddExtra(std::string_view key, std::string_view value) {
  std::string v = CleanValue(value);
  if (v.empty() || key.empty()) return;
  Sub("extra")[key] = v;
}

}  // namespace galsync::formats
