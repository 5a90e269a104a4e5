// Staging for Redshift, without Redshift: COPY text rows turned into CSV records
// (AppendCsvRecord), and a task's files written as gzip CSV parts plus a marker into an object
// store held in memory (S3PartStager). The parts are read back here with a CSV reader of the
// test's own, so that what the worker writes is checked against RFC 4180 and not against itself.
#include "worker/part_stager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/core/text.h"
#include "proto/message_json.h"
#include "worker/parse/decompress.h"
#include "worker/parse/record_parser.h"

namespace loadstar::worker {
namespace {

using ::testing::HasSubstr;

// One CSV field as Redshift's COPY ... CSV EMPTYASNULL reads it: nullopt for an empty unquoted
// field (NULL), else the quoted value.
using Field = std::optional<std::string>;
using Record = std::vector<Field>;

// Reads `csv` as RFC 4180 records ending in '\n'. Strict about what AppendCsvRecord promises:
// every non-NULL value quoted, so an unquoted field that is not empty is an error, as is a quote
// not followed by a delimiter, a record end or another quote, or a record without its newline.
bool ReadCsv(std::string_view csv, std::vector<Record>* records, std::string* error) {
  size_t i = 0;
  while (i < csv.size()) {
    Record rec;
    while (true) {
      Field f;
      if (i < csv.size() && csv[i] == '"') {
        std::string v;
        ++i;
        while (true) {
          if (i >= csv.size()) {
            *error = "unterminated quoted field in record " + std::to_string(records->size() + 1);
            return false;
          }
          if (csv[i] == '"') {
            if (i + 1 < csv.size() && csv[i + 1] == '"') {
              v += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          v += csv[i++];
        }
        f = std::move(v);
      }
      if (i >= csv.size()) {
        *error = "record " + std::to_string(records->size() + 1) + " has no newline at its end";
        return false;
      }
      rec.push_back(std::move(f));
      if (csv[i] == ',') {
        ++i;
        continue;
      }
      if (csv[i] == '\n') {
        ++i;
        break;
      }
      *error = "unexpected byte " + std::to_string(static_cast<unsigned char>(csv[i])) + " at offset " +
               std::to_string(i) + " (an unquoted value, or text after a closing quote)";
      return false;
    }
    records->push_back(std::move(rec));
  }
  return true;
}

std::vector<Record> MustReadCsv(std::string_view csv) {
  std::vector<Record> records;
  std::string error;
  EXPECT_TRUE(ReadCsv(csv, &records, &error)) << error << "\n" << csv.substr(0, 2000);
  return records;
}

// AppendCsvRecord with a generous limit; fails the test if the record is refused.
std::string Csv(std::string_view row, size_t limit = kMaxRedshiftFieldBytes) {
  std::string out;
  size_t field = 99, bytes = 99;
  EXPECT_TRUE(AppendCsvRecord(row, limit, &out, &field, &bytes)) << row;
  return out;
}

// --- AppendCsvRecord -------------------------------------------------------------------------

TEST(AppendCsvRecordTest, QuotesEveryValueAndEndsTheRecord) {
  EXPECT_EQ(Csv("a\tb\tc"), "\"a\",\"b\",\"c\"\n");
  EXPECT_EQ(Csv("42\t7\t1\t200.5"), "\"42\",\"7\",\"1\",\"200.5\"\n");
}

TEST(AppendCsvRecordTest, ARowOfOneField) {
  EXPECT_EQ(Csv("only"), "\"only\"\n");
  EXPECT_EQ(Csv(""), "\"\"\n") << "an empty row is one empty string, not nothing";
  EXPECT_EQ(Csv("\\N"), "\n") << "one NULL: an empty unquoted field";
}

TEST(AppendCsvRecordTest, TheEmptyStringIsQuotedAndNullIsNot) {
  EXPECT_EQ(Csv("a\t\tb"), "\"a\",\"\",\"b\"\n");
  EXPECT_EQ(Csv("a\t\\N\tb"), "\"a\",,\"b\"\n");
  // A trailing empty field is the empty string, quoted, so that it is not read as NULL.
  EXPECT_EQ(Csv("a\t"), "\"a\",\"\"\n");
  EXPECT_EQ(Csv("\t"), "\"\",\"\"\n");
}

TEST(AppendCsvRecordTest, NullsAtTheStartAndTheEnd) {
  EXPECT_EQ(Csv("\\N\tx"), ",\"x\"\n");
  EXPECT_EQ(Csv("x\t\\N"), "\"x\",\n");
  EXPECT_EQ(Csv("\\N\tx\t\\N"), ",\"x\",\n");
  EXPECT_EQ(Csv("\\N\t\\N\t\\N"), ",,\n");
}

TEST(AppendCsvRecordTest, QuotesInsideAreDoubled) {
  EXPECT_EQ(Csv("say \"hi\""), "\"say \"\"hi\"\"\"\n");
  EXPECT_EQ(Csv("\""), "\"\"\"\"\n");
  EXPECT_EQ(Csv("\"\"\t\"a"), "\"\"\"\"\"\",\"\"\"a\"\n");
}

TEST(AppendCsvRecordTest, CommasNewlinesAndCarriageReturnsStayInsideTheQuotes) {
  EXPECT_EQ(Csv("a,b\tline1\\nline2\tcr\\rhere\tcrlf\\r\\n"),
            "\"a,b\",\"line1\nline2\",\"cr\rhere\",\"crlf\r\n\"\n");
}

TEST(AppendCsvRecordTest, CopyTextEscapesAreUnescaped) {
  EXPECT_EQ(Csv("\\t|\\n|\\r|\\\\|\\b|\\f|\\v"), "\"\t|\n|\r|\\|\b|\f|\v\"\n");
  // An escaped backslash before N is the two characters \N, not NULL.
  EXPECT_EQ(Csv("\\\\N"), "\"\\N\"\n");
  EXPECT_EQ(Csv("x\t\\\\N\t\\N"), "\"x\",\"\\N\",\n");
  // \N only as a whole value means NULL.
  EXPECT_EQ(Csv("a\\N"), "\"aN\"\n");
}

TEST(AppendCsvRecordTest, MultibyteUtf8PassesUnchanged) {
  const std::string text = "Beyonc\xc3\xa9 \xe6\xbc\xa2\xe5\xad\x97 \xf0\x9f\x98\x80";  // é, 漢字, 😀
  EXPECT_EQ(Csv(text + "\t" + text), "\"" + text + "\",\"" + text + "\"\n");
}

TEST(AppendCsvRecordTest, AppendsAfterWhatIsThere) {
  std::string out = "\"earlier\"\n";
  size_t field = 0, bytes = 0;
  ASSERT_TRUE(AppendCsvRecord("x", 10, &out, &field, &bytes));
  EXPECT_EQ(out, "\"earlier\"\n\"x\"\n");
}

TEST(AppendCsvRecordTest, TheLimitIsOnTheUnescapedValueInBytes) {
  size_t field = 0, bytes = 0;
  std::string out;
  // Exactly at the limit: accepted.
  ASSERT_TRUE(AppendCsvRecord(std::string(10, 'x'), 10, &out, &field, &bytes));
  EXPECT_EQ(out, "\"" + std::string(10, 'x') + "\"\n");
  // One over: refused, nothing appended, the field and its length said.
  out = "keep";
  ASSERT_FALSE(AppendCsvRecord("ok\t" + std::string(11, 'x'), 10, &out, &field, &bytes));
  EXPECT_EQ(out, "keep") << "a refused record appends nothing";
  EXPECT_EQ(field, 1u);
  EXPECT_EQ(bytes, 11u);
  // Escapes count once unescaped: 10 escaped tabs are 20 bytes of COPY text, 10 of value.
  out.clear();
  std::string tabs;
  for (int i = 0; i < 10; ++i) tabs += "\\t";
  EXPECT_TRUE(AppendCsvRecord(tabs, 10, &out, &field, &bytes));
  EXPECT_FALSE(AppendCsvRecord(tabs + "\\\\", 10, &out, &field, &bytes));
  EXPECT_EQ(bytes, 11u);
  // Quotes count once: doubling happens after the check.
  EXPECT_TRUE(AppendCsvRecord(std::string(10, '"'), 10, &out, &field, &bytes));
  // NULL is no value: never too long.
  EXPECT_TRUE(AppendCsvRecord("\\N\t\\N", 0, &out, &field, &bytes));
  EXPECT_TRUE(AppendCsvRecord("", 0, &out, &field, &bytes));
  EXPECT_FALSE(AppendCsvRecord("\\N\ta", 0, &out, &field, &bytes));
  EXPECT_EQ(field, 1u);
  EXPECT_EQ(bytes, 1u);
}

TEST(AppendCsvRecordTest, TheFirstFieldOverTheLimitIsTheOneNamed) {
  size_t field = 0, bytes = 0;
  std::string out;
  ASSERT_FALSE(AppendCsvRecord("a\tbbbb\tccccc\tdd", 3, &out, &field, &bytes));
  EXPECT_EQ(field, 1u);
  EXPECT_EQ(bytes, 4u);
  ASSERT_FALSE(AppendCsvRecord("aaaa", 3, &out, &field, &bytes));
  EXPECT_EQ(field, 0u);
  ASSERT_FALSE(AppendCsvRecord("a\tb\tc\tdddd", 3, &out, &field, &bytes));
  EXPECT_EQ(field, 3u) << "the last field";
  EXPECT_TRUE(out.empty());
}

// Redshift's limit is in bytes: 65535 bytes of three-byte characters fit, one byte more does not.
TEST(AppendCsvRecordTest, RedshiftsLimitCountsBytesNotCharacters) {
  std::string value;
  for (int i = 0; i < 21845; ++i) value += "\xe6\xbc\xa2";  // 漢, 3 bytes: 65535 in all
  ASSERT_EQ(value.size(), kMaxRedshiftFieldBytes);
  size_t field = 0, bytes = 0;
  std::string out;
  ASSERT_TRUE(AppendCsvRecord("1\t" + value, kMaxRedshiftFieldBytes, &out, &field, &bytes));
  std::vector<Record> back = MustReadCsv(out);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0][1], value);
  out.clear();
  ASSERT_FALSE(AppendCsvRecord("1\t" + value + "a", kMaxRedshiftFieldBytes, &out, &field, &bytes));
  EXPECT_EQ(field, 1u);
  EXPECT_EQ(bytes, kMaxRedshiftFieldBytes + 1);
}

// Any values, written as COPY text the way the parser writes them and turned into CSV, read back
// as the same values.
TEST(AppendCsvRecordTest, ValuesRoundTripThroughCopyTextAndCsv) {
  std::mt19937 rng(20181105);
  const std::string alphabet = std::string("ab ,\"'\t\n\r\\N") + "\xc3\xa9";
  std::string csv;
  std::vector<Record> expected;
  for (int r = 0; r < 2000; ++r) {
    const int n = 1 + static_cast<int>(rng() % 6);
    Record rec;
    std::string row;
    for (int i = 0; i < n; ++i) {
      if (i > 0) row += '\t';
      if (rng() % 5 == 0) {
        row += "\\N";
        rec.push_back(std::nullopt);
        continue;
      }
      std::string v;
      const int len = static_cast<int>(rng() % 8);
      for (int k = 0; k < len; ++k) v += alphabet[rng() % alphabet.size()];
      ASSERT_TRUE(AppendCopyText(v, &row));
      rec.push_back(v);
    }
    csv += Csv(row);
    expected.push_back(std::move(rec));
  }
  EXPECT_EQ(MustReadCsv(csv), expected);
}

// --- S3PartStager ----------------------------------------------------------------------------

// An object store in memory that remembers the order of its Puts, and can be told to fail one.
class RecordingStore final : public ObjectStore {
 public:
  Status List(std::string_view prefix, const std::function<Status(ObjectInfo)>& sink) override {
    for (const auto& [key, body] : objects) {
      if (key.compare(0, prefix.size(), prefix) != 0) continue;
      LOADSTAR_RETURN_IF_ERROR(sink(ObjectInfo{key, body.size(), "etag-" + std::to_string(body.size())}));
    }
    return Status::Ok();
  }
  Result<std::string> Get(std::string_view key) override {
    auto it = objects.find(std::string(key));
    if (it == objects.end()) return Status::NotFound(std::string(key));
    std::string out;
    out.reserve(it->second.size() + kBodyPadding);
    out = it->second;
    return out;
  }
  void GetMany(const std::vector<std::string>& keys, size_t,
               const std::function<void(size_t, Result<std::string>)>& done) override {
    for (size_t i = 0; i < keys.size(); ++i) done(i, Get(keys[i]));
  }
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length, std::string_view) override {
    auto it = objects.find(std::string(key));
    if (it == objects.end()) return Status::NotFound(std::string(key));
    if (offset + length > it->second.size()) return Status::InvalidArgument("range past the end");
    ++ranges_read;
    std::string out;
    out.reserve(length + kBodyPadding);
    out.assign(it->second, offset, length);
    return out;
  }
  Result<ObjectInfo> Head(std::string_view key) override {
    auto it = objects.find(std::string(key));
    if (it == objects.end()) return Status::NotFound(std::string(key));
    return ObjectInfo{it->first, it->second.size(), "etag"};
  }
  Status Put(std::string_view key, std::string_view body) override {
    if (!fail_on.empty() && key.find(fail_on) != std::string_view::npos) {
      return Status::Unavailable("injected failure writing " + std::string(key));
    }
    puts.emplace_back(key);
    objects[std::string(key)] = std::string(body);
    return Status::Ok();
  }
  Status Delete(std::string_view key) override {
    objects.erase(std::string(key));
    return Status::Ok();
  }
  std::string UriFor(std::string_view key) const override { return "s3://staging/" + std::string(key); }

