// Tests for the JSON lines writer (src/formats/json_lines_writer.cc).
#include <string>

#include <gtest/gtest.h>

#include "formats/export_test_contacts.h"
#include "galsync/contact.h"
#include "galsync/export.h"

namespace galsync {
namespace {

TEST(ExportJsonLinesTest, OneLineOfServedJson) {
  Contact c = export_test::FullContact();
  c.title = "two\nlines";  // a newline in a value must not end the line
  const std::string line = ContactToJsonLine(c);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(line, StoredContactJson(CanonicalContentJson(c), "example.com", 42,
                                    export_test::kUpdatedUs) +
                      "\n");
}

TEST(ExportJsonLinesTest, ParsesBackToTheSameContact) {
  const Contact c = export_test::FullContact();
  std::string line = ContactToJsonLine(c);
  line.pop_back();
  Result<Contact> parsed = ParseContactJson(line);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->SameContent(c));
  EXPECT_EQ(parsed->domain, "example.com");
  EXPECT_EQ(parsed->seq, 42u);
  EXPECT_EQ(parsed->updated_us, export_test::kUpdatedUs);
}

}  // namespace
}  // namespace galsync
