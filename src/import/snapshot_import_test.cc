// Tests of snapshot import over a real Directory and SQLite store: minimal
// diffs (a no-op re-import of 100,000 contacts logs nothing; 10 changed rows
// log 10), deletes of what the source no longer has, several sources in one
// domain, keys by id and by e-mail, dry runs, an import cut short and run
// again, and a writer racing the import.
#include "galsync/import.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "demo/demo_people.h"
#include "galsync/export.h"
#include "test_util.h"

namespace galsync {
namespace {

constexpr char kDom[] = "example.com";

class SnapshotImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::OpenDirectory(tmp_, kDom);
    ASSERT_TRUE(dir_);
  }

  Result<ImportReport> Import(std::string_view text, ImportOptions o,
                              SourceFormat f = SourceFormat::kCsv,
                              size_t piece = 4096) {
    if (o.source.empty()) o.source = "hr";
    auto im = SnapshotImport::Start(*dir_, kDom, f, {}, o, "test-import");
    if (!im) return std::move(im).error();
    for (size_t i = 0; i < text.size(); i += piece) {
      if (auto st = (*im)->Feed(text.substr(i, piece)); !st.ok()) {
        return std::move(st).error();
      }
    }
    return (*im)->Finish();
  }

  uint64_t LastSeq() { return *dir_->LastSeq(kDom); }
  uint64_t Live() { return dir_->GetDomain(kDom)->live_count; }
  std::string Json(const std::string& id) {
    auto c = dir_->GetContact(kDom, id);
    return c.ok() ? c->json : "";
  }

  testing::TempDir tmp_;
  std::unique_ptr<Directory> dir_;
};

std::string Csv(const std::vector<Contact>& people) {
  std::string out = CsvHeader();
  for (const Contact& c : people) out += ContactToCsvRow(c);
  return out;
}

// The line on which people[i]'s row starts in Csv(people) (cells with
// several e-mail addresses span lines).
uint64_t LineOf(const std::vector<Contact>& people, size_t i) {
  std::string before = CsvHeader();
  for (size_t k = 0; k < i; ++k) before += ContactToCsvRow(people[k]);
  return 1 + std::count(before.begin(), before.end(), '\n');
}

TEST_F(SnapshotImportTest, NoOpReimportLogsNothingAndTenChangesLogTen) {
  auto people = demo::GeneratePeople(100000);
  const std::string file = Csv(people);

  auto first = Import(file, {});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->added, 100000u);
  EXPECT_EQ(first->rejected, 0u) << first->errors.at(0).message;
  EXPECT_EQ(Live(), 100000u);
  const uint64_t after_first = LastSeq();
  EXPECT_EQ(after_first, 100000u);
  EXPECT_EQ(first->first_seq, 1u);
  EXPECT_EQ(first->last_seq, 100000u);

  auto again = Import(file, {.delete_missing = true});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->unchanged, 100000u);
  EXPECT_EQ(again->added + again->updated + again->deleted, 0u);
  EXPECT_EQ(LastSeq(), after_first);  // zero log entries
  EXPECT_EQ(again->first_seq, 0u);

  for (size_t i = 0; i < 10; ++i) people[i * 9973].title = "Changed " + std::to_string(i);
  auto ten = Import(Csv(people), {.delete_missing = true});
  ASSERT_TRUE(ten.ok()) << ten.error().message;
  EXPECT_EQ(ten->updated, 10u);
  EXPECT_EQ(ten->unchanged, 99990u);
  EXPECT_EQ(LastSeq(), after_first + 10);  // exactly ten log entries
  EXPECT_NE(Json(people[9973].id).find("\"title\":\"Changed 1\""),
            std::string::npos);
}