  std::map<std::string, std::string> objects;
  std::vector<std::string> puts;  // keys, in the order written
  std::string fail_on;            // a Put of a key containing this fails
  int ranges_read = 0;
};

std::string Padded(std::string s) {
  s.reserve(s.size() + kBodyPadding);
  return s;
}

std::string Event(int user, int64_t ts, int session, int item, const std::string& song = "Song A") {
  return R"({"artist":"Artist, \"The\"","auth":"Logged In","firstName":"F","gender":"F","itemInSession":)" +
         std::to_string(item) + R"(,"lastName":"L","length":200.5,"level":"free","location":"Here","method":"PUT",)" +
         R"("page":"NextSong","registration":1540919166796.0,"sessionId":)" + std::to_string(session) +
         R"(,"song":")" + song + R"(","status":200,"ts":)" + std::to_string(ts) +
         R"(,"userAgent":"Mozilla\/5.0","userId":")" + std::to_string(user) + R"("})";
}

const char* kSong =
    R"({"num_songs": 1, "artist_id": "AR1", "artist_latitude": null, "artist_longitude": null, "artist_location": "", )"
    R"("artist_name": "Chase & Status", "song_id": "SO1", "title": "Line\nbreak, \"quoted\"", "duration": 337.68444, "year": 2005})";

