// Import through the real parts: `galsync admin import` uploading to a
// galsyncd child process. A snapshot larger than the server's body limit
// streams through; a re-import changes nothing; rejected lines come back
// with their numbers and exit code 6; keys without the write scope and bad
// parameters are refused before anything is read.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include <boost/json/parse.hpp>

#include "demo/demo_people.h"
#include "galsync/export.h"
#include "test_util.h"

namespace galsync {
namespace {

using testing::HttpClient;
using testing::RunProgram;
using testing::ServerProcess;
using testing::TempDir;

constexpr char kDom[] = "/v1/domains/a.example";

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        dir_.path(), std::vector<std::string>{"--durability", "normal"});
    admin_ = std::make_unique<HttpClient>(*server_);
    ASSERT_EQ(admin_->Post("/v1/domains", R"({"name":"a.example"})").status,
              201);
    writer_key_ = MakeKey(R"(["write"])");
  }

  std::string MakeKey(const std::string& scopes) {
    return testing::CreateKey(*admin_, "a.example", scopes);
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = dir_.file(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  testing::RunResult Import(const std::string& file,
                            std::vector<std::string> extra,
                            const std::string& key = "") {
    std::vector<std::string> args = {
        "admin", "import", file, "--server",
        "http://127.0.0.1:" + std::to_string(server_->port()), "--domain",
        "a.example", "--key", key.empty() ? writer_key_ : key};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunProgram(GALSYNC_CLI_PATH, args);
  }

  uint64_t LastSeq() {
    return admin_->Get(kDom).json().at("last_seq").to_number<uint64_t>();
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> admin_;
  std::string writer_key_;
};

TEST_F(ImportTest, SnapshotLargerThanTheBodyLimitStreamsAndReimportIsANoOp) {
  // ~36 MB of CSV: more than the 32 MiB a buffered request body may have.
  std::string csv = CsvHeader();
  for (const Contact& c : demo::GeneratePeople(90000)) csv += ContactToCsvRow(c);
  ASSERT_GT(csv.size(), size_t{32} << 20);
  const std::string file = WriteFile("people.csv", csv);

  auto first = Import(file, {"--format", "csv", "--source", "hr"});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("hr: 90,000 records: 90,000 added, 0 updated"),
            std::string::npos) << first.output;
  EXPECT_EQ(LastSeq(), 90000u);
  auto one = admin_->Get(std::string(kDom) + "/contacts/p000001/history");
  ASSERT_EQ(one.status, 200);
  EXPECT_NE(one.body.find("import:hr"), std::string::npos) << one.body;

  auto again = Import(file, {"--format", "csv", "--source", "hr",
                             "--delete-missing", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find(R"("unchanged":90000)"), std::string::npos)
      << again.output;
  EXPECT_EQ(LastSeq(), 90000u);  // nothing logged, nothing to download
}

TEST_F(ImportTest, RejectedLinesAreListedAndExitCodeSix) {
  const std::string vcf =
      "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:ann\r\nFN:Ann Smith\r\n"
      "EMAIL:ann@a.example\r\nEND:VCARD\r\n"
      "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:bob\r\nFN:Bob\r\n"
      "EMAIL:bob@@a.example\r\nEND:VCARD\r\n"
      "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:cy\r\nN:Doe;Cy;;;\r\nEND:VCARD\r\n";
  auto dry = Import(WriteFile("a.vcf", vcf),
                    {"--format", "vcard", "--source", "cards", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 6) << dry.output;
  EXPECT_NE(dry.output.find("dry run, nothing changed: cards: 3 records: 2 "
                            "added"),
            std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("line 7: emails[0].address: \"bob@@a.example\""),
            std::string::npos) << dry.output;
  EXPECT_EQ(LastSeq(), 0u);

  auto real = Import(WriteFile("a.vcf", vcf),
                     {"--format", "vcard", "--source", "cards"});
  EXPECT_EQ(real.exit_code, 6) << real.output;
  EXPECT_EQ(LastSeq(), 2u);
  EXPECT_EQ(admin_->Get(std::string(kDom) + "/contacts/cy").status, 200);
}

// An upload that breaks off (here a malformed chunk after 4,000 good rows)
// ends the import: its threads stop, the batches written stay, and the
// error's report counts exactly them.
TEST_F(ImportTest, AnUploadThatBreaksOffReportsWhatWasWritten) {
  std::string rows = "id,given_name\n";
  for (int i = 0; i < 4000; ++i) {
    rows += "p" + std::to_string(i) + ",Person " + std::to_string(i) + "\n";
  }
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", rows.size());
  const std::string request =
      std::string("POST ") + kDom +
      "/import?format=csv&source=hr HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer " + writer_key_ +
      "\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n" +
      size + rows + "\r\nzz\r\n";
  HttpClient raw(server_->port(), writer_key_);
  const std::string response = raw.SendRaw(request);
  ASSERT_TRUE(response.starts_with("HTTP/1.1 400")) << response;
  const size_t body = response.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  auto json = boost::json::parse(response.substr(body + 4)).as_object();
  const auto& report = json.at("report").as_object();
  const uint64_t added = report.at("added").to_number<uint64_t>();
  EXPECT_EQ(added, LastSeq());
  EXPECT_LE(added, 4000u);
}

TEST_F(ImportTest, ImportsAtOnceAreCappedAndAFinishedOneFreesItsSlot) {
  TempDir dir;
  ServerProcess server(dir.path(), {"--max-imports", "1"});
  HttpClient admin(server);
  ASSERT_EQ(admin.Post("/v1/domains", R"({"name":"a.example"})").status, 201);
  const std::string target =
      std::string(kDom) + "/import?format=csv&source=hr";
  {
    // An upload that has begun and stalls. "100 Continue" comes once the
    // import has started, so it holds the slot from then on.
    testing::HeldRequest stalled(
        server.port(),
        "POST " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
            server.admin_key() +
            "\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n");
    ASSERT_TRUE(stalled.head().starts_with("HTTP/1.1 100")) << stalled.head();
    auto busy = admin.Post(target, "id,given_name\nann,Ann\n");
    EXPECT_EQ(busy.status, 503) << busy.body;
    EXPECT_EQ(busy.error_code(), "too_many_imports");
    EXPECT_EQ(busy.headers["retry-after"], "5");
  }
  // The stalled upload went away: its import ends and the slot frees.
  testing::HttpResult ok;
  for (int i = 0; i < 250; ++i) {
    ok = admin.Post(target, "id,given_name\nann,Ann\n");
    if (ok.status != 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(ok.status, 200) << ok.body;
  // One import at a time, not none: a finished one gave its slot back.
  EXPECT_EQ(admin.Post(target, "id,given_name\nann,Ann\n").status, 200);
}

TEST_F(ImportTest, RefusedBeforeAnythingIsRead) {
  const std::string file = WriteFile("p.csv", "id,given_name\nann,Ann\n");
  auto read_only = Import(file, {"--format", "csv", "--source", "hr"},
                          MakeKey(R"(["read"])"));
  EXPECT_EQ(read_only.exit_code, 5) << read_only.output;
  EXPECT_EQ(LastSeq(), 0u);

  auto usage = Import(file, {"--format", "xml", "--source", "hr"});
  EXPECT_EQ(usage.exit_code, 2) << usage.output;

  HttpClient raw(server_->port(), writer_key_);
  struct Case {
    std::string query;
    int status;
    std::string code;
  };
  const Case cases[] = {
      {"", 400, "missing_format"},
      {"?format=csv", 400, "missing_source"},
      {"?format=pdf&source=hr", 400, "invalid_format"},
      {"?format=csv&source=HR!", 400, "invalid_source"},
      {"?format=csv&source=scim", 400, "reserved_source"},
      {"?format=csv&source=hr&key=phone", 400, "invalid_import_key"},
      {"?format=csv&source=hr&dry_run=maybe", 400, "invalid_dry_run"},
      {"?format=csv&source=hr&map.given_name=nonsense", 400,
       "invalid_column_mapping"},
      {"?format=csv&source=hr&map.x=id", 400, "invalid_column_mapping"},
      {"?format=csv&source=hr", 400, "invalid_csv_header"},
  };
  for (const Case& c : cases) {
    auto res = raw.Post(std::string(kDom) + "/import" + c.query,
                        c.code == "invalid_csv_header" ||
                                c.code == "invalid_column_mapping"
                            ? "foo,bar\n1,2\n"
                            : "id,given_name\nann,Ann\n");
    EXPECT_EQ(res.status, c.status) << c.query << ": " << res.body;
    EXPECT_EQ(res.error_code(), c.code) << c.query << ": " << res.body;
  }
  auto other = raw.Post("/v1/domains/b.example/import?format=csv&source=hr",
                        "id,given_name\nann,Ann\n");
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(LastSeq(), 0u);
}

}  // namespace
}  // namespace galsync