TEST_F(SnapshotImportTest, DeleteMissingOnlyWhenAskedAndRevivesWithTheSameId) {
  auto people = demo::GeneratePeople(20);
  ASSERT_TRUE(Import(Csv(people), {}).ok());
  std::vector<Contact> fewer(people.begin() + 3, people.end());

  auto keep = Import(Csv(fewer), {});
  ASSERT_TRUE(keep.ok());
  EXPECT_EQ(keep->deleted, 0u);
  EXPECT_FALSE(keep->deletes_skipped);
  EXPECT_EQ(Live(), 20u);

  auto dry = Import(Csv(fewer), {.delete_missing = true, .dry_run = true});
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->deleted, 3u);
  EXPECT_EQ(Live(), 20u);  // a dry run writes nothing

  auto del = Import(Csv(fewer), {.delete_missing = true});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->deleted, 3u);
  EXPECT_EQ(Live(), 17u);
  EXPECT_EQ(Json(people[0].id), "");

  auto back = Import(Csv(people), {.delete_missing = true});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->added, 3u);
  EXPECT_EQ(back->unchanged, 17u);
  EXPECT_NE(Json(people[0].id), "");
}

TEST_F(SnapshotImportTest, SourcesDoNotDeleteOrTakeOverEachOthersContacts) {
  auto people = demo::GeneratePeople(10);
  std::vector<Contact> hr(people.begin(), people.begin() + 5);
  std::vector<Contact> ldap(people.begin() + 5, people.end());
  ASSERT_TRUE(Import(Csv(hr), {.source = "hr"}).ok());
  ASSERT_TRUE(Import(Csv(ldap), {.source = "ldap"}).ok());
  // A contact written through the API.
  Contact api = people[0];
  api.id = "api-only";
  ASSERT_TRUE(dir_->PutContact(kDom, api, {}, false, "t").ok());
  EXPECT_EQ(Live(), 11u);

  // ldap's snapshot now also holds an hr contact and the API's: rejected.
  std::vector<Contact> grab = ldap;
  grab.push_back(hr[0]);
  grab.push_back(api);
  const uint64_t before = LastSeq();
  auto r = Import(Csv(grab), {.source = "ldap", .delete_missing = true});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rejected, 2u);
  ASSERT_EQ(r->errors.size(), 2u);
  EXPECT_EQ(r->errors[0].line, LineOf(grab, 5));
  EXPECT_EQ(r->errors[1].line, LineOf(grab, 6));
  EXPECT_NE(r->errors[0].message.find("belongs to source \"hr\""),
            std::string::npos) << r->errors[0].message;
  EXPECT_NE(r->errors[1].message.find("written through the API"),
            std::string::npos);
  EXPECT_EQ(LastSeq(), before);

  // An empty hr snapshot deletes nothing; one without hr[1] deletes only it.
  auto empty = Import(CsvHeader(), {.source = "hr", .delete_missing = true});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->deletes_skipped);
  std::vector<Contact> hr_less(hr);
  hr_less.erase(hr_less.begin() + 1);
  auto del = Import(Csv(hr_less), {.source = "hr", .delete_missing = true});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->deleted, 1u);
  EXPECT_EQ(Live(), 10u);
  EXPECT_EQ(Json(hr[1].id), "");
  EXPECT_NE(Json(ldap[0].id), "");
  EXPECT_NE(Json("api-only"), "");
}

TEST_F(SnapshotImportTest, DuplicateKeysAndUnreadableRecords) {
  const std::string csv =
      "id,given_name,email\n"
      "a,Ann,ann@example.com\n"
      "b,Bob,bob@example.com\n"
      "a,Ann Again,ann2@example.com\n"
      "c,\"Cy\"x,cy@example.com\n"
      ",Nobody,nobody@example.com\n";
  auto r = Import(csv, {.delete_missing = true});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records, 5u);
  EXPECT_EQ(r->added, 2u);
  EXPECT_EQ(r->rejected, 3u);
  ASSERT_EQ(r->errors.size(), 3u);
  EXPECT_EQ(r->errors[0].line, 4u);
  EXPECT_EQ(r->errors[0].message, "duplicate key \"a\": line 2 has it too");
  EXPECT_EQ(r->errors[1].line, 5u);
  EXPECT_EQ(r->errors[2].line, 6u);
  EXPECT_EQ(r->errors[2].message,
            "the record has no id, and the import is keyed by id");
  // Two records could not be keyed: deleting "missing" contacts could hit
  // theirs, so nothing is deleted.
  EXPECT_TRUE(r->deletes_skipped);
  EXPECT_NE(r->deletes_skipped_reason.find("2 records"), std::string::npos);
}

