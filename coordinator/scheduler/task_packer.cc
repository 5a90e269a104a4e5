#include "coordinator/scheduler/task_packer.h"

#include <algorithm>
#include <utility>

namespace loadstar::coordinator {

std::vector<PackedTask> PackTasks(std::vector<PackInput> files, const PackOptions& options) {
  const size_t max_files = std::max<size_t>(options.max_files, 1);
  std::stable_sort(files.begin(), files.end(),
                   [](const PackInput& a, const PackInput& b) { return a.kind < b.kind; });

  std::vector<PackedTask> tasks;
  PackedTask current;
  auto close = [&] {
    if (!current.files.empty()) tasks.push_back(std::move(current));
    current = PackedTask{};
  };
  for (const PackInput& f : files) {
    if (!current.files.empty()) {
      // Written so that no sum can overflow: bytes <= byte_budget holds for any task of two or
      // more files, and a lone oversized file is closed by the first test.
      const bool over_budget = current.bytes > options.byte_budget || f.size > options.byte_budget - current.bytes;
      if (f.kind != current.kind || over_budget || current.files.size() >= max_files) close();
    }
    if (current.files.empty()) current.kind = f.kind;
    current.files.push_back(f.index);
    current.bytes += f.size;
  }
  close();
  return tasks;
}

}  // namespace loadstar::coordinator
