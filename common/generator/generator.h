// Deterministic Sparkify-shaped data at any scale, and the figures a correct load of it gives.
//
// The generator writes the two inputs loadstar loads, shaped like the real sample
// (data/sparkify-sample):
//   song_data/A/B/C/TRABC<13 chars>.json   one Million Song Dataset record per file: one compact
//                                           JSON object, Python json.dumps style (", " and ": "),
//                                           non-ASCII as \uXXXX, no trailing newline
//   log_data/YYYY/MM/YYYY-MM-DD-events.json eventsim activity, one file per day from 2018-11-01
//                                           (UTC), one JSON object per line, sorted by ts, '/'
//                                           written as "\/", no final newline
// and returns a GenerateSummary: how many rows each warehouse table must hold after a correct
// load, counted while generating. The tests of the pipeline compare loaded tables to it.
//
// Determinism: the output is a pure function of GenerateOptions. The same options give
// byte-identical objects, in the same order, on every platform and standard library: the
// generator uses its own PRNG and integer arithmetic only (no std:: distributions, no libm).
//
// Guarantees about the data that make the figures exact:
//   - song_id, track id and artist_id are unique by construction; every artist has >= 1 song.
//   - Catalogue song titles are unique, and titles of songs played in the logs but absent from
//     the catalogue are never catalogue titles; so a NextSong event matches a catalogue song on
//     (title, artist_name, duration) exactly when the generator meant it to.
//   - Within one user, events that share a ts share a level (a level change is never at the
//     same ts as the event before it), so "level from the user's latest event" is unambiguous.
//   - Every ts ends in 796 ms, like the sample; sessionId is unique across the whole data set and
//     itemInSession counts 0, 1, 2, ... within a session.
//   - Bad records (dirty_share > 0) are extra lines: the clean records, and every clean figure of
//     the summary, are the same as with dirty_share = 0.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/core/status.h"

namespace loadstar {

class ObjectStore;

// The kinds of bad event record the generator can add. Each is a copy of a clean record,
// written on the line after it and changed so that a loader cannot load it as is. Copies that a
// lenient loader might still load (all but kTruncatedLine) are made only of records of visitors
// or of users whose level never changes, so users.level comes out the same either way.
enum class DirtyKind : uint8_t {
  // The record cut short somewhere inside: not a JSON document.
  kTruncatedLine = 0,
  // "sessionId":"session-<n>": text where an integer is required, not a number in a string.
  kNonNumericSessionId = 1,
  // A NextSong record without its "ts" key: the play cannot be placed in time.
  kMissingTs = 2,
};
inline constexpr size_t kDirtyKindCount = 3;

// "truncated_line", "non_numeric_session_id", "missing_ts".
std::string_view DirtyKindName(DirtyKind kind);

constexpr uint32_t DirtyKindBit(DirtyKind kind) { return uint32_t{1} << static_cast<uint32_t>(kind); }
inline constexpr uint32_t kAllDirtyKinds = (uint32_t{1} << kDirtyKindCount) - 1;

struct GenerateOptions {
  // Song files, each one song (= rows of `songs`). At most MaxGeneratedSongs().
  uint64_t songs = 20'000;
  // Distinct artist_ids (= rows of `artists`); 0 means two thirds of `songs` (at least 1 when
  // there are songs). At most `songs`: every artist has at least one song.
  uint64_t artists = 0;
  // Clean event records across all days. Days get roughly equal shares.
  uint64_t events = 1'000'000;
  // The user population events are drawn from; 0 means events / 80 (at least 1). Not every user
  // need appear: GenerateSummary::distinct_users counts those who do.
  uint64_t users = 0;
  // Days of logs, one file per day, starting 2018-11-01. A day that receives no events gets no
  // file.
  uint32_t days = 30;
  uint64_t seed = 1;
  // Share of NextSong events whose (song, artist, length) is exactly a catalogue song's
  // (title, artist_name, duration). The rest name songs outside the catalogue.
  double match_share = 0.25;
  // Share of NextSong events that name a catalogue song but differ from it in exactly one of
  // length, artist or encoding (the title double-UTF-8-encoded, as in the real logs): they must
  // not match. match_share + near_miss_share <= 1.
  double near_miss_share = 0.02;
  // Bad records added, per clean record; 0 adds none. Kinds are drawn evenly from those set in
  // `dirty_kinds` (a mask of DirtyKindBit values); a kind that needs a particular record (a
  // NextSong for kMissingTs) waits for the next record that has what it needs.
  double dirty_share = 0.0;
  uint32_t dirty_kinds = kAllDirtyKinds;
};

// What was written, and the figures a correct load of it must give. Every count covers clean
// records only, except those in `dirty`.
struct GenerateSummary {
  uint64_t files = 0;  // objects written (song files + day files)
  uint64_t bytes = 0;  // bytes written, all objects
  uint64_t song_files = 0;
  uint64_t song_bytes = 0;
  uint64_t log_files = 0;
  uint64_t log_bytes = 0;

