// Export writers: one contact as a vCard (4.0 or 3.0), as a CSV row, as a
// JSON line or as an LDIF entry. Used by `galsync export`, the server's
// export endpoint and CardDAV.
//
// Each writer turns one Contact into text; a file is the concatenation of the
// pieces (for CSV, CsvHeader() first). Writers never fail: any Contact can be
// written. They are meant for contacts the codec accepted (ContactFromJson),
// which contain no control characters and always have a non-empty name.full;
// for contacts built in code the writers still produce well-formed output
// (see "Contacts built in code" below).
//
// Thread-safety: pure functions of their arguments; no shared state.
//
// ---------------------------------------------------------------------------
// vCard (RFC 6350 for 4.0, RFC 2426 for 3.0)
//
// Lines end in CRLF and are folded (CRLF + one space) so that no physical
// line exceeds 75 octets excluding the CRLF; a fold never splits a UTF-8
// sequence. Properties appear in the order of the table; empty fields are
// omitted (except N in 3.0, which RFC 2426 requires).
//
// TEXT values are escaped: "\" -> "\\", "," -> "\,", ";" -> "\;",
// newline -> "\n". In the structured values N, ADR and ORG only the
// component separators ";" stay unescaped. URI values (URL, PHOTO) escape
// only "\" and ",": RFC 6350 3.4 wants every comma escaped (erratum 3846
// applies that to URIs) and vobject splits values at unescaped commas.
//
//   Contact field   vCard 4.0                          vCard 3.0
//   --------------  ---------------------------------  ---------------------
//   (fixed)         BEGIN:VCARD                        same
//                   VERSION:4.0                        VERSION:3.0
//   id              UID;VALUE=text:<id>                UID:<id>
//   name.full       FN:<full>                          same
//   name.*          N:<family>;<given>;<middle>;       same, but always
//                     <prefix>;<suffix>                  written (N:;;;; when
//                     (omitted when all are empty)       all are empty)
//   nickname        NICKNAME:<nickname>                same
//   emails[i]       EMAIL[;TYPE=<t>][;PREF=1]:<addr>   EMAIL;TYPE=internet
//                                                        [,<t>][,pref]:<addr>
//   phones[i]       TEL;VALUE=text[;TYPE=<t>]          TEL[;TYPE=<t>[,pref]]
//                     [;PREF=1]:<number>                 :<number>; an
//                                                        "other" first phone:
//                                                        TEL;TYPE=pref:
//   title           TITLE:<title>                      same
//   organization,   ORG:<organization>[;<department>]  same
//     department      (";<department>" only when set)
//   office          ADR;TYPE=work:;<room>;<street>;    same
//                     <locality>;<region>;<postcode>;
//                     <country>  (PO box always empty)
//   links[i]        URL;TYPE=<link type>:<uri>         same
//   photo           PHOTO:<uri>                        PHOTO;VALUE=uri:<uri>
//   manager         RELATED;TYPE=co-worker,x-manager;  X-GALSYNC-MANAGER:
//                     VALUE=text:<manager id>            <manager id>
//   extra (k, v)    X-GALSYNC-EXTRA;X-KEY="<k>":<v>    same
//   updated_us      REV:20261122T071503Z               REV:2026-11-22T07:15:03Z
//                     (only when updated_us != 0)        (same condition)
//   (fixed)         END:VCARD                          same
//
//   <t> for emails: work -> work, home -> home, other -> no TYPE.
//   <t> for phones: work -> work, home -> home, mobile -> cell, fax -> fax,
//                   pager -> pager, other -> no TYPE.
//
// Notes for the importer that inverts this table:
//  - Emails and phones appear in the contact's order; the first one also
//    carries PREF (4.0 "PREF=1", 3.0 TYPE value "pref"). Keep document order.
//  - An EMAIL or TEL without one of the TYPE values above is "other". TYPE
//    values are case-insensitive; "internet", "pref", "voice" carry no
//    galsync type.
//  - Phone numbers are free text (VALUE=text), never tel: URIs: converting
//    "+34 91 123 45 67" to "tel:+34-91-123-45-67" would lose the original.
//  - URI values: undo "\\" and "\," only.
//  - A URL's TYPE is the link type verbatim (a-z 0-9 - for valid contacts,
//    so case-folding on import is lossless); a URL without TYPE is "profile".
//  - The manager relation is recognised by the TYPE value "x-manager"
//    ("co-worker" is there for other clients). RFC 6350 registers no
//    "manager" relation type, and 3.0 has no RELATED property at all.
//  - Extra keys go in a quoted parameter value, so their case and the
//    characters ":" "." survive; a key containing "^", '"' or a newline
//    (impossible for keys the codec accepts) is caret-encoded per RFC 6868
//    ("^^", "^'", "^n"). Extra entries with an empty value are omitted, as
//    in the canonical JSON.
//  - REV has second precision; seq and domain are not exported. The round
//    trip export -> import reproduces the content (Contact::SameContent).
//
// Contacts built in code: an empty name.full is written as FN derived like
// the codec does ("given middle family"), or the id when no name part is
// set. CR, LF and CRLF in text become "\n"; other control characters are
// dropped; in parameter values they are dropped too.
//
// ---------------------------------------------------------------------------
// CSV (RFC 4180)
//
// UTF-8 without a byte order mark; every record, the header included, ends
// in CRLF. A field is quoted when it contains a comma, a double quote, CR or
// LF; quotes inside are doubled. One row per contact, these 26 columns:
//
//   id, full_name, name_prefix, given_name, middle_name, family_name,
//   name_suffix, nickname, email, emails, phone, phones, title, department,
//   organization, manager, office_room, office_street, office_locality,
//   office_region, office_postcode, office_country, links, photo, extra,
//   updated
//
//  - email, phone: the first (preferred) address / number, for mail merges
//    and quick lookups. They repeat data of emails/phones.
//  - emails, phones, links, extra: every entry, one per line inside the cell
//    (entries joined with LF), each entry "<type>: <value>" ("<key>: <value>"
//    for extra), e.g. "work: ann@example.com\nhome: ann@example.org". LF is
//    the separator because it is the one character no field of a valid
//    contact can contain (phone numbers may contain ";" and ",", URIs almost
//    anything). A type or key never contains a space, so an entry splits at
//    its first ": ".
//  - updated: RFC 3339 UTC with microseconds (FormatTime), empty when
//    updated_us is 0.
// Values are not altered to defuse spreadsheet formulas (a leading "=", "+",
// "-" or "@"): a phone number like "+34 91 ..." must stay as it is. Whoever
// opens an export in a spreadsheet should import it as text.
//
// ---------------------------------------------------------------------------
// JSON lines
//
// One line per contact: the served contact JSON (StoredContactJson of the
// canonical content, domain, seq, updated_us), then "\n". The JSON text
// contains no raw newline, so lines split unambiguously.
//
// ---------------------------------------------------------------------------
// LDIF (RFC 2849), inetOrgPerson entries (RFC 2798)
//
// The file starts with "version: 1" and a blank line; each entry ends with
// a blank line. Lines end in LF and are folded at 76 octets (LF + one
// space). A value that is not a SAFE-STRING (non-ASCII, or starting with a
// space, ":" or "<", or ending with a space) is written base64 ("attr::").
// Empty fields are omitted. Base DN: LdifBaseDn(domain), e.g.
// "ou=people,dc=example,dc=com"; "+", "=" and the other RFC 4514 specials
// in RDN values are escaped with "\".
//
//   Contact field   LDIF attribute
//   --------------  ----------------------------------------------------
//   id              dn: uid=<id>,<base>   and   uid: <id>
//   (fixed)         objectClass: top, person, organizationalPerson,
//                     inetOrgPerson
//   name.full       cn and displayName (derived as for vCard FN when empty)
//   name.given      givenName
//   name.family     sn (omitted when empty, although person requires it:
//                     a made-up sn would come back as a family name)
//   emails[i]       mail, in order (the type is not kept)
//   phones[i]       work/other -> telephoneNumber, mobile -> mobile,
//                     home -> homePhone, fax -> facsimileTelephoneNumber,
//                     pager -> pager; in order within each attribute
//   title           title
//   department      ou
//   organization    o
//   manager         manager: uid=<manager id>,<base>
//   office          roomNumber, street, l, st, postalCode, co
//   links[i]        labeledURI: <uri> <link type>
//   extra           employee_number -> employeeNumber, employee_id ->
//                     employeeID, employee_type -> employeeType; other keys
//                     are not exported
// LDIF has no place for name.prefix/middle/suffix, nickname, photo (a URI;
// jpegPhoto holds image bytes), e-mail types, other extra keys, and
// "hidden": an LDIF export carries what an LDIF import can bring in, so an
// LDIF import exported and imported again is unchanged.
#pragma once

