// Checks the export writers with third-party parsers: vCards are read back
// with vobject (the library khard and vdirsyncer use) and CSV with Python's
// csv module, and every value must come back as the contact had it.
//
// The interpreter is /usr/bin/python3, where Debian's python3-vobject
// installs (a python3 earlier in PATH, e.g. pyenv's, would not see it);
// GALSYNC_TEST_PYTHON overrides it. scripts/install-deps.sh installs both, so
// a missing interpreter or module fails these tests instead of skipping them.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "formats/export_test_contacts.h"
#include "galsync/contact.h"
#include "galsync/export.h"
#include "test_util.h"

namespace galsync {
namespace {

namespace json = boost::json;

std::string PythonPath() {
  const char* env = std::getenv("GALSYNC_TEST_PYTHON");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/python3";
}

void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// Runs `script` with Python on `data_path`; returns its standard output, or
// fails the test (with what it printed) if it cannot run or exits non-zero.
void RunPython(const std::string& script, const std::string& data_path,
               std::string& output) {
  const std::string python = PythonPath();
  ASSERT_EQ(access(python.c_str(), X_OK), 0)
      << python << " is not an executable Python 3 interpreter. Run "
      << "scripts/install-deps.sh (it installs python3 and python3-vobject), "
      << "or point GALSYNC_TEST_PYTHON at an interpreter that has vobject.";
  galsync::testing::TempDir dir;
  const std::string script_path = dir.file("check.py");
  WriteFile(script_path, script);
  // Temp paths are mkdtemp names: no quote characters to escape.
  const std::string command =
      "'" + python + "' '" + script_path + "' '" + data_path + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr) << "popen failed: " << command;
  output.clear();
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
  const int status = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << command << " failed (status " << status << "):\n"
      << output;
}

json::value ParseOutput(const std::string& output) {
  boost::system::error_code ec;
  json::value v = json::parse(output, ec);
  EXPECT_FALSE(ec) << "Python printed something that is not JSON:\n" << output;
  return v;
}

// ---------------------------------------------------------------------------
// vCard with vobject

// Prints, per card, {property name: [[value, {PARAM: [values]}], ...]}.
// N and ADR values are their component lists, ORG its list of units.
constexpr std::string_view kVobjectScript = R"py(
import json, sys
try:
    import vobject
except ImportError as e:
    print("cannot import vobject (%s): run scripts/install-deps.sh, which "
          "installs python3-vobject" % e)
    sys.exit(3)

with open(sys.argv[1], encoding="utf-8", newline="") as f:
    text = f.read()
cards = []
for card in vobject.readComponents(text):
    out = {}
    for name, lines in card.contents.items():
        for line in lines:
            v = line.value
            if name == "n":
                v = [v.family, v.given, v.additional, v.prefix, v.suffix]
            elif name == "adr":
                v = [v.box, v.extended, v.street, v.city, v.region, v.code,
                     v.country]
            out.setdefault(name, []).append([v, line.params])
    cards.append(out)
print(json.dumps(cards, ensure_ascii=False, sort_keys=True))
)py";

using Params = std::vector<std::pair<std::string, std::vector<std::string>>>;

void Add(json::object& card, std::string_view name, json::value value,
         const Params& params = {}) {
  json::object p;
  for (const auto& [key, values] : params) {
    json::array a;
    for (const std::string& v : values) a.emplace_back(v);
    p[key] = std::move(a);
  }
  json::value& slot = card[name];
  if (slot.is_null()) slot = json::array();
  slot.as_array().push_back(json::array{std::move(value), std::move(p)});
}

