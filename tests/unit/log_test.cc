// Log lines: one line per call whatever the message holds, a cap on a message's length, and
// the throttled warnings.
#include "common/core/log.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace loadstar::log {
namespace {

using Clock = std::chrono::steady_clock;

// Captures the log's lines for the length of a test, in text format at level info. The
// throttle's keys outlive a test: each test uses keys of its own.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLevel(Level::kInfo);
    SetFormat(Format::kText);
    SetComponent("coordinator");
    SetSink([this](std::string_view line) { lines_.emplace_back(line); });
    SetThrottleInterval(std::chrono::seconds(1));
    SetThrottleClock([this] { return now_; });
    FlushThrottled();  // what earlier tests held back
    lines_.clear();
  }
  void TearDown() override {
    SetSink(nullptr);
    SetThrottleClock(nullptr);
    SetThrottleInterval(std::chrono::seconds(1));
    SetFormat(Format::kText);
  }

  // The message part of text line `i` (after "component: "), without its line feed.
  std::string Message(size_t i) const {
    const std::string& line = lines_.at(i);
    size_t start = line.find("coordinator: ");
    EXPECT_NE(start, std::string::npos) << line;
    EXPECT_EQ(line.back(), '\n') << line;
    return line.substr(start + 13, line.size() - start - 14);
  }

  std::vector<std::string> lines_;  // SetSink runs under the log's lock: no lock needed here
  Clock::time_point now_ = Clock::time_point() + std::chrono::hours(1);
};

TEST_F(LogTest, ControlCharactersAreEscapedSoOneCallIsOneLine) {
  Warn("worker 'evil\n2026-11-22T01:02:03.000Z error coordinator: forged\r\x1b[2J\x1b]0;title\x07' said hello");
  ASSERT_EQ(lines_.size(), 1u);
  const std::string& line = lines_[0];
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  for (char c : line.substr(0, line.size() - 1)) {
    EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7F) << "raw control byte " << int(c) << " in " << line;
  }
  EXPECT_EQ(Message(0),
            "worker 'evil\\n2026-11-22T01:02:03.000Z error coordinator: forged\\r\\x1b[2J\\x1b]0;title\\x07' said "
            "hello");
}

TEST_F(LogTest, TabsDelC1ControlsAndBytesThatAreNotUtf8AreEscaped) {
  Info(std::string("a\tb\x7f" "c\xc2\x9b" "31md\xff\xfe" "e\x00" "f", 16));
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(Message(0), "a\\tb\\x7fc\\u009b31md\\xff\\xfee\\x00f");
}

TEST_F(LogTest, PrintableUtf8AndBackslashesStayAsTheyAre) {
  Info("Björk — 東京 \\ C:\\path «ok» é");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(Message(0), "Björk — 東京 \\ C:\\path «ok» é");
}

TEST_F(LogTest, TheComponentIsEscapedToo) {
  SetComponent("worker\n1");
  Info("x");
  SetComponent("coordinator");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find(" worker\\n1: x\n"), std::string::npos) << lines_[0];
}

TEST_F(LogTest, JsonLinesEscapeAsJson) {
  SetFormat(Format::kJson);
  const std::string message = "line one\nline two \x1b[31m red \x7f";
  Warn(message);
  ASSERT_EQ(lines_.size(), 1u);
  const std::string& line = lines_[0];
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
  EXPECT_EQ(std::string_view(doc["msg"]), message);
}

TEST_F(LogTest, LongMessagesAreCutWithTheCountOfWhatWasLeftOut) {
  const std::string name(64 << 20, 'n');  // a worker name of 64 MB
  Warn("worker " + name + " is unknown");
  ASSERT_EQ(lines_.size(), 1u);
  const std::string message = Message(0);
  const size_t left_out = 7 + name.size() + 11 - kMaxMessageBytes;
  EXPECT_EQ(message, "worker " + std::string(kMaxMessageBytes - 7, 'n') + "... (" + std::to_string(left_out) +
                         " bytes more)");
  EXPECT_LT(lines_[0].size(), kMaxMessageBytes + 200);

  // A message of exactly the limit is whole.
  Info(std::string(kMaxMessageBytes, 'x'));
  EXPECT_EQ(Message(1), std::string(kMaxMessageBytes, 'x'));

  SetFormat(Format::kJson);
  Warn(name);
  EXPECT_LT(lines_.at(2).size(), kMaxMessageBytes + 200);
  EXPECT_NE(lines_[2].find("... (" + std::to_string(name.size() - kMaxMessageBytes) + " bytes more)"),
            std::string::npos);
}