constexpr int64_t kRun = 42;
const std::string kPrefix = "p/run=42/c=x/task=7/attempt=1/";

// Five records on lines 1..5: three good, one malformed (rejected by the parser), one with a
// 70,000-byte song title (rejected by a parser told of Redshift's limit; without one, a play like
// the others: a play's row holds its song's match key, not its title).
std::string EventsBody() {
  return Event(7, 1541106106796, 1, 0) + "\n" + Event(8, 1541106106797, 2, 0, "tab\\there") + "\n{not json\n" +
         Event(9, 1541106106798, 3, 0, std::string(70000, 'w')) + "\n" + Event(10, 1541106106799, 4, 1) + "\n";
}

FetchedFile InMemory(const std::string& uri, FileKind kind, int64_t file_id, const std::string& body) {
  FetchedFile f;
  f.uri = uri;
  f.kind = kind;
  f.etag = "etag-" + std::to_string(file_id);
  f.size = body.size();
  f.file_id = file_id;
  f.body = Padded(body);
  return f;
}

PartTarget Target(RecordingStore* store) {
  PartTarget t;
  t.store = store;
  t.bucket = "staging";
  t.key_prefix = kPrefix;
  t.task_id = 7;
  t.attempt = 1;
  t.worker = "w1";
  return t;
}