// What a vCard parser must report for `c`, from the contact's fields and the
// mapping table in galsync/export.h (not from the writer's code).
json::object ExpectedCard(const Contact& c, VCardVersion version) {
  const bool v4 = version == VCardVersion::k40;
  json::object card;
  Add(card, "version", json::value(v4 ? "4.0" : "3.0"));
  Add(card, "uid", json::value(c.id),
      v4 ? Params{{"VALUE", {"text"}}} : Params{});
  Add(card, "fn", json::value(c.name.full));
  const PersonName& n = c.name;
  if (!v4 || !n.family.empty() || !n.given.empty() || !n.middle.empty() ||
      !n.prefix.empty() || !n.suffix.empty()) {
    Add(card, "n",
        json::array{json::value(c.name.family), json::value(c.name.given),
                    json::value(c.name.middle), json::value(c.name.prefix),
                    json::value(c.name.suffix)});
  }
  if (!c.nickname.empty()) Add(card, "nickname", json::value(c.nickname));
  for (size_t i = 0; i < c.emails.size(); ++i) {
    const Email& e = c.emails[i];
    const bool typed = e.type == "work" || e.type == "home";
    Params p;
    if (v4) {
      if (typed) p.push_back({"TYPE", {e.type}});
      if (i == 0) p.push_back({"PREF", {"1"}});
    } else {
      std::vector<std::string> types = {"internet"};
      if (typed) types.push_back(e.type);
      if (i == 0) types.push_back("pref");
      p.push_back({"TYPE", types});
    }
    Add(card, "email", json::value(e.address), p);
  }
  for (size_t i = 0; i < c.phones.size(); ++i) {
    const Phone& ph = c.phones[i];
    std::vector<std::string> types;
    if (ph.type == "mobile") {
      types.push_back("cell");
    } else if (ph.type != "other") {
      types.push_back(ph.type);
    }
    Params p;
    if (v4) {
      p.push_back({"VALUE", {"text"}});
      if (!types.empty()) p.push_back({"TYPE", types});
      if (i == 0) p.push_back({"PREF", {"1"}});
    } else {
      if (i == 0) types.push_back("pref");
      if (!types.empty()) p.push_back({"TYPE", types});
    }
    Add(card, "tel", json::value(ph.number), p);
  }
  if (!c.title.empty()) Add(card, "title", json::value(c.title));
  if (!c.organization.empty() || !c.department.empty()) {
    json::array org{json::value(c.organization)};
    if (!c.department.empty()) org.emplace_back(c.department);
    Add(card, "org", std::move(org));
  }
  if (!(c.office == Office{})) {
    Add(card, "adr",
        json::array{
            json::value(""), json::value(c.office.room),
            json::value(c.office.street), json::value(c.office.locality),
            json::value(c.office.region), json::value(c.office.postcode),
            json::value(c.office.country)},
        {{"TYPE", {"work"}}});
  }
  for (const Link& l : c.links) {
    Add(card, "url", json::value(l.uri), {{"TYPE", {l.type}}});
  }
  if (!c.photo.empty()) {
    Add(card, "photo", json::value(c.photo),
        v4 ? Params{} : Params{{"VALUE", {"uri"}}});
  }
  if (!c.manager.empty()) {
    if (v4) {
      Add(card, "related", json::value(c.manager),
          {{"TYPE", {"co-worker", "x-manager"}}, {"VALUE", {"text"}}});
    } else {
      Add(card, "x-galsync-manager", json::value(c.manager));
    }
  }
  for (const auto& [key, value] : c.extra) {
    Add(card, "x-galsync-extra", json::value(value), {{"X-KEY", {key}}});
  }
  if (c.updated_us != 0) {
    Add(card, "rev",
        json::value(v4 ? "20261122T071503Z" : "2026-11-22T07:15:03Z"));
  }
  return card;
}

// Long multi-byte values that must be folded, and every character that
// needs escaping, in each kind of property.
Contact TrickyContact() {
  Contact c;
  c.id = "tricky-1";
  std::string long_name;
  while (long_name.size() < 300) {
    long_name +=
        "Щербаков-Голенищев, Дмитрий; 東京都千代田区 \\ "
        "😀🎉👩‍💻 ";
  }
  c.name.full = long_name;
  c.name.given = "Дмитрий, Jr; x";
  c.name.middle = "東京\\都";
  c.name.family = "Щербаков-Голенищев";
  c.nickname = "Дима, 🐻";
  c.emails = {{"dmitry@пример.рф", "home"}, {"d@example.com", "other"}};
  c.phones = {{"+7 495 123-45-67, ext 89;1", "other"},
              {"+7 900 000 00 00", "mobile"}};
  c.title = "line one\nline two; \"three\", four \\ five";
  c.organization = "Acme, Inc.; Ltd";
  for (int i = 0; i < 30; ++i) c.department += "開発部";
  c.office.room = "4;12";
  c.office.street = std::string(20, ' ') + "Улица Тверская, дом 1; корпус 2";
  while (c.office.street.size() < 200) c.office.street += " Ж";
  c.office.locality = "Москва";
  c.office.country = "RU";
  c.links = {
      {"https://example.com/" + std::string(150, 'p') + "?a=1,b=2;c", "blog"}};
  c.photo =
      "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAA"
      "DUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
  c.manager = "boss@example.com";
  std::string emoji;
  while (emoji.size() < 200) emoji += "🇳🇴😀";
  c.extra = {{"Key.With:Colon_", "a, b; c \\ d"}, {"long", emoji}};
  return c;
}

