#include "tests/support/sample_upload.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/test_env.h"

namespace loadstar::testing {

Result<int> UploadSample(ObjectStore* store) {
  namespace fs = std::filesystem;
  const std::string sample = SampleDir();
  int uploaded = 0;
  for (const auto& e : fs::recursive_directory_iterator(sample)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), sample).string();
    if (rel.rfind("song_data/", 0) != 0 && rel.rfind("log_data/", 0) != 0) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream body;
    body << in.rdbuf();
    LOADSTAR_RETURN_IF_ERROR(store->Put(rel, body.str()).WithContext("uploading " + rel));
    ++uploaded;
  }
  return uploaded;
}

}  // namespace loadstar::testing
