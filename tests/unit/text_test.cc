#include "common/core/text.h"

#include <gtest/gtest.h>

namespace loadstar {
namespace {

TEST(TextTest, AsciiLowerTouchesOnlyAsciiLetters) {
  EXPECT_EQ(AsciiLower("X-Amz-Date"), "x-amz-date");
  EXPECT_EQ(AsciiLower("ÄÖÜ Straße"), "ÄÖÜ straße");
  EXPECT_EQ(AsciiLower(""), "");
}

TEST(TextTest, TrimWhitespaceTakesSpacesTabsAndLineEnds) {
  EXPECT_EQ(TrimWhitespace(" \t key = value \r\n"), "key = value");
  EXPECT_EQ(TrimWhitespace(" \r\n\t "), "");
  EXPECT_EQ(TrimWhitespace("x"), "x");
}

TEST(TextTest, Utf8SequencesFollowRfc3629) {
  EXPECT_EQ(Utf8SequenceLength("a"), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xC3\xA9"), 2u);          // é
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82\xAC"), 3u);      // €
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x8E\xB5"), 4u);  // 🎵
  EXPECT_EQ(Utf8SequenceLength("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(Utf8SequenceLength("\xE0\x80\xAF"), 0u);      // overlong
  EXPECT_EQ(Utf8SequenceLength("\xED\xA0\x80"), 0u);      // a UTF-16 surrogate
  EXPECT_EQ(Utf8SequenceLength("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82"), 0u);          // cut short
  EXPECT_EQ(Utf8SequenceLength(""), 0u);
  EXPECT_EQ(Utf8CharCount("h\xC3\xA9llo \xF0\x9F\x8E\xB5"), 7u);
}

TEST(TextTest, Utf8PrefixNeverSplitsACharacter) {
  EXPECT_EQ(Utf8Prefix("ab\xE2\x82\xAC", 4), "ab");
  EXPECT_EQ(Utf8Prefix("ab\xE2\x82\xAC", 5), "ab\xE2\x82\xAC");
  EXPECT_EQ(Utf8Prefix("abc", 2), "ab");
}

TEST(TextTest, CopyTextEscapesWhatCopyReadsAndRefusesNul) {
  std::string out;
  EXPECT_TRUE(AppendCopyText("a\\b\tc\nd\re", &out));
  EXPECT_EQ(out, "a\\\\b\\tc\\nd\\re");
  out.clear();
  EXPECT_FALSE(AppendCopyText(std::string_view("ab\0cd", 5), &out));
  EXPECT_EQ(out, "ab");
}

TEST(TextTest, ThousandsAreSeparated) {
  EXPECT_EQ(WithThousands(0), "0");
  EXPECT_EQ(WithThousands(999), "999");
  EXPECT_EQ(WithThousands(1000), "1,000");
  EXPECT_EQ(WithThousands(1234567), "1,234,567");
  EXPECT_EQ(WithThousands(18446744073709551615ull), "18,446,744,073,709,551,615");
}

}  // namespace
}  // namespace loadstar
