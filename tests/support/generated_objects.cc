#include "tests/support/generated_objects.h"

#include <atomic>
#include <mutex>
#include <thread>

#include "common/storage/object_store.h"

namespace loadstar::testing {

Result<GeneratedDataSet> GenerateInMemory(const GenerateOptions& options) {
  GeneratedDataSet set;
  auto summary = Generate(options, [&](std::string_view key, std::string_view body) {
    set.objects.push_back({std::string(key), std::string(body)});
    return Status::Ok();
  });
  if (!summary.ok()) return summary.status();
  set.summary = *summary;
  return set;
}

Status UploadObjects(const std::string& bucket, const std::string& prefix, const std::vector<GeneratedObject>& objects,
                     int connections) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;  // guarded by mu
  auto upload = [&] {
    auto store = OpenObjectStore(Uri{Uri::Scheme::kS3, bucket, ""});
    if (!store.ok()) {
      std::lock_guard lock(mu);
      if (first_error.ok()) first_error = store.status();
      return;
    }
    for (size_t i = next++; i < objects.size(); i = next++) {
      Status put = (*store)->Put(prefix + objects[i].key, objects[i].body);
      if (!put.ok()) {
        std::lock_guard lock(mu);
        if (first_error.ok()) first_error = put.WithContext("uploading " + prefix + objects[i].key);
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, connections); ++t) threads.emplace_back(upload);
  for (auto& t : threads) t.join();
  return first_error;
}

}  // namespace loadstar::testing