void ExpectVobjectReadsBack(VCardVersion version) {
  const std::vector<Contact> contacts = {export_test::FullContact(),
                                         export_test::FamilyOnlyContact(),
                                         TrickyContact()};
  std::string file;
  json::array expected;
  for (const Contact& c : contacts) {
    file += ContactToVCard(c, version);
    expected.push_back(ExpectedCard(c, version));
  }
  galsync::testing::TempDir dir;
  const std::string data = dir.file("cards.vcf");
  WriteFile(data, file);
  std::string output;
  RunPython(std::string(kVobjectScript), data, output);
  if (::testing::Test::HasFatalFailure()) return;
  const json::value got = ParseOutput(output);
  ASSERT_TRUE(got.is_array()) << output;
  ASSERT_EQ(got.as_array().size(), expected.size()) << output;
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("card " + std::to_string(i) + " (" + contacts[i].id + ")");
    const json::object& want = expected[i].as_object();
    const json::object& have = got.as_array()[i].as_object();
    for (const auto& kv : want) {
      const json::value* h = have.if_contains(kv.key());
      EXPECT_TRUE(h != nullptr && *h == kv.value())
          << "property " << kv.key() << "\n  expected: " << kv.value()
          << "\n  vobject:  " << (h ? json::serialize(*h) : "(missing)");
    }
    for (const auto& kv : have) {
      EXPECT_TRUE(want.contains(kv.key()))
          << "unexpected property " << kv.key() << ": " << kv.value();
    }
  }
}

TEST(VCardVobjectTest, ReadsBackVCard40) {
  ExpectVobjectReadsBack(VCardVersion::k40);
}

TEST(VCardVobjectTest, ReadsBackVCard30) {
  ExpectVobjectReadsBack(VCardVersion::k30);
}

// ---------------------------------------------------------------------------
// CSV with Python's csv module

constexpr std::string_view kCsvScript = R"py(
import csv, json, sys
with open(sys.argv[1], encoding="utf-8", newline="") as f:
    rows = list(csv.reader(f, strict=True))
print(json.dumps(rows, ensure_ascii=False))
)py";

// The fields a CSV reader must return for `c`, built from the contact and
// the column list in galsync/export.h.
json::array ExpectedRow(const Contact& c) {
  const auto joined = [](const auto& entries, auto label, auto value) {
    std::string cell;
    for (const auto& e : entries) {
      if (!cell.empty()) cell += '\n';
      cell += label(e) + ": " + value(e);
    }
    return cell;
  };
  const auto type = [](const auto& e) { return e.type; };
  return json::array{
      json::value(c.id),
      json::value(c.name.full),
      json::value(c.name.prefix),
      json::value(c.name.given),
      json::value(c.name.middle),
      json::value(c.name.family),
      json::value(c.name.suffix),
      json::value(c.nickname),
      json::value(c.emails.empty() ? "" : c.emails[0].address),
      json::value(
          joined(c.emails, type, [](const Email& e) { return e.address; })),
      json::value(c.phones.empty() ? "" : c.phones[0].number),
      json::value(
          joined(c.phones, type, [](const Phone& p) { return p.number; })),
      json::value(c.title),
      json::value(c.department),
      json::value(c.organization),
      json::value(c.manager),
      json::value(c.office.room),
      json::value(c.office.street),
      json::value(c.office.locality),
      json::value(c.office.region),
      json::value(c.office.postcode),
      json::value(c.office.country),
      json::value(joined(c.links, type, [](const Link& l) { return l.uri; })),
      json::value(c.photo),
      json::value(joined(
          c.extra, [](const auto& kv) { return kv.first; },
          [](const auto& kv) { return kv.second; })),
      json::value(c.updated_us == 0 ? "" : FormatTime(c.updated_us)),
  };
}

TEST(CsvPythonTest, ReadsBackRows) {
  Contact quoted = export_test::FamilyOnlyContact();
  quoted.id = "quoted";
  quoted.title = "say \"hi\", then\r\nleave; \"\"";
  quoted.nickname = "\"";
  quoted.organization = ",";
  const std::vector<Contact> contacts = {export_test::FullContact(),
                                         export_test::FamilyOnlyContact(),
                                         TrickyContact(), quoted};
  std::string file = CsvHeader();
  json::array expected;
  json::array header;
  for (const std::string& name : export_test::kCsvColumns) {
    header.emplace_back(name);
  }
  expected.push_back(std::move(header));
  for (const Contact& c : contacts) {
    file += ContactToCsvRow(c);
    expected.push_back(ExpectedRow(c));
  }
  galsync::testing::TempDir dir;
  const std::string data = dir.file("contacts.csv");
  WriteFile(data, file);
  std::string output;
  RunPython(std::string(kCsvScript), data, output);
  if (HasFatalFailure()) return;
  const json::value got = ParseOutput(output);
  ASSERT_TRUE(got.is_array()) << output;
  ASSERT_EQ(got.as_array().size(), expected.size()) << output;
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    const json::array& want = expected[i].as_array();
    const json::array& have = got.as_array()[i].as_array();
    ASSERT_EQ(have.size(), want.size()) << json::serialize(have);
    for (size_t f = 0; f < want.size(); ++f) {
      EXPECT_EQ(have[f], want[f])
          << "column " << expected[0].as_array()[f] << ": expected " << want[f]
          << ", csv module read " << have[f];
    }
  }
}

}  // namespace
}  // namespace galsync
