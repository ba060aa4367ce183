// Server-side export through a real galsyncd: every format round-trips
// (import -> export -> import changes nothing), the body streams in chunks,
// bad requests get precise errors, the number of exports at once is capped,
// and a client that goes away frees its slot.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "demo/demo_people.h"
#include "galsync/export.h"
#include "test_util.h"

namespace galsync {
namespace {

using testing::HttpClient;
using testing::ServerProcess;
using testing::TempDir;

class ExportTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args = {}) {
    args.insert(args.end(), {"--durability", "normal"});
    server_ = std::make_unique<ServerProcess>(dir_.path(), args);
    admin_ = std::make_unique<HttpClient>(*server_);
  }

  void CreateDomain(const std::string& name) {
    ASSERT_EQ(admin_->Post("/v1/domains", "{\"name\":\"" + name + "\"}").status,
              201);
  }

  uint64_t LastSeq(const std::string& domain) {
    return admin_->Get("/v1/domains/" + domain)
        .json()
        .at("last_seq")
        .to_number<uint64_t>();
  }

  testing::HttpResult Import(const std::string& domain, const std::string& format,
                             const std::string& body) {
    return admin_->Post("/v1/domains/" + domain + "/import?format=" + format +
                            "&source=hr&delete_missing=true",
                        body);
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> admin_;
};

// A file of `people` in `format`, made by the export writers.
std::string FileOf(const std::vector<Contact>& people, const ExportFormat& f) {
  std::string out = f.Begin();
  for (const Contact& c : people) out += f.Entry(c);
  return out;
}

TEST_F(ExportTest, ImportExportImportIsANoOpInEveryFormat) {
  Start();
  const auto people = demo::GeneratePeople(3000);
  for (const char* name : {"csv", "vcard", "vcard3", "ldif", "jsonl"}) {
    SCOPED_TRACE(name);
    const bool v3 = std::string_view(name) == "vcard3";
    const std::string format = v3 ? "vcard" : name;
    const std::string domain = std::string(name) + ".example";
    CreateDomain(domain);
    auto f = ExportFormat::Parse(format, v3 ? "3.0" : "").value();
    auto first = Import(domain, format, FileOf(people, f));
    ASSERT_EQ(first.status, 200) << first.body;
    ASSERT_TRUE(first.json().is_object()) << first.body.substr(0, 2000);
    ASSERT_EQ(first.json().at("added").to_number<int>(), 3000) << first.body;
    const uint64_t seq = LastSeq(domain);

    auto exported = admin_->Get("/v1/domains/" + domain + "/export?format=" +
                                format + (v3 ? "&vcard_version=3.0" : ""));
    ASSERT_EQ(exported.status, 200) << exported.body.substr(0, 200);
    EXPECT_EQ(exported.headers["transfer-encoding"], "chunked");
    EXPECT_EQ(exported.headers["content-type"], f.MediaType());
    EXPECT_NE(exported.headers["content-disposition"].find(domain),
              std::string::npos);
    if (v3) {
      EXPECT_NE(exported.body.find("VERSION:3.0\r\n"), std::string::npos);
    }

    auto again = Import(domain, format, exported.body);
    ASSERT_EQ(again.status, 200) << again.body;
    const boost::json::value report = again.json();
    ASSERT_TRUE(report.is_object()) << again.body.substr(0, 2000);
    const auto& r = report.as_object();
    EXPECT_EQ(r.at("unchanged").to_number<int>(), 3000) << again.body;
    EXPECT_EQ(r.at("added").to_number<int>(), 0) << again.body;
    EXPECT_EQ(r.at("updated").to_number<int>(), 0) << again.body;
    EXPECT_EQ(r.at("deleted").to_number<int>(), 0) << again.body;
    EXPECT_EQ(r.at("rejected").to_number<int>(), 0) << again.body;
    EXPECT_EQ(LastSeq(domain), seq);  // nothing logged
  }
}

TEST_F(ExportTest, ExportHoldsTheLiveContactsOnly) {
  Start();
  CreateDomain("a.example");
  const auto people = demo::GeneratePeople(20);
  auto f = ExportFormat::Parse("jsonl").value();
  ASSERT_EQ(Import("a.example", "jsonl", FileOf(people, f)).status, 200);
  ASSERT_EQ(admin_->Delete("/v1/domains/a.example/contacts/" + people[3].id)
                .status,
            200);
  auto exported = admin_->Get("/v1/domains/a.example/export?format=jsonl");
  ASSERT_EQ(exported.status, 200);
  EXPECT_EQ(std::count(exported.body.begin(), exported.body.end(), '\n'), 19);
  // (Its id may still appear as another person's manager.)
  EXPECT_EQ(exported.body.find("{\"id\":\"" + people[3].id + "\""),
            std::string::npos);
  EXPECT_NE(exported.body.find("{\"id\":\"" + people[4].id + "\""),
            std::string::npos);
  auto empty_domain = [&] {
    CreateDomain("empty.example");
    return admin_->Get("/v1/domains/empty.example/export?format=csv");
  }();
  ASSERT_EQ(empty_domain.status, 200);
  EXPECT_EQ(empty_domain.body, CsvHeader());
}

TEST_F(ExportTest, BadRequestsGetPreciseErrors) {
  Start();
  CreateDomain("a.example");
  struct Case {
    std::string target;
    int status;
    std::string code;
  };
  const Case cases[] = {
      {"/v1/domains/a.example/export", 400, "missing_format"},
      {"/v1/domains/a.example/export?format=", 400, "missing_format"},
      {"/v1/domains/a.example/export?format=pdf", 400, "invalid_format"},
      {"/v1/domains/a.example/export?format=csv&vcard_version=4.0", 400,
       "invalid_vcard_version"},
      {"/v1/domains/a.example/export?format=vcard&vcard_version=2.1", 400,
       "invalid_vcard_version"},
      {"/v1/domains/nope.example/export?format=csv", 404, "domain_not_found"},
  };
  for (const Case& c : cases) {
    auto res = admin_->Get(c.target);
    EXPECT_EQ(res.status, c.status) << c.target << ": " << res.body;
    EXPECT_EQ(res.error_code(), c.code) << c.target << ": " << res.body;
  }
}

// The most a TCP connection's send buffer may grow to on this machine
// (the third field of tcp_wmem): what the kernel can hold for an export
// whose client reads nothing.
size_t SendBufferCeiling() {
  std::ifstream f("/proc/sys/net/ipv4/tcp_wmem");
  size_t min = 0, initial = 0, max = 0;
  if (f >> min >> initial >> max) return max;
  return size_t{4} << 20;  // Linux's default
}

TEST_F(ExportTest, ExportsAtOnceAreCappedAndAClientThatLeavesFreesItsSlot) {
  // A stalled export holds its slot only while it cannot finish: its body
  // must outgrow what the kernel buffers for the connection plus the four
  // 256 KiB pieces the server queues. Size it from this machine's limit, with
  // bulky contacts so that the directory stays small.
  const size_t buffered = SendBufferCeiling() + (size_t{1} << 20);
  if (buffered > (size_t{256} << 20)) {
    GTEST_SKIP() << "this machine lets one connection buffer " << buffered
                 << " bytes; too many for a stalled export to outgrow";
  }
  auto bulky = [](std::vector<Contact> people) {
    for (Contact& c : people) {
      for (char k : std::string("abcd")) {
        c.extra.emplace_back(std::string("note_") + k,
                             std::string(3000, k) + c.id);
      }
    }
    return people;
  };
  auto vcard = ExportFormat::Parse("vcard").value();
  const size_t per_contact =
      FileOf(bulky(demo::GeneratePeople(100)), vcard).size() / 100;
  const size_t count = 2 * buffered / per_contact + 1;
  const auto people = bulky(demo::GeneratePeople(count));

  Start({"--max-exports", "1"});
  CreateDomain("big.example");
  auto f = ExportFormat::Parse("jsonl").value();
  ASSERT_EQ(Import("big.example", "jsonl", FileOf(people, f)).status, 200);
  const std::string target = "/v1/domains/big.example/export?format=vcard";
  const std::string request = "GET " + target +
                              " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                              server_->admin_key() + "\r\n\r\n";
  {
    testing::HeldRequest stalled(server_->port(), request);
    ASSERT_TRUE(stalled.head().starts_with("HTTP/1.1 200")) << stalled.head();
    // The stalled export keeps its slot: the next one is refused.
    auto busy = admin_->Get(target);
    EXPECT_EQ(busy.status, 503) << busy.body.substr(0, 200);
    EXPECT_EQ(busy.error_code(), "too_many_exports");
    EXPECT_EQ(busy.headers["retry-after"], "5");
  }
  // The stalled client went away: its export stops (at the next write the
  // connection fails) and the slot frees.
  testing::HttpResult ok;
  for (int i = 0; i < 250; ++i) {
    ok = admin_->Get(target);
    if (ok.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(ok.status, 200) << ok.body.substr(0, 200);
  size_t cards = 0;
  for (size_t at = ok.body.find("BEGIN:VCARD"); at != std::string::npos;
       at = ok.body.find("BEGIN:VCARD", at + 1)) {
    ++cards;
  }
  EXPECT_EQ(cards, people.size());
}

}  // namespace
}  // namespace galsync
