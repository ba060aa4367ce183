// SCIM PATCH (RFC 7644 3.5.2) on a User resource (galsync/scim.h).
//
// Operations apply in order to a copy of the resource, which replaces the
// original only when every operation succeeded. Each operation is
//   add      multi-valued: append; complex: merge sub-attributes; else set
//   replace  multi-valued: the new list; complex: merge; else set
//   remove   the attribute, the sub-attribute, or the matching elements
// and, with a value filter, applies to the elements it matches. An add
// whose filter matches nothing makes the element the filter describes
// ("emails[type eq \"work\"].value" adds a work address); a replace whose
// filter matches nothing is noTarget, as the RFC requires.
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "galsync/scim.h"
#include "scim/scim_schema.h"

namespace galsync::scim {

namespace json = boost::json;

namespace {

enum class Op { kAdd, kReplace, kRemove };

Error Syntax(std::string message) {
  return Error::InvalidArgument("invalidSyntax", std::move(message));
}

// The object holding the path's attribute: the resource, or the enterprise
// extension (made when `create`); null if absent.
json::object* Container(json::object& user, const AttrPath& p, bool create) {
  if (!p.enterprise) return &user;
  json::value* ext = user.if_contains(kEnterpriseSchema);
  if (ext == nullptr || !ext->is_object()) {
    if (!create) return nullptr;
    ext = &(user[kEnterpriseSchema] = json::object());
  }
  return &ext->get_object();
}

// Fills `element` with the attribute values a filter of equalities
// (`a eq "x" and b eq "y"`) describes; false for any other filter.
bool ElementOfFilter(const Filter& f, json::object& element) {
  if (f.kind == Filter::Kind::kAnd) {
    return ElementOfFilter(f.children[0], element) &&
           ElementOfFilter(f.children[1], element);
  }
  if (f.kind == Filter::Kind::kCompare && f.op == "eq" &&
      (f.value.is_string() || f.value.is_bool())) {
    element[f.path.attr] = f.value;
    return true;
  }
  return false;
}

void Merge(json::object& into, const json::object& from) {
  for (const auto& kv : from) into[kv.key()] = kv.value();
}

Status ApplyOne(json::object& user, Op op, const PatchPath& path,
                const json::value& raw) {
  const AttrPath& p = path.path;
  if (p.attr.empty()) {  // the whole enterprise extension
    if (op == Op::kRemove) {
      user.erase(kEnterpriseSchema);
      return Ok{};
    }
    if (!raw.is_object()) {
      return Error::InvalidArgument(
          "invalidValue", "the value for the extension must be an object");
    }
    for (const auto& kv : raw.get_object()) {
      const AttrInfo* a = FindAttr(kv.key(), true);
      if (a == nullptr) continue;  // not kept by galsync
      PatchPath sub;
      sub.path = {true, std::string(a->name), ""};
      if (auto st = ApplyOne(user, op, sub, kv.value()); !st) return st;
    }
    return Ok{};
  }
  const AttrInfo* info = FindAttr(p.attr, p.enterprise);
  if (info->read_only) {
    return Error::InvalidArgument(
        "mutability", "\"" + p.attr + "\" is read-only and cannot be changed");
  }
  const json::value value = CanonicalValue(*info, raw);
  json::object* container = Container(user, p, op != Op::kRemove);
  if (container == nullptr) return Ok{};  // removing from nothing
  json::value* current = container->if_contains(p.attr);

  if (path.filter) {
    if (!info->multi_valued) {
      return Error::InvalidArgument(
          "invalidPath", "\"" + p.attr + "\" is not multi-valued: no filter");
    }
    json::array* list =
        current != nullptr && current->is_array() ? &current->get_array() : nullptr;
    size_t matched = 0;
    if (list != nullptr) {
      for (size_t i = 0; i < list->size();) {
        json::value& e = (*list)[i];
        if (!e.is_object() || !Matches(*path.filter, e.get_object())) {
          ++i;
          continue;
        }
        ++matched;
        json::object& element = e.get_object();
        if (op == Op::kRemove) {
          if (p.sub.empty()) {
            list->erase(list->begin() + static_cast<std::ptrdiff_t>(i));
            continue;
          }
          element.erase(p.sub);
        } else if (!p.sub.empty()) {
          element[p.sub] = value;
        } else if (value.is_object()) {
          Merge(element, value.get_object());
        } else {
          return Error::InvalidArgument(
              "invalidValue", "the value for an element of \"" + p.attr +
                                  "\" must be an object");
        }
        ++i;
      }
    }
    if (matched > 0 || op == Op::kRemove) return Ok{};
    json::object element;
    if (op == Op::kReplace || !ElementOfFilter(*path.filter, element)) {
      return Error::InvalidArgument(
          "noTarget", "no element of \"" + p.attr + "\" matches the filter");
    }
    if (!p.sub.empty()) {
      element[p.sub] = value;
    } else if (value.is_object()) {
      Merge(element, value.get_object());
    }
    if (list == nullptr) {
      (*container)[p.attr] = json::array{std::move(element)};
    } else {
      list->push_back(std::move(element));
    }
    return Ok{};
  }

  if (op == Op::kRemove) {
    if (current == nullptr) return Ok{};
    if (p.sub.empty()) {
      container->erase(p.attr);
    } else if (current->is_object()) {
      current->get_object().erase(p.sub);
    } else if (current->is_array()) {
      for (json::value& e : current->get_array()) {
        if (e.is_object()) e.get_object().erase(p.sub);
      }
    }
    return Ok{};
  }

  if (!p.sub.empty()) {
    if (info->multi_valued) {
      // "emails.type": every element.
      if (current == nullptr || !current->is_array() ||
          current->get_array().empty()) {
        return Error::InvalidArgument(
            "noTarget", "\"" + p.attr + "\" has no elements to change");
      }
      for (json::value& e : current->get_array()) {
        if (e.is_object()) e.get_object()[p.sub] = value;
      }
      return Ok{};
    }
    if (current == nullptr || !current->is_object()) {
      current = &((*container)[p.attr] = json::object());
    }
    current->get_object()[p.sub] = value;
    return Ok{};
  }

  if (info->multi_valued) {
    json::array items =
        value.is_array() ? value.get_array() : json::array{value};
    if (op == Op::kAdd && current != nullptr && current->is_array()) {
      for (json::value& e : items) current->get_array().push_back(std::move(e));
    } else {
      (*container)[p.attr] = std::move(items);
    }
    return Ok{};
  }
  if (info->subs != nullptr && value.is_object() && current != nullptr &&
      current->is_object()) {
    Merge(current->get_object(), value.get_object());  // complex: merge
    return Ok{};
  }
  (*container)[p.attr] = value;
  return Ok{};
}

}  // namespace

Status ApplyPatch(const json::value& body, json::object& user) {
  const json::object* o = body.if_object();
  if (o == nullptr) return Syntax("a PATCH body is a PatchOp object");
  const json::value* ops = nullptr;
  for (const auto& kv : *o) {
    if (EqualsIgnoreAsciiCase(kv.key(), "Operations")) {
      ops = &kv.value();
    } else if (EqualsIgnoreAsciiCase(kv.key(), "schemas")) {
      bool patch_op = false;
      if (kv.value().is_array()) {
        for (const json::value& s : kv.value().get_array()) {
          patch_op |= s.is_string() && s.get_string() == kPatchOpSchema;
        }
      }
      if (!patch_op) {
        return Syntax("\"schemas\" must list " + std::string(kPatchOpSchema));
      }
    }
  }
  if (ops == nullptr || !ops->is_array() || ops->get_array().empty()) {
    return Syntax("a PATCH body needs \"Operations\": a non-empty array");
  }
  if (ops->get_array().size() > PatchLimits::kMaxOperations) {
    return Error::InvalidArgument(
        "tooMany", "a PATCH may hold at most " +
                       std::to_string(PatchLimits::kMaxOperations) +
                       " operations");
  }
  json::object work = user;
  size_t index = 0;
  for (const json::value& item : ops->get_array()) {
    const std::string where = "Operations[" + std::to_string(index++) + "]: ";
    if (!item.is_object()) return Syntax(where + "an operation is an object");
    const json::object& oo = item.get_object();
    std::string name;
    const json::value* path_v = nullptr;
    const json::value* value = nullptr;
    for (const auto& kv : oo) {
      if (EqualsIgnoreAsciiCase(kv.key(), "op") && kv.value().is_string()) {
        name = AsciiLower(kv.value().get_string());
      } else if (EqualsIgnoreAsciiCase(kv.key(), "path")) {
        path_v = &kv.value();
      } else if (EqualsIgnoreAsciiCase(kv.key(), "value")) {
        value = &kv.value();
      }
    }
    Op op;
    if (name == "add") {
      op = Op::kAdd;
    } else if (name == "replace") {
      op = Op::kReplace;
    } else if (name == "remove") {
      op = Op::kRemove;
    } else {
      return Syntax(where + "\"op\" must be add, replace or remove");
    }
    if (path_v != nullptr && !path_v->is_string()) {
      return Error::InvalidArgument("invalidPath", where + "\"path\" must be a string");
    }
    if (op != Op::kRemove && value == nullptr) {
      return Error::InvalidArgument("invalidValue", where + "\"value\" is required");
    }
    auto with = [&](const Status& st) -> Status {
      if (st) return st;
      Error e = st.error();
      e.message = where + e.message;
      return e;
    };
    if (path_v != nullptr) {
      auto path = ParsePatchPath(path_v->get_string());
      if (!path) return with(path.error());
      static const json::value kNull;
      if (auto st = ApplyOne(work, op, *path, value ? *value : kNull); !st) {
        return with(st);
      }
      continue;
    }
    // No path: the value's members name what to change.
    if (op == Op::kRemove) {
      return Error::InvalidArgument("noTarget", where + "remove needs a \"path\"");
    }
    if (!value->is_object()) {
      return Error::InvalidArgument(
          "invalidValue", where + "without a path, \"value\" must be an object");
    }
    for (const auto& kv : value->get_object()) {
      if (EqualsIgnoreAsciiCase(kv.key(), "schemas")) continue;
      // Attributes galsync does not know are accepted and dropped, as in a
      // POST or PUT; a malformed name of a known one is still an error.
      if (!NamesKnownAttribute(kv.key())) continue;
      auto path = ParsePatchPath(kv.key());
      if (!path) return with(path.error());
      if (auto st = ApplyOne(work, op, *path, kv.value()); !st) return with(st);
    }
  }
  user = std::move(work);
  return Ok{};
}

}  // namespace galsync::scim