TEST_F(SnapshotImportTest, KeyedByEmailDerivesIdsAndFollowsRenames) {
  const std::string v1 =
      "given_name,family_name,email\n"
      "Ann,Smith,Ann.Smith@Example.com\n"
      "Bob,Odd,bob#odd@example.com\n";
  auto r = Import(v1, {.key = ImportKey::kEmail});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->added, 2u) << (r->errors.empty() ? "" : r->errors[0].message);
  EXPECT_NE(Json("ann.smith@example.com"), "");  // the key is the id
  auto hist = dir_->History(kDom, "", 0, 10);
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->size(), 2u);
  EXPECT_EQ((*hist)[0].actor, "test-import");
  // The second e-mail is no valid id: its id is derived from the key.
  const std::string bob = (*hist)[1].contact_id;
  EXPECT_EQ(bob.rfind("hr-", 0), 0u) << bob;
  EXPECT_EQ(bob.size(), 23u);

  // Same file, other case in the e-mail: same key, no change.
  auto same = Import(
      "given_name,family_name,email\nAnn,Smith,ann.smith@example.com\n"
      "Bob,Odd,bob#odd@example.com\n",
      {.key = ImportKey::kEmail, .delete_missing = true});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->unchanged, 1u);  // the address's case is content
  EXPECT_EQ(same->updated, 1u);
  EXPECT_EQ(same->deleted, 0u);

  // Ann's address changes and her id is in the file: the contact is
  // re-keyed, not deleted and re-added.
  auto renamed = Import(
      "id,given_name,family_name,email\n"
      "ann.smith@example.com,Ann,Jones,ann.jones@example.com\n" +
          std::string(bob) + ",Bob,Odd,bob#odd@example.com\n",
      {.key = ImportKey::kEmail, .delete_missing = true});
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->updated, 1u) << (renamed->errors.empty() ? "" : renamed->errors[0].message);
  EXPECT_EQ(renamed->deleted, 0u);
  EXPECT_EQ(renamed->added, 0u);
  EXPECT_NE(Json("ann.smith@example.com").find("Jones"), std::string::npos);
  // And the next run knows her by the new key.
  auto next = Import(
      "given_name,family_name,email\nAnn,Jones,ann.jones@example.com\n"
      "Bob,Odd,bob#odd@example.com\n",
      {.key = ImportKey::kEmail, .delete_missing = true});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->unchanged, 2u);
  EXPECT_EQ(Live(), 2u);
}

TEST_F(SnapshotImportTest, AnImportCutShortFinishesWhenRunAgain) {
  auto people = demo::GeneratePeople(5000);
  const std::string file = Csv(people);
  {
    // Batches of 700; the import stops (as if the process died) after
    // about half the file, without Finish.
    auto im = SnapshotImport::Start(*dir_, kDom, SourceFormat::kCsv, {},
                                    {.source = "hr", .batch_changes = 700},
                                    "test-import");
    ASSERT_TRUE(im.ok());
    ASSERT_TRUE((*im)->Feed(std::string_view(file).substr(0, file.size() / 2)).ok());
    // The pipeline writes behind the reader: "dies" once a batch is in.
    for (int i = 0; i < 1000 && Live() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GT(Live(), 0u);
  }  // abandoned: what was queued is dropped, the written batches stay
  const uint64_t done = Live();
  EXPECT_EQ(done % 700, 0u);  // whole batches only
  EXPECT_EQ(LastSeq(), done);

  auto rest = Import(file, {.delete_missing = true});
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->unchanged, done);
  EXPECT_EQ(rest->added, 5000 - done);
  EXPECT_EQ(Live(), 5000u);
  EXPECT_EQ(LastSeq(), 5000u);  // nothing written twice
}

