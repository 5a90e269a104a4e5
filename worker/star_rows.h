// The rows a file stages, shaped for the star (docs/STAGING_ROWS.md): the parser's typed records
// become plays, per-file user and time candidates, and song rows with their match key. The same
// rows go to every warehouse, as COPY text rows.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>
#include <string>
#include <string_view>

namespace loadstar::worker {

// COPY text rows per staging table, and how many rows there are in all.
struct StagedRows {
  std::string songs;  // staging_songs
  std::string plays;  // staging_plays
  std::string users;  // staging_users
  std::string times;  // staging_time
  uint64_t rows = 0;

  bool empty() const { return songs.empty() && plays.empty() && users.empty() && times.empty(); }
  void clear() {
    songs.clear();
    plays.clear();
    users.clear();
    times.clear();
    rows = 0;
  }
};

// PostgreSQL's hashtextextended(text, 0) of `bytes`, as a bigint.
int64_t PostgresHashTextExtended(std::string_view bytes);

// `v` as PostgreSQL's float8 output writes it (shortest exact digits; exponent form below 1e-4
// and from 1e15); -0 as "0". `v` must be finite.
std::string Float8Text(double v);

// The song-matching key of (title, artist name, duration): PostgreSQL's
// hashtextextended(title || chr(31) || artist_name || chr(31) || (duration + 0)::text, 0).
int64_t SongMatchKey(std::string_view title, std::string_view artist_name, double duration);

// PostgreSQL's date_part of the timestamp `ts_ms` epoch milliseconds stand for.
struct TimeParts {
  int hour = 0, day = 0, week = 0, month = 0, year = 0, weekday = 0;  // weekday: 0 = Sunday
};
TimeParts TimePartsOf(int64_t ts_ms);

// Appends the match key column to each staging_songs row of `song_rows` (COPY text rows as the
// parser writes them, prefix columns included) into `out->songs`.
void ShapeSongRows(std::string_view song_rows, StagedRows* out);

// Shapes one file's event rows, a piece at a time: plays at once, user and time candidates
// (reduced over the whole file) when the file is finished.
class EventShaper {
 public:
  // `prefix`: the file's run_id and file_id columns, each followed by a tab.
  explicit EventShaper(std::string prefix) : prefix_(std::move(prefix)) {}

  // Takes the parser's typed event rows (COPY text: prefix, line, then its
  // StagingColumns(kEvent)); appends the plays to `out->plays`.
  void Add(std::string_view event_rows, StagedRows* out);
  // Appends the file's user and time rows.
  void Finish(StagedRows* out);

 private:
  struct User {
    int64_t ts = 0;
    std::optional<int64_t> session_id, item_in_session;
    std::string line, first_name, last_name, gender, level;  // COPY text as staged (\N: NULL)
  };
  static bool Later(const User& a, const User& b);

  const std::string prefix_;
  std::map<std::string, User, std::less<>> users_;  // by user_id, COPY text
  std::vector<int64_t> times_;                     // sorted and made unique by Finish
  std::vector<std::string_view> fields_;
};

}  // namespace loadstar::worker
