// The `loadstar export` command: the star tables as a Parquet data lake in S3 or a local folder.
#pragma once

#include <functional>

#include "common/core/stop.h"

namespace CLI {
class App;
}

namespace loadstar::cli {

// Adds export's flags and help to `cmd` and returns what runs it once they are parsed. Its value
// is the process exit code: 0 when the lake and its manifest were written, 1 when the export
// failed or was stopped through `stop` (the previous export, if any, is left as it was), 2 for
// flags that cannot work.
std::function<int()> AddExportCommand(CLI::App* cmd, StopToken stop);

}  // namespace loadstar::cli