TEST_F(SnapshotImportTest, AbandonStopsAndReportsWhatWasWritten) {
  const std::string file = Csv(demo::GeneratePeople(5000));
  auto im = SnapshotImport::Start(*dir_, kDom, SourceFormat::kCsv, {},
                                  {.source = "hr", .batch_changes = 300},
                                  "test-import");
  ASSERT_TRUE(im.ok());
  ASSERT_TRUE((*im)->Feed(std::string_view(file).substr(0, file.size() / 2)).ok());
  const ImportReport& so_far = (*im)->Abandon();
  EXPECT_EQ(so_far.added, Live());  // the report and the store agree
  EXPECT_EQ(Live() % 300, 0u);
  EXPECT_EQ(LastSeq(), Live());
  EXPECT_FALSE((*im)->Feed(std::string_view(file).substr(file.size() / 2)).ok());
  EXPECT_FALSE((*im)->Finish().ok());
  EXPECT_EQ(LastSeq(), so_far.added);
}

// Records cross several chunks and converter threads on their way to the
// applier; its decisions must still be those of one pass in file order.
TEST_F(SnapshotImportTest, DecisionsFollowFileOrderAcrossChunks) {
  std::string csv = "id,given_name,email\n";
  for (int i = 0; i < 3000; ++i) {
    const std::string id = "r" + std::to_string(i);
    std::string email = id + "@example.com";
    std::string key = id;
    if (i == 1500) email = "not an address";        // rejected on its own
    if (i == 2500 || i == 2999) key = "r10";        // r10's key again
    if (i == 2700) key = "r2500";  // free key: r2500's row was rejected
    csv += key + ",P" + std::to_string(i) + "," + email + "\n";
  }
  auto r = Import(csv, {.batch_changes = 97}, SourceFormat::kCsv, 1000);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->records, 3000u);
  EXPECT_EQ(r->rejected, 3u);
  EXPECT_EQ(r->added, 2997u);
  ASSERT_EQ(r->errors.size(), 3u);
  // Line = record + 2 (the header is line 1).
  EXPECT_EQ(r->errors[0].line, 1502u);
  EXPECT_NE(r->errors[0].message.find("not an address"), std::string::npos)
      << r->errors[0].message;
  EXPECT_EQ(r->errors[1].line, 2502u);
  EXPECT_EQ(r->errors[1].message, "duplicate key \"r10\": line 12 has it too");
  EXPECT_EQ(r->errors[2].line, 3001u);
  EXPECT_EQ(r->errors[2].message, "duplicate key \"r10\": line 12 has it too");
  EXPECT_EQ(Live(), 2997u);
  EXPECT_EQ(LastSeq(), 2997u);
  // Seqs follow the file: the contact of a later row has a later seq.
  auto first = dir_->GetContact(kDom, "r0");
  auto later = dir_->GetContact(kDom, "r2998");
  ASSERT_TRUE(first.ok() && later.ok());
  EXPECT_EQ(first->seq, 1u);
  EXPECT_EQ(later->seq, 2997u);
  EXPECT_NE(Json("r2500").find("P2700"), std::string::npos);
}