TEST_F(LogTest, LongMessagesAreCutOnACharacterBoundary) {
  // "é" is two bytes; with one byte of padding the limit falls in the middle of one.
  std::string message = "x";
  while (message.size() < kMaxMessageBytes + 100) message += "é";
  Info(message);
  const std::string got = Message(0);
  const size_t cut = got.find("... (");
  ASSERT_NE(cut, std::string::npos);
  EXPECT_EQ(cut, kMaxMessageBytes - 1);
  EXPECT_EQ(got.substr(cut), "... (" + std::to_string(message.size() - cut) + " bytes more)");
  EXPECT_EQ(got.find("\\x"), std::string::npos) << "a character was split";
}

TEST_F(LogTest, ThrottledWarningsAreWrittenOncePerIntervalAndSayHowManyWereHeldBack) {
  WarnThrottled("unknown-task", "task result for an unknown task 1");
  for (int i = 2; i <= 10'000; ++i) {
    now_ += std::chrono::microseconds(100);
    WarnThrottled("unknown-task", "task result for an unknown task " + std::to_string(i));
  }
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(Message(0), "task result for an unknown task 1");
  EXPECT_NE(lines_[0].find(" warn "), std::string::npos) << lines_[0];

  // Another key is throttled on its own.
  WarnThrottled("bad-credit", "credit 0 from worker-1");
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(Message(1), "credit 0 from worker-1");

  now_ = now_ - std::chrono::microseconds(100 * 9'999) + std::chrono::milliseconds(1200);
  WarnThrottled("unknown-task", "task result for an unknown task 10001");
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_EQ(Message(2), "task result for an unknown task 10001 (and 9,999 more like it in the last 1.2 s)");

  // Nothing held back since: no count.
  now_ += std::chrono::seconds(5);
  WarnThrottled("unknown-task", "task result for an unknown task 10002");
  EXPECT_EQ(Message(3), "task result for an unknown task 10002");
}

TEST_F(LogTest, FlushWritesTheLastWarningHeldBack) {
  WarnThrottled("k", "first");
  now_ += std::chrono::milliseconds(100);
  WarnThrottled("k", "second");
  now_ += std::chrono::milliseconds(100);
  WarnThrottled("k", "third");
  WarnThrottled("j", "only");
  now_ += std::chrono::milliseconds(200);
  FlushThrottled();
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_EQ(Message(0), "first");
  EXPECT_EQ(Message(1), "only");
  EXPECT_EQ(Message(2), "third (and 1 more like it in the last 0.4 s)");
  FlushThrottled();
  EXPECT_EQ(lines_.size(), 3u) << "said once";
}

TEST_F(LogTest, ThrottledWarningsBelowTheLevelAreNotCounted) {
  SetLevel(Level::kError);
  WarnThrottled("level", "hidden");
  SetLevel(Level::kInfo);
  WarnThrottled("level", "shown");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(Message(0), "shown");
}

TEST_F(LogTest, ThrottleIsThreadSafeAndCountsEveryWarning) {
  SetThrottleClock(nullptr);
  SetThrottleInterval(std::chrono::hours(1));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 2'500; ++i) WarnThrottled("flood", "flood");
    });
  }
  for (auto& t : threads) t.join();
  FlushThrottled();
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(Message(0), "flood");
  EXPECT_EQ(Message(1).rfind("flood (and 9,998 more like it in the last ", 0), 0u) << Message(1);
}

}  // namespace
}  // namespace loadstar::log
