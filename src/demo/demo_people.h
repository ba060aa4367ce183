// Synthetic people for demo and benchmark directories.
//
// Generates realistic, multi-locale contacts (names in Latin, Cyrillic, Greek,
// CJK, Hangul and Arabic scripts, localized offices and phone numbers, an org
// chart, e-mail addresses derived from the names) without any external data.
//
// Every person is a pure function of (index, seed, mail_domain): the same
// arguments always give the same contact, on any machine, and people can be
// generated one at a time (e.g. streaming 1,000,000 of them) or in bulk.
//
// Guarantees, for a fixed seed and domain:
//  - ids are "p" + the 1-based index, zero-padded to at least 6 digits
//    ("p000001", ..., "p1000000");
//  - the manager of every person but the first is a person with a lower index;
//  - work e-mail addresses (always emails[0]) are unique: the first person
//    with a given name gets "given.family@<mail_domain>", later namesakes get
//    the number of their id appended ("john.smith1234@<mail_domain>");
//  - every contact passes the codec's validation (galsync/contact.h), as long
//    as `mail_domain` is a valid domain name (lowercase, with a dot).
//
// Thread-safety: pure functions; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "galsync/contact.h"

namespace galsync::demo {

// Generates people with indexes [0, count): GeneratePerson(i, seed, domain)
// for each i.
std::vector<Contact> GeneratePeople(size_t count, uint64_t seed = 42,
                                    std::string_view mail_domain =
                                        "example.com");

// Generates the person with the given (0-based) index.
Contact GeneratePerson(size_t index, uint64_t seed,
                       std::string_view mail_domain);

namespace internal {

// Checks the consistency of the built-in name tables that the e-mail
// uniqueness guarantee relies on (every name has an ASCII form; no two names
// of a locale share one; no family name is shared between locales). Returns
// an empty string if all is well, else a description of the first problem.
// Exposed for tests.
std::string CheckNameTables();

}  // namespace internal
}  // namespace galsync::demo
