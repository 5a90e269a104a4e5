// A file's kind: its text in the ledger, and its one conversion to and from the wire.
#include "common/core/file_kind.h"

#include <gtest/gtest.h>

#include "common/transport/transport.h"

namespace loadstar {
namespace {

TEST(FileKindTest, TheLedgersTextRoundTrips) {
  EXPECT_EQ(FileKindText(FileKind::kSong), "song");
  EXPECT_EQ(FileKindText(FileKind::kEvent), "event");
  for (FileKind k : {FileKind::kSong, FileKind::kEvent}) EXPECT_EQ(ParseFileKind(FileKindText(k)), k);
  EXPECT_FALSE(ParseFileKind("songs").has_value());
  EXPECT_FALSE(ParseFileKind("").has_value());
  EXPECT_LT(FileKind::kSong, FileKind::kEvent) << "song tasks are packed first";
}

TEST(FileKindTest, TheWireKindConvertsBothWays) {
  EXPECT_EQ(transport::ToWire(FileKind::kSong), wire::FILE_KIND_SONG);
  EXPECT_EQ(transport::ToWire(FileKind::kEvent), wire::FILE_KIND_EVENT);
  for (FileKind k : {FileKind::kSong, FileKind::kEvent}) {
    auto back = transport::FromWire(transport::ToWire(k));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, k);
  }
  // A task that does not say what its files hold is refused, not parsed as events.
  EXPECT_EQ(transport::FromWire(wire::FILE_KIND_UNSPECIFIED).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(transport::FromWire(static_cast<wire::FileKind>(7)).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace loadstar
