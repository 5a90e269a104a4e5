// The Sparkify sample (SampleDir()) put into an object store under the same relative keys as on
// disk (song_data/..., log_data/...), for tests that load it through S3.
#pragma once

#include "common/core/status.h"
#include "common/storage/object_store.h"

namespace loadstar::testing {

// Uploads every file under the sample's song_data/ and log_data/; returns how many.
Result<int> UploadSample(ObjectStore* store);

}  // namespace loadstar::testing