// A record the reader cannot go past ends the import; every record before
// it is still applied, and the import refuses to go on.
TEST_F(SnapshotImportTest, AFatalReadErrorAppliesTheRecordsBeforeIt) {
  std::string csv = "id,given_name\n";
  for (int i = 0; i < 2000; ++i) {
    csv += "r" + std::to_string(i) + ",P" + std::to_string(i) + "\n";
  }
  csv += "big," + std::string(5000, 'x') + "\n";
  csv += "after,Never\n";
  SourceOptions so;
  so.limits.max_record_bytes = 4096;
  auto im = SnapshotImport::Start(*dir_, kDom, SourceFormat::kCsv, so,
                                  {.source = "hr"}, "test-import");
  ASSERT_TRUE(im.ok());
  auto fed = (*im)->Feed(csv);
  ASSERT_FALSE(fed.ok());
  EXPECT_NE(fed.error().message.find("line 2002"), std::string::npos)
      << fed.error().message;
  EXPECT_EQ((*im)->progress().added, 2000u);
  EXPECT_EQ(Live(), 2000u);
  EXPECT_FALSE((*im)->Feed("more,Rows\n").ok());
  EXPECT_FALSE((*im)->Finish().ok());
  EXPECT_EQ(Live(), 2000u);
}

TEST_F(SnapshotImportTest, AWriterRacingTheImportIsNotOverwritten) {
  auto people = demo::GeneratePeople(3);
  ASSERT_TRUE(Import(Csv(people), {}).ok());
  for (Contact& c : people) c.title = "From HR";
  auto im = SnapshotImport::Start(*dir_, kDom, SourceFormat::kCsv, {},
                                  {.source = "hr"}, "test-import");
  ASSERT_TRUE(im.ok());
  // After the import read the source's state, someone edits people[1].
  Contact edited = people[1];
  edited.title = "Edited by hand";
  ASSERT_TRUE(dir_->PutContact(kDom, edited, {}, false, "t").ok());
  ASSERT_TRUE((*im)->Feed(Csv(people)).ok());
  auto r = (*im)->Finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->updated, 2u);
  EXPECT_EQ(r->rejected, 1u);
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].line, LineOf(people, 1));
  EXPECT_NE(r->errors[0].message.find("changed by another writer"),
            std::string::npos);
  EXPECT_NE(Json(people[1].id).find("Edited by hand"), std::string::npos);
}

TEST_F(SnapshotImportTest, EveryFormatImportsTheSameDirectory) {
  auto people = demo::GeneratePeople(200);
  std::string vcf, jsonl;
  for (const Contact& c : people) {
    vcf += ContactToVCard(c);
    jsonl += ContactToJsonLine(c);
  }
  auto csv = Import(Csv(people), {.source = "a"});
  ASSERT_TRUE(csv.ok());
  ASSERT_EQ(csv->added, 200u);
  // The same people from other formats are the same contents: a second
  // source would have to take them over, so each format gets its own domain
  // content check through a re-import of the first source instead.
  auto as_vcard = Import(vcf, {.source = "a"}, SourceFormat::kVCard, 333);
  ASSERT_TRUE(as_vcard.ok());
  EXPECT_EQ(as_vcard->unchanged, 200u)
      << (as_vcard->errors.empty() ? "" : as_vcard->errors[0].message);
  auto as_jsonl = Import(jsonl, {.source = "a"}, SourceFormat::kJsonLines);
  ASSERT_TRUE(as_jsonl.ok());
  EXPECT_EQ(as_jsonl->unchanged, 200u);
  EXPECT_EQ(LastSeq(), 200u);
}

TEST_F(SnapshotImportTest, BadOptions) {
  auto bad = SnapshotImport::Start(*dir_, kDom, SourceFormat::kCsv, {},
                                   {.source = "HR!"}, "t");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason, "invalid_source");
  auto nodom = SnapshotImport::Start(*dir_, "nope.example", SourceFormat::kCsv,
                                     {}, {.source = "hr"}, "t");
  ASSERT_FALSE(nodom.ok());
  EXPECT_EQ(nodom.error().reason, "domain_not_found");
  auto fatal = Import("nothing,known\n1,2\n", {});
  ASSERT_FALSE(fatal.ok());
  EXPECT_EQ(fatal.error().reason, "invalid_csv_header");
}

}  // namespace
}  // namespace galsync
