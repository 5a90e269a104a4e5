// Single-core RecordParser throughput on event logs.
//
//   record_parser_bench [--sample-dir DIR] [--mb N] [--repeat K]
//
// Builds one body by repeating the sample's log lines (log_data/**/*.json, newline-delimited)
// until it holds at least N MB (default 425, about 1,000,000 events), parses it K times (default
// 3) with one RecordParser, and prints the best time as MB/s and records/s. Output rows go to a
// reused string, as the stager does.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/storage/object_store.h"
#include "worker/parse/record_parser.h"

namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::string data(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  return data;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path sample_dir;
  if (const char* env = std::getenv("LOADSTAR_SAMPLE_DIR")) sample_dir = env;
  double megabytes = 425;
  int repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--sample-dir") == 0) {
      sample_dir = argv[i + 1];
    } else if (std::strcmp(argv[i], "--mb") == 0) {
      megabytes = std::atof(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--repeat") == 0) {
      repeat = std::max(1, std::atoi(argv[i + 1]));
    } else {
      std::fprintf(stderr, "usage: %s [--sample-dir DIR] [--mb N] [--repeat K]\n", argv[0]);
      return 2;
    }
  }
  if (sample_dir.empty() || !std::filesystem::is_directory(sample_dir / "log_data")) {
    std::fprintf(stderr, "no log_data under '%s': pass --sample-dir or set LOADSTAR_SAMPLE_DIR\n",
                 sample_dir.c_str());
    return 2;
  }

  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(sample_dir / "log_data")) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::string logs;
  for (const auto& f : files) {
    if (!logs.empty()) logs += '\n';
    logs += ReadFile(f);
  }

  const auto target = static_cast<size_t>(megabytes * 1e6);
  std::string body;
  body.reserve(target + logs.size() + loadstar::kBodyPadding + 1);
  while (body.size() < target) {
    if (!body.empty()) body += '\n';
    body += logs;
  }

  loadstar::worker::RecordParser parser;
  std::string rows;
  double best = 1e300;
  uint64_t records = 0, staged = 0;
  for (int k = 0; k < repeat; ++k) {
    rows.clear();
    const auto start = std::chrono::steady_clock::now();
    const auto result = parser.Parse(loadstar::worker::FileKind::kEvent, body, "1\t1\t", &rows);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, seconds);
    records = result.records;
    staged = result.staged;
  }
  std::printf("body %.1f MB, %llu records, %llu staged, rows %.1f MB\n", static_cast<double>(body.size()) / 1e6,
              static_cast<unsigned long long>(records), static_cast<unsigned long long>(staged),
              static_cast<double>(rows.size()) / 1e6);
  std::printf("best of %d: %.3f s, %.0f MB/s, %.2f M records/s\n", repeat, best,
              static_cast<double>(body.size()) / 1e6 / best, static_cast<double>(records) / 1e6 / best);
  return staged == records ? 0 : 1;
}