// What one table's parts hold, read back through Gunzip and the CSV reader.
struct ReadBack {
  std::map<std::string, std::vector<Record>> rows;  // table -> records, parts in marker order
};

// Checks every part the marker lists against the store (key under the prefix, size, rows, raw
// bytes) and returns their records.
ReadBack ReadParts(const RecordingStore& store, const staging::StagedParts& marker) {
  ReadBack back;
  for (const staging::Part& p : marker.parts()) {
    SCOPED_TRACE(p.key());
    EXPECT_EQ(p.key().rfind(kPrefix + p.table() + "-", 0), 0u) << "a part lives under the attempt's prefix";
    auto it = store.objects.find(p.key());
    if (it == store.objects.end()) {
      ADD_FAILURE() << "the marker lists a part that is not in the store";
      continue;
    }
    EXPECT_EQ(p.content_length(), it->second.size());
    EXPECT_TRUE(IsGzip(it->second));
    auto plain = Gunzip(it->second);
    if (!plain.ok()) {
      ADD_FAILURE() << plain.status().ToString();
      continue;
    }
    EXPECT_EQ(p.raw_bytes(), plain->size());
    std::vector<Record> records = MustReadCsv(*plain);
    EXPECT_EQ(records.size(), p.rows()) << "rows in the part against the marker's count";
    auto& all = back.rows[p.table()];
    all.insert(all.end(), records.begin(), records.end());
  }
  return back;
}