#include <string>
#include <string_view>

#include "galsync/contact.h"
#include "galsync/source_reader.h"
#include "galsync/status.h"

namespace galsync {

enum class VCardVersion {
  k40,  // RFC 6350
  k30,  // RFC 2426
};

// One complete vCard, "BEGIN:VCARD\r\n" to "END:VCARD\r\n".
std::string ContactToVCard(const Contact& c,
                           VCardVersion version = VCardVersion::k40);

// The CSV header record (column names, see above), ending in CRLF.
std::string CsvHeader();

// One CSV record for `c`, with as many fields as CsvHeader(), ending in CRLF.
std::string ContactToCsvRow(const Contact& c);

// The served contact JSON for `c` followed by "\n".
std::string ContactToJsonLine(const Contact& c);

// The name every format shows: name.full, else "given middle family" as the
// codec derives it, else the id (vCard FN, LDIF cn and displayName).
std::string DisplayName(const Contact& c);

// "ou=people,dc=<label>,dc=<label>..." for a domain name.
std::string LdifBaseDn(std::string_view domain);
// "version: 1\n\n".
std::string LdifHeader();
// One LDIF entry, ending with its blank line.
std::string ContactToLdif(const Contact& c, std::string_view base_dn);

// A whole export file in one of the formats the importer reads
// (SourceFormat): Begin() once, then Entry() for each contact. The
// contact's domain names the LDIF base DN.
struct ExportFormat {
  SourceFormat format = SourceFormat::kVCard;
  VCardVersion vcard_version = VCardVersion::k40;

  // The format's name ("csv", "vcard", "ldif", "jsonl"; also "json") and an
  // optional vCard version ("4.0", "3.0"; only with vcard).
  // kInvalidArgument "invalid_format" / "invalid_vcard_version" otherwise.
  static Result<ExportFormat> Parse(std::string_view name,
                                    std::string_view vcard_version = "");
  // The Content-Type of such a file: text/vcard, text/csv, text/x-ldif or
  // application/jsonl, with charset=utf-8 where it applies.
  std::string_view MediaType() const;
  // What the file begins with: the CSV header, the LDIF version line.
  std::string Begin() const;
  // One contact's part of the file.
  std::string Entry(const Contact& c) const;
  // "csv", "vcf", "ldif" or "jsonl".
  std::string_view FileExtension() const;

 private:
  // The LDIF base DN of the last domain seen: the contacts of a file share
  // one, so it is built once, not per entry. Hence an ExportFormat is used
  // by one thread at a time.
  mutable std::string ldif_domain_;
  mutable std::string ldif_base_dn_ = LdifBaseDn("");
};

}  // namespace galsync
