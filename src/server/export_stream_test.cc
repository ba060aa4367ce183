// Tests of ExportStream in process: an export is one consistent snapshot
// (writes made while it is in progress do not show, and no contact appears
// twice), memory stays bounded by the queue, and a reader that goes away
// stops the scan.
#include "server/export_stream.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <map>

#include "demo/demo_people.h"
#include "test_util.h"

namespace galsync::server {
namespace {

namespace asio = boost::asio;
constexpr char kDom[] = "example.com";

class ExportStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::OpenDirectory(tmp_, kDom);
    ASSERT_TRUE(dir_);
  }

  // Writes `people` in batches; their given names get `tag` appended.
  void Write(const std::vector<Contact>& people, const std::string& tag) {
    std::vector<ChangeRequest> batch;
    for (const Contact& p : people) {
      Contact c = p;
      c.name.given += tag;
      c.name.full.clear();
      batch.push_back({ChangeOp::kUpsert, c.id, CanonicalContentJson(c)});
      if (batch.size() == 5000) {
        ASSERT_TRUE(dir_->Write(kDom, batch, "t").ok());
        batch.clear();
      }
    }
    if (!batch.empty()) {
      ASSERT_TRUE(dir_->Write(kDom, batch, "t").ok());
    }
  }

  // The stream's next piece, run to completion on `ioc`.
  Result<std::string> Next(asio::io_context& ioc, ExportStream& s) {
    std::optional<Result<std::string>> out;
    asio::co_spawn(ioc, s.Next(), [&](std::exception_ptr, Result<std::string> r) {
      out = std::move(r);
    });
    ioc.restart();
    ioc.run();
    return std::move(*out);
  }

  testing::TempDir tmp_;
  std::unique_ptr<Directory> dir_;
};

TEST_F(ExportStreamTest, AnExportIsOneSnapshotEvenWhileTheDomainChanges) {
  const auto people = demo::GeneratePeople(6000);
  Write(people, "");
  asio::io_context ioc;
  std::atomic<int> running{1};  // the caller counted the export
  auto format = ExportFormat::Parse("jsonl").value();
  ExportStream stream(*dir_, kDom, View::kFull, format, ioc.get_executor(),
                      running);
  EXPECT_EQ(running.load(), 1);
  auto first = Next(ioc, stream);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_FALSE(first->empty());

  // While the export is under way, every contact is changed (each moves to
  // a higher seq, after the export's position) and some are deleted.
  Write(people, " (changed)");
  std::vector<ChangeRequest> deletes;
  for (size_t i = 0; i < people.size(); i += 7) {
    deletes.push_back({ChangeOp::kDelete, people[i].id, ""});
  }
  ASSERT_TRUE(dir_->Write(kDom, deletes, "t").ok());

  std::string all = *first;
  for (;;) {
    auto piece = Next(ioc, stream);
    ASSERT_TRUE(piece.ok()) << piece.error().message;
    if (piece->empty()) break;
    EXPECT_LE(piece->size(), ExportStream::kPieceBytes + 64 * 1024);
    all += *piece;
  }
  // Each contact exactly once, as it was when the export began.
  std::map<std::string, int> seen;
  size_t start = 0;
  while (start < all.size()) {
    const size_t end = all.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    auto c = ParseContactJson(std::string_view(all).substr(start, end - start));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->name.full.find("(changed)"), std::string::npos) << c->id;
    ++seen[c->id];
    start = end + 1;
  }
  EXPECT_EQ(seen.size(), people.size());
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(running.load(), 1);  // until the response is done with it
}

TEST_F(ExportStreamTest, AReaderThatGoesAwayStopsTheScan) {
  Write(demo::GeneratePeople(8000), "");
  asio::io_context ioc;
  std::atomic<int> running{1};  // the caller counted the export
  auto format = ExportFormat::Parse("vcard").value();
  {
    ExportStream stream(*dir_, kDom, View::kFull, format, ioc.get_executor(),
                        running);
    ASSERT_TRUE(Next(ioc, stream).ok());
    // The scan fills the queue and waits: the whole domain is several
    // times what the queue holds.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(running.load(), 1);
  }  // the reader goes away: the destructor stops and joins the scan
  EXPECT_EQ(running.load(), 0);
}

TEST_F(ExportStreamTest, EveryFormatBeginsWithItsPreambleAndHasEveryContact) {
  const auto people = demo::GeneratePeople(50);
  Write(people, "");
  struct Case {
    const char* format;
    const char* begins;
    const char* per_contact;
  };
  for (const Case& c : {Case{"csv", "id,full_name,", "\r\n"},
                        Case{"vcard", "BEGIN:VCARD\r\nVERSION:4.0", "END:VCARD"},
                        Case{"ldif", "version: 1\n\ndn: uid=", "\ndn: "},
                        Case{"jsonl", "{\"id\":", "\n"}}) {
    asio::io_context ioc;
    std::atomic<int> running{1};  // the caller counted the export
    ExportStream stream(*dir_, kDom, View::kFull,
                        ExportFormat::Parse(c.format).value(),
                        ioc.get_executor(), running);
    std::string all;
    for (;;) {
      auto piece = Next(ioc, stream);
      ASSERT_TRUE(piece.ok()) << piece.error().message;
      if (piece->empty()) break;
      all += *piece;
    }
    EXPECT_TRUE(all.starts_with(c.begins)) << c.format << ": " << all.substr(0, 80);
    size_t n = 0;
    for (size_t at = all.find(c.per_contact); at != std::string::npos;
         at = all.find(c.per_contact, at + 1)) {
      ++n;
    }
    // CSV: a header row and one row per contact (no field of these people
    // holds a CRLF); LDIF: "\ndn: " before every entry.
    const size_t expected = std::string_view(c.format) == "csv" ? 51 : 50;
    EXPECT_EQ(n, expected) << c.format;
  }
}

}  // namespace
}  // namespace galsync::server