staging::StagedParts MarkerInStore(const RecordingStore& store) {
  staging::StagedParts marker;
  auto it = store.objects.find(kPrefix + "marker.json");
  if (it == store.objects.end()) {
    ADD_FAILURE() << "no marker";
    return marker;
  }
  Status s = proto::JsonToMessage(it->second, &marker);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return marker;
}

TEST(S3PartStagerTest, WritesPartsThatHoldWhatTheMarkerSaysAndTheMarkerLast) {
  RecordingStore store;
  RecordParser parser;
  S3PartStager stager(Target(&store), &parser);
  std::string wide_song = kSong;
  const size_t title = wide_song.find("\"title\": \"") + 10;
  wide_song.replace(title, wide_song.find("\", \"duration\"") - title, std::string(70000, 'w'));
  std::vector<FetchedFile> files = {InMemory("s3://src/log_data/2018-11-01-events.json", FileKind::kEvent, 11, EventsBody()),
                                    InMemory("s3://src/song_data/A/SO1.json", FileKind::kSong, 12, kSong),
                                    InMemory("s3://src/song_data/A/SO2.json", FileKind::kSong, 13, wide_song)};
  auto outcomes = stager.StageTask(kRun, files);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();

  // The marker is written once, and last.
  const std::string marker_key = kPrefix + "marker.json";
  ASSERT_FALSE(store.puts.empty());
  EXPECT_EQ(store.puts.back(), marker_key);
  EXPECT_EQ(std::count(store.puts.begin(), store.puts.end(), marker_key), 1);

  // The marker in the store is the one the stager reports, and names the attempt.
  const staging::StagedParts marker = MarkerInStore(store);
  EXPECT_EQ(marker.SerializeAsString(), stager.marker().SerializeAsString());
  EXPECT_EQ(marker.run_id(), kRun);
  EXPECT_EQ(marker.task_id(), 7u);
  EXPECT_EQ(marker.attempt(), 1u);
  EXPECT_EQ(marker.worker(), "w1");

  // Every object written besides the marker is a part it lists, and the other way round.
  std::vector<std::string> listed;
  for (const auto& p : marker.parts()) listed.push_back(p.key());
  std::vector<std::string> written(store.puts.begin(), store.puts.end() - 1);
  std::sort(listed.begin(), listed.end());
  std::sort(written.begin(), written.end());
  EXPECT_EQ(listed, written);

  const ReadBack back = ReadParts(store, marker);

  // The accounts: records = staged + rejected for each file, the same in the outcomes and the
  // marker, and the rows in the parts add up to them.
  ASSERT_EQ(outcomes->size(), 3u);
  ASSERT_EQ(marker.files_size(), 3);
  const FileOutcome& ev = (*outcomes)[0];
  const FileOutcome& so = (*outcomes)[1];
  const FileOutcome& wide = (*outcomes)[2];
  EXPECT_EQ(ev.records, 5u);
  EXPECT_EQ(ev.staged, 4u);
  EXPECT_EQ(ev.rejected, 1u);
  EXPECT_EQ(ev.staged_rows, 12u) << "4 plays, 4 users, 4 play times";
  EXPECT_EQ(so.records, 1u);
  EXPECT_EQ(so.staged, 1u);
  EXPECT_EQ(so.rejected, 0u);
  EXPECT_EQ(so.staged_rows, 1u);
  EXPECT_EQ(wide.records, 1u);
  EXPECT_EQ(wide.staged, 0u);
  EXPECT_EQ(wide.rejected, 1u) << "a song row too wide for Redshift rejects its record";
  EXPECT_EQ(wide.staged_rows, 0u);
  for (int i = 0; i < 3; ++i) {
    const staging::StagedFile& f = marker.files(i);
    const FileOutcome& o = (*outcomes)[i];
    EXPECT_EQ(f.uri(), files[i].uri);
    EXPECT_EQ(f.file_id(), files[i].file_id);
    EXPECT_EQ(f.etag(), files[i].etag);
    EXPECT_EQ(f.size(), files[i].size);
    EXPECT_EQ(f.records(), o.records);
    EXPECT_EQ(f.staged(), o.staged);
    EXPECT_EQ(f.rejected(), o.rejected);
    EXPECT_EQ(f.staged_rows(), o.staged_rows);
    EXPECT_EQ(f.records(), f.staged() + f.rejected()) << f.uri();
  }
  auto rows_of = [&](const std::string& table) -> const std::vector<Record>& {
    static const std::vector<Record> kNone;
    auto it = back.rows.find(table);
    return it == back.rows.end() ? kNone : it->second;
  };
  const auto& plays = rows_of("staging_plays");
  const auto& users = rows_of("staging_users");
  const auto& times = rows_of("staging_time");
  const auto& songs = rows_of("staging_songs");
  const auto& rejects = rows_of("rejects");
  const auto& accounts = rows_of("staging_files");
  EXPECT_EQ(plays.size() + users.size() + times.size(), ev.staged_rows);
  EXPECT_EQ(songs.size(), so.staged + wide.staged);
  EXPECT_EQ(rejects.size(), ev.rejected + so.rejected + wide.rejected);
  EXPECT_EQ(accounts.size(), 3u);

  // staging_plays: run_id, file_id, line, songplay_id, ts, user_id, level, session_id, location,
  // user_agent, match_key (docs/STAGING_ROWS.md).
  ASSERT_EQ(plays.size(), 4u);
  std::vector<std::string> lines;
  for (const Record& r : plays) {
    ASSERT_EQ(r.size(), 11u);
    EXPECT_EQ(r[0], "42");
    EXPECT_EQ(r[1], "11");
    lines.push_back(r[2].value_or("NULL"));
    EXPECT_EQ(r[9], "Mozilla/5.0");
    EXPECT_TRUE(r[10].has_value()) << "every play has its song, artist and length: a match key";
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"1", "2", "4", "5"}));
  EXPECT_EQ(plays[0][3], std::to_string(1 * 16777216 + 0)) << "songplay_id = session_id * 2^24 + item_in_session";
  EXPECT_EQ(plays[0][4], "1541106106796");
  EXPECT_EQ(plays[3][3], std::to_string(4 * 16777216 + 1));
  EXPECT_NE(plays[0][10], plays[1][10]) << "another song, another match key";
  EXPECT_EQ(plays[0][10], plays[3][10]) << "the same song, artist and length, the same match key";

  // staging_users: one per user in the file; staging_time: one per distinct play time, with its
  // parts (2018-11-01 21:01:46 UTC, a Thursday of ISO week 44).
  ASSERT_EQ(users.size(), 4u);
  for (const Record& r : users) ASSERT_EQ(r.size(), 11u);
  EXPECT_EQ(users[0], (Record{"42", "11", "5", "10", "F", "L", "F", "free", "1541106106799", "4", "1"}));
  ASSERT_EQ(times.size(), 4u);
  EXPECT_EQ(times[0], (Record{"42", "11", "1541106106796", "21", "1", "44", "11", "2018", "4"}));

  // staging_songs: run_id, file_id, line, the parser's columns, the match key.
  ASSERT_EQ(songs.size(), 1u);
  ASSERT_EQ(songs[0].size(), 3 + StagingColumns(FileKind::kSong).size() + 1);
  EXPECT_EQ(songs[0][1], "12");
  EXPECT_EQ(songs[0][3 + 2], std::nullopt) << "artist_latitude null -> NULL";
  EXPECT_EQ(songs[0][3 + 4], "") << "artist_location \"\" -> the empty string";
  EXPECT_EQ(songs[0][3 + 7], "Line\nbreak, \"quoted\"");
  EXPECT_TRUE(songs[0].back().has_value()) << "match_key";

  // Rejects: run_id, file_id, line, byte_offset, reason, excerpt. The wide record names
  // Redshift's limit; the malformed one is the parser's.
  ASSERT_EQ(rejects.size(), 2u);
  std::map<std::string, std::string> reason_by_file;
  for (const Record& r : rejects) {
    ASSERT_EQ(r.size(), 6u);
    EXPECT_EQ(r[0], "42");
    reason_by_file[r[1].value_or("") + ":" + r[2].value_or("")] = r[4].value_or("");
    EXPECT_TRUE(r[5].has_value());
    EXPECT_LE(r[5]->size(), 256u) << "excerpts are short";
  }
  ASSERT_EQ(reason_by_file.count("13:1"), 1u);
  EXPECT_THAT(reason_by_file["13:1"], HasSubstr("65535"));
  EXPECT_THAT(reason_by_file["13:1"], HasSubstr("70000"));
  EXPECT_THAT(reason_by_file["13:1"], HasSubstr("column 11"));
  EXPECT_THAT(reason_by_file["13:1"], HasSubstr("staging_songs"));
  ASSERT_EQ(reason_by_file.count("11:3"), 1u);
  EXPECT_THAT(reason_by_file["11:3"], ::testing::Not(HasSubstr("65535")));

  // staging_files: run_id, file_id, uri, kind, etag, size, records, staged, rejected, staged_rows.
  EXPECT_EQ(accounts[0], (Record{"42", "11", files[0].uri, "event", "etag-11", std::to_string(files[0].size), "5", "4",
                                 "1", "12"}));
  EXPECT_EQ(accounts[1], (Record{"42", "12", files[1].uri, "song", "etag-12", std::to_string(files[1].size), "1", "1",
                                 "0", "1"}));
  EXPECT_EQ(accounts[2], (Record{"42", "13", files[2].uri, "song", "etag-13", std::to_string(files[2].size), "1", "0",
                                 "1", "0"}));
}

