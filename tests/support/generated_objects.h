// Data sets from the generator (common/generator/generator.h), held in memory so that a test can upload all
// of them, some of them, or some later, and uploaded to a bucket over several connections at
// once (the local S3 server answers one PUT at a time per connection).
#pragma once

#include <string>
#include <vector>

#include "common/generator/generator.h"
#include "common/core/status.h"

namespace loadstar::testing {

struct GeneratedObject {
  std::string key;  // relative: "song_data/A/B/C/TR....json", "log_data/2018/11/2018-11-01-events.json"
  std::string body;
};

struct GeneratedDataSet {
  GenerateSummary summary;
  std::vector<GeneratedObject> objects;  // in the generator's order: song files, then days
};

// Runs the generator into memory.
Result<GeneratedDataSet> GenerateInMemory(const GenerateOptions& options);

// Puts `objects` into `bucket` under `prefix` ("" or ending in '/') with `connections` uploads in
// flight, each thread with its own store (S3 settings from this process's environment).
Status UploadObjects(const std::string& bucket, const std::string& prefix, const std::vector<GeneratedObject>& objects,
                     int connections = 4);

}  // namespace loadstar::testing