  uint64_t songs = 0;                  // song records = distinct song_id = rows of songs
  uint64_t songs_without_year = 0;     // year 0 in the file (loaded as NULL)
  uint64_t artists = 0;                // distinct artist_id = rows of artists
  uint64_t artists_without_coordinates = 0;  // null artist_latitude/longitude

  uint64_t events = 0;             // clean event records (each staged, none rejected)
  uint64_t next_song_events = 0;   // page NextSong = rows of songplays
  uint64_t logged_out_events = 0;  // auth "Logged Out", userId ""
  uint64_t sessions = 0;           // distinct sessionId
  uint64_t distinct_users = 0;     // distinct non-empty userId = rows of users
  uint64_t paid_users = 0;         // users whose latest event (by ts) has level "paid"
  uint64_t users_changing_level = 0;  // users whose events carry both levels
  uint64_t matched_plays = 0;      // songplays with song_id and artist_id set
  uint64_t near_miss_plays = 0;    // NextSong events built to almost match (counted unmatched)
  uint64_t distinct_next_song_ts = 0;  // distinct NextSong ts = rows of time
  int64_t first_ts = 0;            // smallest and largest ts of any clean event, epoch ms;
  int64_t last_ts = 0;             // 0 when there are no events

  std::array<uint64_t, kDirtyKindCount> dirty{};  // bad records added, by DirtyKind

  uint64_t dirty_records() const;
  // Expected row counts of the loaded star schema, as named above.
  uint64_t expected_songplays() const { return next_song_events; }
  uint64_t expected_time_rows() const { return distinct_next_song_ts; }

  // One "name: value" line per figure, for people.
  std::string ToString() const;
};

// Receives each generated object. `key` is relative ("song_data/A/B/C/TRABC....json",
// "log_data/2018/11/2018-11-01-events.json"); `body` is valid only during the call. A non-OK
// return stops generation.
using ObjectSink = std::function<Status(std::string_view key, std::string_view body)>;

// The largest `songs` the title space allows (titles are unique by construction): about 570,000.
uint64_t MaxGeneratedSongs();

// OK, or InvalidArgument naming the first option out of range and what would be accepted.
[[nodiscard]] Status ValidateGenerateOptions(const GenerateOptions& options);

// Generates the data set described by `options`, calling `sink` once per object from the calling
// thread: every song file in catalogue order, then one file per day in date order. Returns the
// summary, or: InvalidArgument if the options are not valid (nothing is written; in the unlikely
// case that a day's events do not fit the users' days, InvalidArgument when that day is reached); the first
// error `sink` returns, with the key in front, once generation has stopped (objects already
// handed to the sink stay written). Memory: one day's file and its events (about 0.5 KB per
// event), plus about 64 bytes per user; nothing grows with the number of songs or days.
[[nodiscard]] Result<GenerateSummary> Generate(const GenerateOptions& options, const ObjectSink& sink);

// Generate() writing each object to `store` under `prefix`: the object's key is `prefix`, a '/'
// if `prefix` is not empty and does not end in one, and the relative key. For an S3 store
// `prefix` is a key prefix ("" for the bucket's root); for a file store, an absolute directory.
// A failed Put stops generation and is returned with the object's URI in front.
[[nodiscard]] Result<GenerateSummary> GenerateToStore(const GenerateOptions& options, ObjectStore& store,
                                                      std::string_view prefix);

}  // namespace loadstar