// Tiny parts: each file's rows make a part of their own, numbered per table, and the counts per
// part still match.
TEST(S3PartStagerTest, SmallPartsAreNumberedAndEachCountsItsOwnRows) {
  RecordingStore store;
  RecordParser parser;
  PartOptions parts;
  parts.max_part_bytes = 1;
  S3PartStager stager(Target(&store), &parser, {}, parts);
  std::vector<FetchedFile> files;
  for (int i = 0; i < 3; ++i) {
    std::string body;
    for (int k = 0; k <= i; ++k) body += Event(k, 1541106106796 + k, 1, k) + "\n";
    files.push_back(InMemory("s3://src/log_data/" + std::to_string(i) + ".json", FileKind::kEvent, 20 + i, body));
  }
  auto outcomes = stager.StageTask(kRun, files);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  const staging::StagedParts marker = MarkerInStore(store);
  std::vector<std::pair<std::string, uint64_t>> plays;
  for (const auto& p : marker.parts()) {
    if (p.table() == "staging_plays") plays.emplace_back(p.key(), p.rows());
  }
  EXPECT_EQ(plays, (std::vector<std::pair<std::string, uint64_t>>{{kPrefix + "staging_plays-0.csv.gz", 1},
                                                                 {kPrefix + "staging_plays-1.csv.gz", 2},
                                                                 {kPrefix + "staging_plays-2.csv.gz", 3}}));
  const ReadBack back = ReadParts(store, marker);
  EXPECT_EQ(back.rows.at("staging_plays").size(), 6u);
  EXPECT_EQ(back.rows.at("staging_users").size(), 6u);
  EXPECT_EQ(back.rows.at("staging_time").size(), 6u);
  EXPECT_EQ(back.rows.at("staging_files").size(), 3u);
  EXPECT_EQ(back.rows.count("staging_songs"), 0u) << "no part for a table without rows";
  EXPECT_EQ(back.rows.count("rejects"), 0u);
  EXPECT_EQ(store.puts.back(), kPrefix + "marker.json");
}

