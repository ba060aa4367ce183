// The contact model: one person (or room, or shared mailbox) in a domain's
// directory, and its JSON codec.
//
// A Contact is a plain value. Its JSON shape follows JSContact (RFC 9553)
// where that is natural and is specified in docs/api.md. The codec validates
// everything that comes from outside (UTF-8, lengths, required fields, e-mail
// and phone syntax, unknown fields) and produces one canonical serialization:
// the same contact content always serializes to the same bytes, which is what
// lets the store detect no-op writes and serve sync pages without
// re-serializing.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/fwd.hpp>
#include <boost/system/error_code.hpp>

#include "galsync/status.h"

namespace galsync {

struct PersonName {
  std::string full;  // display name, e.g. "Dr. José Álvarez Jr."
  std::string prefix;
  std::string given;
  std::string middle;
  std::string family;
  std::string suffix;
  bool operator==(const PersonName&) const = default;
};

struct Email {
  std::string address;
  std::string type = "work";  // work | home | other
  bool operator==(const Email&) const = default;
};

struct Phone {
  std::string number;
  std::string type = "work";  // work | home | mobile | fax | pager | other
  bool operator==(const Phone&) const = default;
};

struct Office {
  std::string room;
  std::string street;
  std::string locality;  // city
  std::string region;
  std::string postcode;
  std::string country;
  bool operator==(const Office&) const = default;
};

struct Link {
  std::string uri;
  std::string type = "profile";  // free label: profile, linkedin, github, ...
  bool operator==(const Link&) const = default;
};

struct Contact {
  // Content: what writers send.
  std::string id;  // stable, unique within the domain; see IsValidContactId
  PersonName name;
  std::string nickname;
  std::vector<Email> emails;  // in order of preference
  std::vector<Phone> phones;
  std::string title;
  std::string department;
  std::string organization;
  std::string manager;  // id of another contact in the same domain
  Office office;
  std::vector<Link> links;
  std::string photo;  // URI
  // Free-form attributes, sorted by key, keys unique.
  std::vector<std::pair<std::string, std::string>> extra;
  // Hidden from the directory (e.g. a service account): withheld from keys
  // without the private scope (galsync/visibility.h).
  bool hidden = false;

  // Server-maintained; ignored on writes, filled when decoding stored JSON.
  std::string domain;
  uint64_t seq = 0;         // position of the contact's last change
  int64_t updated_us = 0;   // commit time of that change, µs since epoch

  // The ETag: changes whenever the contact changes. Derived from seq.
  std::string version() const { return std::to_string(seq); }

  bool SameContent(const Contact& o) const;
};

// Bounds enforced by the codec. Each is a named limit documented in docs/api.md.
struct ContactLimits {
  static constexpr size_t kMaxIdBytes = 128;
  static constexpr size_t kMaxNamePartBytes = 256;
  static constexpr size_t kMaxTextBytes = 512;      // title, department, ...
  static constexpr size_t kMaxEmails = 32;
  static constexpr size_t kMaxEmailBytes = 254;     // RFC 5321 path limit
  static constexpr size_t kMaxPhones = 32;
  static constexpr size_t kMaxPhoneBytes = 64;
  static constexpr size_t kMaxLinks = 32;
  static constexpr size_t kMaxUriBytes = 2048;
  static constexpr size_t kMaxExtra = 64;
  static constexpr size_t kMaxExtraKeyBytes = 64;
  static constexpr size_t kMaxExtraValueBytes = 4096;
  static constexpr size_t kMaxContactJsonBytes = 64 * 1024;
};

// A contact id is 1..128 bytes of [A-Za-z0-9._~@+=-]: safe in a URL path
// segment, a vCard UID, an LDAP RDN and a file name without escaping.
bool IsValidContactId(std::string_view id);

// Decodes and validates a contact from a JSON object.
//
// Rules (docs/api.md, "Contact"):
//  - unknown members are rejected (reason "unknown_field"), so a typo is never
//    silently dropped; free-form data belongs in "extra";
//  - server-maintained members ("domain", "seq", "updated", "version") are
//    accepted and decoded into the metadata fields, never required;
//  - "id" is required and must satisfy IsValidContactId;
//  - at least one of name.full, name.given, name.family must be non-empty;
//    when name.full is empty it is derived as "given middle family";
//  - strings are valid UTF-8 without control characters, within ContactLimits;
//  - e-mail addresses and phone numbers must be syntactically sane.
// Errors are kInvalidArgument with a message naming the offending member,
// e.g. `emails[2].address: "bob@@x" is not a valid e-mail address`.
Result<Contact> ContactFromJson(const boost::json::value& json);
// The same for an object, without copying it into a value.
Result<Contact> ContactFromJson(const boost::json::object& json);

// Parses `text` as JSON (UTF-8 checked, depth-limited) and decodes it.
Result<Contact> ParseContactJson(std::string_view text);

// The error for JSON text that failed to parse: names the byte offset, or
// says the text is not UTF-8, or that it nests deeper than `max_depth`.
// `consumed` is what the parser consumed before `ec`.
Error JsonSyntaxError(std::string_view text, const boost::system::error_code& ec,
                      size_t consumed, int max_depth);

// The canonical serialization of a contact's content: a JSON object with
// members in a fixed order, empty members omitted, no server-maintained
// members. Equal content <=> equal bytes.
std::string CanonicalContentJson(const Contact& contact);

// The stored/served form: the canonical content with the server-maintained
// members appended:  <content minus "}"> ,"domain":..,"seq":..,"updated":..,
// "version":.. }
std::string StoredContactJson(std::string_view canonical_content,
                              std::string_view domain, uint64_t seq,
                              int64_t updated_us);

// Given a stored/served contact JSON, returns the canonical content it was
// built from (the inverse of StoredContactJson). Returns an empty string if
// `stored` is not in that form.
std::string ContentOfStoredJson(std::string_view stored);

// RFC 3339 UTC with microseconds, e.g. "2026-11-22T07:15:03.123456Z".
std::string FormatTime(int64_t micros_since_epoch);
// Parses RFC 3339 (any offset, optional fraction). kInvalidArgument on error.
Result<int64_t> ParseTime(std::string_view text);

}  // namespace galsync
