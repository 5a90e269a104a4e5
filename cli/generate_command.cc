#include "cli/generate_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "common/generator/generator.h"
#include "common/storage/object_store.h"

namespace loadstar::cli {

std::function<int()> AddGenerateCommand(CLI::App* cmd) {
  struct State {
    GenerateOptions options;
    std::string to;
  };
  auto st = std::make_shared<State>();
  cmd->add_option("--to", st->to,
                  "where to write: s3://bucket/prefix/ or file:///path/ (song_data/ and log_data/ go below it)")
      ->required();
  cmd->add_option("--songs", st->options.songs, "song files (one song each)")->capture_default_str();
  cmd->add_option("--events", st->options.events, "events over all daily logs")->capture_default_str();
  cmd->add_option("--days", st->options.days, "daily log files, from 2018-11-01")->capture_default_str();
  cmd->add_option("--users", st->options.users, "distinct users (0: derived from --events)")->capture_default_str();
  cmd->add_option("--seed", st->options.seed, "same seed, same bytes")->capture_default_str();
  cmd->add_option("--match-share", st->options.match_share,
                  "share of plays whose song, artist and length match a generated song")
      ->capture_default_str();
  cmd->add_option("--dirty-share", st->options.dirty_share,
                  "share of extra malformed event records (for testing rejects)")
      ->capture_default_str();
  cmd->footer("Example:\n  loadstar generate --to file:///tmp/sparkify/ --songs 20000 --events 1000000");
  return [st]() -> int {
    Status valid = ValidateGenerateOptions(st->options);
    if (!valid.ok()) {
      std::fprintf(stderr, "loadstar generate: %s\n", valid.message().c_str());
      return 2;
    }
    auto uri = ParseUri(st->to);
    if (!uri.ok()) {
      std::fprintf(stderr, "loadstar generate: %s\n", uri.status().message().c_str());
      return 2;
    }
    auto store = OpenObjectStore(*uri);
    if (!store.ok()) {
      std::fprintf(stderr, "loadstar generate: %s\n", store.status().message().c_str());
      return 1;
    }
    auto summary = GenerateToStore(st->options, **store, uri->path);
    if (!summary.ok()) {
      std::fprintf(stderr, "loadstar generate: %s\n", summary.status().message().c_str());
      return 1;
    }
    std::printf("%s\n", summary->ToString().c_str());
    return 0;
  };
}

}  // namespace loadstar::cli