// A file too large to hold is read a range at a time; what it stages is what the same bytes held
// in memory stage: the same plays, users and play times, the malformed record rejected all the
// same.
TEST(S3PartStagerTest, AStreamedFileStagesTheSameRowsAsOneHeldInMemory) {
  const std::string body = EventsBody();
  RecordingStore held_store;
  RecordParser parser;
  S3PartStager held(Target(&held_store), &parser);
  std::vector<FetchedFile> in_memory = {InMemory("s3://src/log_data/big.json", FileKind::kEvent, 31, body)};
  auto a = held.StageTask(kRun, in_memory);
  ASSERT_TRUE(a.ok()) << a.status().ToString();

  RecordingStore streamed_store;
  streamed_store.objects["src/big.json"] = body;
  StagerOptions options;
  options.stream_piece_bytes = 4096;  // the 70,000-byte record spans many pieces
  S3PartStager streamed(Target(&streamed_store), &parser, options);
  FetchedFile f;
  f.uri = "s3://src/log_data/big.json";
  f.kind = FileKind::kEvent;
  f.etag = "etag-31";
  f.size = body.size();
  f.file_id = 31;
  f.store = &streamed_store;
  f.key = "src/big.json";
  std::vector<FetchedFile> by_range = {f};
  auto b = streamed.StageTask(kRun, by_range);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_GT(streamed_store.ranges_read, 10);

  ASSERT_EQ(a->size(), 1u);
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*a)[0].records, (*b)[0].records);
  EXPECT_EQ((*a)[0].staged, (*b)[0].staged);
  EXPECT_EQ((*a)[0].rejected, (*b)[0].rejected);
  EXPECT_EQ((*a)[0].staged_rows, (*b)[0].staged_rows);
  EXPECT_EQ((*b)[0].staged, 4u);
  EXPECT_EQ((*b)[0].rejected, 1u);
  const ReadBack ra = ReadParts(held_store, MarkerInStore(held_store));
  const ReadBack rb = ReadParts(streamed_store, MarkerInStore(streamed_store));
  for (const char* table : {"staging_plays", "staging_users", "staging_time"}) {
    EXPECT_EQ(ra.rows.at(table), rb.rows.at(table)) << table;
  }
  EXPECT_EQ(ra.rows.at("staging_files"), rb.rows.at("staging_files"));
  // Rejects agree on line, byte offset and reason.
  ASSERT_EQ(rb.rows.at("rejects").size(), 1u);
  EXPECT_EQ(ra.rows.at("rejects"), rb.rows.at("rejects"));
}

