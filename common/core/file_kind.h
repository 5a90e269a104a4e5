// What a source file holds: Million Song Dataset song records or eventsim activity events. Each
// kind is listed, packed, parsed and staged on its own. The ledger and the account tables spell
// the kinds "song" and "event"; the wire protocol has its own enum, converted in one place
// (common/transport/transport.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace loadstar {

// Songs order before events (the task packer puts song tasks first).
enum class FileKind : uint8_t { kSong, kEvent };

// "song" or "event".
inline std::string_view FileKindText(FileKind kind) { return kind == FileKind::kSong ? "song" : "event"; }

// The kind "song" or "event" names; nothing for any other text.
inline std::optional<FileKind> ParseFileKind(std::string_view text) {
  if (text == "song") return FileKind::kSong;
  if (text == "event") return FileKind::kEvent;
  return std::nullopt;
}

}  // namespace loadstar
