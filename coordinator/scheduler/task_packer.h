// Packing listed files into tasks.
//
// Song files are a few hundred bytes each and there are hundreds of thousands of them; an event
// file can be megabytes. One task per file would spend the run on round trips and transactions,
// one task for everything would leave all but one worker idle. So a task carries a byte budget:
// small files share a task, a big file goes alone.
//
// The rules, in order:
//   1. Files are grouped by kind (songs, then events): a task never mixes kinds, because each
//      kind is parsed and staged differently. Within a kind the files keep the order given
//      (the caller passes them in key order), so the same input always packs the same way.
//   2. Files are taken in that order into the current task until adding the next one would
//      take the task over `byte_budget` bytes or over `max_files` files; then the task is
//      closed and the next one started (next-fit: a task is never revisited).
//   3. A task always accepts its first file, so a file larger than the budget goes alone.
//
// Pure: no I/O, O(n log n) in the number of files (a stable sort by kind), deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/core/file_kind.h"

namespace loadstar::coordinator {

struct PackInput {
  uint64_t index = 0;  // the caller's handle for the file, e.g. its position in the listing
  uint64_t size = 0;   // bytes
  FileKind kind = FileKind::kSong;
};

struct PackOptions {
  uint64_t byte_budget = 8ull << 20;  // 8 MiB; 0 puts every non-empty file alone
  size_t max_files = 1000;            // values below 1 are treated as 1
};

struct PackedTask {
  FileKind kind = FileKind::kSong;
  uint64_t bytes = 0;             // sum of the files' sizes
  std::vector<uint64_t> files;    // PackInput::index values, in packing order; never empty
};

// Packs `files` into tasks by the rules above. Tasks come out songs first, then events, each
// kind in the order its files were given. Empty input gives no tasks. Indexes are not checked
// for uniqueness: a file given twice is packed twice.
[[nodiscard]] std::vector<PackedTask> PackTasks(std::vector<PackInput> files, const PackOptions& options = {});

}  // namespace loadstar::coordinator