TEST(S3PartStagerTest, AFileWithoutAnIdWritesNothing) {
  RecordingStore store;
  RecordParser parser;
  S3PartStager stager(Target(&store), &parser);
  std::vector<FetchedFile> files = {InMemory("s3://src/a.json", FileKind::kEvent, 0, Event(1, 1541106106796, 1, 0))};
  auto out = stager.StageTask(kRun, files);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("s3://src/a.json"));
  EXPECT_TRUE(store.puts.empty());
}

// A part that cannot be written fails the attempt before its marker: the attempt stays
// incomplete, and the error is one a retry may cure.
TEST(S3PartStagerTest, AFailedPartUploadLeavesNoMarker) {
  RecordingStore store;
  store.fail_on = "staging_songs-";
  RecordParser parser;
  S3PartStager stager(Target(&store), &parser);
  std::vector<FetchedFile> files = {InMemory("s3://src/e.json", FileKind::kEvent, 1, Event(1, 1541106106796, 1, 0)),
                                    InMemory("s3://src/s.json", FileKind::kSong, 2, kSong)};
  auto out = stager.StageTask(kRun, files);
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(IsRetryable(out.status())) << out.status().ToString();
  EXPECT_THAT(out.status().message(), HasSubstr("staging_songs-0.csv.gz"));
  EXPECT_EQ(store.objects.count(kPrefix + "marker.json"), 0u);
}

// A file whose every record is rejected still has its account, and rejects; no staging part.
TEST(S3PartStagerTest, AFileOfOnlyRejectsHasItsAccountAndRejects) {
  RecordingStore store;
  RecordParser parser;
  S3PartStager stager(Target(&store), &parser);
  std::vector<FetchedFile> files = {InMemory("s3://src/bad.json", FileKind::kEvent, 5, "{bad}\n{\"ts\":\"not a number\"}\n")};
  auto out = stager.StageTask(kRun, files);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const ReadBack back = ReadParts(store, MarkerInStore(store));
  for (const char* table : {"staging_plays", "staging_users", "staging_time"}) {
    EXPECT_EQ(back.rows.count(table), 0u) << table;
  }
  EXPECT_EQ(back.rows.at("rejects").size(), 2u);
  ASSERT_EQ(back.rows.at("staging_files").size(), 1u);
  EXPECT_EQ(back.rows.at("staging_files")[0][6], "2");
  EXPECT_EQ(back.rows.at("staging_files")[0][7], "0");
  EXPECT_EQ(back.rows.at("staging_files")[0][8], "2");
  EXPECT_EQ(back.rows.at("staging_files")[0][9], "0") << "staged_rows";
}

// A record rejected for Redshift's limit by a parser told of it (as the worker's is) shows, like
// every other reject, the start of the record as it is in the file, and where it starts.
TEST(S3PartStagerTest, ATooWideRecordsExcerptIsTheRecordItself) {
  RecordingStore store;
  ParserOptions po;
  po.max_value_bytes = kMaxRedshiftFieldBytes;
  RecordParser parser(po);
  S3PartStager stager(Target(&store), &parser);
  std::vector<FetchedFile> files = {InMemory("s3://src/e.json", FileKind::kEvent, 11, EventsBody())};
  ASSERT_TRUE(stager.StageTask(kRun, files).ok());
  const ReadBack back = ReadParts(store, MarkerInStore(store));
  bool found = false;
  for (const Record& r : back.rows.at("rejects")) {
    if (r[2] != "4") continue;
    found = true;
    ASSERT_TRUE(r[5].has_value());
    EXPECT_EQ(r[5]->rfind("{\"artist\":", 0), 0u) << *r[5];
    ASSERT_TRUE(r[3].has_value());
    EXPECT_NE(*r[3], "0") << "the reject's byte offset";
    ASSERT_TRUE(r[4].has_value());
    EXPECT_NE(r[4]->find("at most 65535 bytes in a value"), std::string::npos) << *r[4];
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace loadstar::worker
