#!/usr/bin/python3
"""loadstar's Redshift SQL (sql/redshift/) builds the same star tables as its PostgreSQL SQL
(sql/postgres/), on the same staging rows.

One private PostgreSQL 15 serves both: the postgres dialect runs on it directly, the redshift
dialect through the Redshift stand-in (tests/tools/redshift_standin), which refuses what Redshift
lacks and loads staging tables by COPY from the local S3 server, as a coordinator does. The input
is the Sparkify sample (../shared/data/sparkify-sample from the checkout) plus a few files made up
here to reach every tie-breaking rule, typed by SQL as the benchmark's baseline types it
(sql/bench/baseline_stage.sql: jsonb_to_record on the raw documents), and shaped by SQL into the
staging rows the workers emit (docs/STAGING_ROWS.md: plays, each file's latest row per user, each
file's play times with their parts, song records with their match key).

The loads, each the transaction a coordinator runs (transform, every check, transform_finish):
  full    every file in one run;
  incr    the same files in two runs (alternate days of events, half the songs; a play whose
          song comes only in the second run, users seen in both, a later run bringing an older
          event), then the second run's rows again as a third run;
  and the full load again as a second run. Each schema pair (postgres_*, redshift_*) must hold the same rows
in every star table (the match keys too: both keep the workers' hash), the incremental
load the same as the full one, and a rerun must change nothing. Every check is also run once on a
deliberately broken table and must report it.

Environment: as tests/integration/redshift_standin_test.py (LOADSTAR_SOURCE_DIR, LOADSTAR_S3RVER,
PG_BINDIR), and LOADSTAR_SAMPLE_DIR for the sample (default: ../shared/data/sparkify-sample from
the checkout).
"""

import gzip
import hashlib
import json
import os
import re
import sys
import unittest

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import redshift_standin_test as standin  # noqa: E402  (starts and stops PostgreSQL, s3rver, the stand-in)

SOURCE_DIR = standin.SOURCE_DIR
SQL_DIR = os.path.join(SOURCE_DIR, "sql")
SAMPLE_DIR = os.environ.get("LOADSTAR_SAMPLE_DIR") or os.path.join(SOURCE_DIR, "..", "shared", "data",
                                                                    "sparkify-sample")
SERVICES = standin.Services()
SAMPLE_ROWS = 5  # what quality_checks.cc asks check_sample.sql for
PGRES_EMPTY_QUERY = 0  # a file of comments only, such as redshift/read_snapshot.sql


# --- the SQL catalog, as common/warehouse/sql_catalog.cc reads it ------------------------------

def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


def sql_file(name, dialect):
    for folder in (dialect, "common"):
        path = os.path.join(SQL_DIR, folder, name + ".sql")
        if os.path.exists(path):
            return path
    raise FileNotFoundError("no sql/%s/%s.sql or sql/common/%s.sql" % (dialect, name, name))


def sql_text(name, dialect, schema=None, run_id=None):
    with open(sql_file(name, dialect), encoding="utf-8") as f:
        text = f.read()
    if "{{schema}}" in text:
        assert schema is not None, name
        text = text.replace("{{schema}}", quote_ident(schema))
    if "{{run_id}}" in text:
        assert run_id is not None, name
        text = text.replace("{{run_id}}", str(int(run_id)))
    return text


def names_under(folder, dialect):
    names = set()
    for where in (dialect, "common"):
        d = os.path.join(SQL_DIR, where, folder)
        if os.path.isdir(d):
            names |= {folder + "/" + f[:-4] for f in os.listdir(d) if f.endswith(".sql")}
    return sorted(names)


def _label(piece):
    """The first sentence of the comment block right above the statement, else its first line."""
    paragraph, done = "", False
    for raw in piece.split("\n"):
        line = raw.strip()
        if not line:
            paragraph, done = "", False
        elif line.startswith("--"):
            words = line[2:].strip()
            if not words:
                done = done or bool(paragraph)
            elif not done:
                paragraph += (" " if paragraph else "") + words
        else:
            if not paragraph:
                return line
            m = re.search(r"[.!?](?= |$)", paragraph)
            return paragraph[:m.end()] if m else paragraph
    return ""


def split_statements(script):
    """(label, text) per statement, split at semicolons outside quotes and comments."""
    out, start, i, n = [], 0, 0, len(script)

    def flush(end):
        piece = script[start:end]
        if any(l.strip() and not l.strip().startswith("--") for l in piece.split("\n")):
            out.append((_label(piece), piece.strip()))

    while i < n:
        c = script[i]
        if script.startswith("--", i):
            eol = script.find("\n", i)
            i = n if eol < 0 else eol + 1
        elif script.startswith("/*", i):
            close = script.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif c in "'\"":
            close = script.find(c, i + 1)
            i = n if close < 0 else close + 1
        elif c == "$":
            m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", script[i:])
            if m:
                close = script.find(m.group(0), i + len(m.group(0)))
                i = n if close < 0 else close + len(m.group(0))
            else:
                i += 1
        elif c == ";":
            flush(i)
            start = i = i + 1
        else:
            i += 1
    flush(n)
    return out


def wrap(wrapper, query, dialect, **vars):
    """The query's SELECT in place of the wrapper's marker line (query_render_internal.cc)."""
    outer, inner = sql_text(wrapper, dialect, **vars), sql_text(query, dialect, **vars).strip()
    if inner.endswith(";"):
        inner = inner[:-1]
    assert outer.count("/*@query@*/") == 1, wrapper
    return outer.replace("/*@query@*/", inner)


def leading_comment(text):
    first = text.strip().split("\n", 1)[0]
    return first[2:].strip() if first.startswith("--") else ""


def param_count(text):
    return max([int(m) for m in re.findall(r"\$(\d+)", text)] or [0])


# --- the input --------------------------------------------------------------------------------

# The staging columns in COPY order (the worker's and the coordinator's, docs/STAGING_ROWS.md), and
# which hold text.
PLAY_COLUMNS = ["run_id", "file_id", "line", "songplay_id", "ts", "user_id", "level", "session_id", "location",
                "user_agent", "match_key"]
USER_COLUMNS = ["run_id", "file_id", "line", "user_id", "first_name", "last_name", "gender", "level", "ts",
                "session_id", "item_in_session"]
TIME_COLUMNS = ["run_id", "file_id", "ts", "hour", "day", "week", "month", "year", "weekday"]
SONG_COLUMNS = ["run_id", "file_id", "line", "num_songs", "artist_id", "artist_latitude", "artist_longitude",
                "artist_location", "artist_name", "song_id", "title", "duration", "year", "match_key"]
FILE_COLUMNS = ["run_id", "file_id", "uri", "kind", "etag", "size", "records", "staged", "rejected", "staged_rows"]
# The staging tables a run's rows go to, with their columns and where this test keeps them.
STAGED = [("staging_plays", PLAY_COLUMNS, "src.plays"), ("staging_users", USER_COLUMNS, "src.users"),
          ("staging_time", TIME_COLUMNS, "src.time"), ("staging_songs", SONG_COLUMNS, "src.songs")]
REJECT_COLUMNS = ["run_id", "file_id", "line", "byte_offset", "reason", "excerpt"]
TEXT_COLUMNS = {"artist", "auth", "first_name", "gender", "last_name", "level", "location", "method", "page",
                "song", "user_agent", "user_id", "artist_id", "artist_location", "artist_name", "song_id", "title",
                "uri", "kind", "etag", "reason", "excerpt"}


def song(song_id, artist_id, artist_name, title, duration, year=0, location="", latitude=None, longitude=None):
    return {"num_songs": 1, "artist_id": artist_id, "artist_latitude": latitude, "artist_longitude": longitude,
            "artist_location": location, "artist_name": artist_name, "song_id": song_id, "title": title,
            "duration": duration, "year": year}


def event(user, ts, session, item, page="NextSong", level="free", song_=None, artist=None, length=None,
          location="Nowhere, XX"):
    e = {"artist": artist, "auth": "Logged In", "firstName": "Synthetic", "gender": "F", "itemInSession": item,
         "lastName": "User" + user, "length": length, "level": level, "location": location, "method": "PUT",
         "page": page, "registration": 1540000000000.0, "sessionId": session, "song": song_, "status": 200,
         "ts": ts, "userAgent": "\"Mozilla/5.0 (test)\"", "userId": user}
    return {k: v for k, v in e.items() if v is not None}


class Sample:
    """The sample's files plus made-up ones, each with its documents, ETag and accounts."""

    def __init__(self):
        self.files = []  # dicts: file_id, path, uri, kind, etag, size, docs [(line, text)], rejects

    def add(self, path, kind, body):
        docs, rejects, offset = [], [], 0
        pieces = [body.decode("utf-8")] if kind == "song" else body.decode("utf-8").split("\n")
        for line, text in enumerate(pieces, 1):
            if text.strip():
                try:
                    json.loads(text)
                    docs.append((line, text))
                except ValueError:
                    rejects.append((line, offset, "not a JSON document", text[:256]))
            offset += len(text.encode("utf-8")) + 1
        f = {"file_id": len(self.files) + 1, "path": path, "uri": "s3://sparkify/" + path, "kind": kind,
             "etag": hashlib.md5(body).hexdigest(), "size": len(body), "docs": docs, "rejects": rejects}
        self.files.append(f)
        return f

    def ids(self, predicate):
        return [f["file_id"] for f in self.files if predicate(f)]


def read_sample():
    sample = Sample()
    paths = []
    for root, _, names in os.walk(SAMPLE_DIR):
        for name in names:
            if name.endswith(".json") and ("song_data" in root or "log_data" in root):
                paths.append(os.path.relpath(os.path.join(root, name), SAMPLE_DIR))
    for path in sorted(paths):
        with open(os.path.join(SAMPLE_DIR, path), "rb") as f:
            sample.add(path, "song" if path.startswith("song_data") else "event", f.read())
    return sample


# --- running SQL ------------------------------------------------------------------------------

class SqlError(AssertionError):
    pass


def run(conn, sql, *params):
    r = conn.params(sql, *params) if params else conn.exec(sql)
    if not r.ok and r.status != PGRES_EMPTY_QUERY:
        raise SqlError("%s\n-> %s (SQLSTATE %s) %s\nstand-in log:\n%s" % (
            sql[:2000], r.message, r.sqlstate, r.detail, SERVICES.log_tail()))
    return r


class Side:
    """One dialect's connection to one schema: postgres_* straight to PostgreSQL, redshift_* through the stand-in."""

    def __init__(self, dialect, schema):
        self.dialect, self.schema = dialect, schema
        conninfo = SERVICES.conninfo() if dialect == "redshift" else SERVICES.direct_conninfo()
        self.conn = standin.Conn(conninfo)
        if dialect == "redshift":
            run(self.conn, sql_text("create_schema", dialect, schema=schema))
            run(self.conn, sql_text("session", dialect, schema=schema))
            run(self.conn, "BEGIN")
            run(self.conn, sql_text("schema", dialect, schema=schema))
            run(self.conn, "COMMIT")
        else:  # the postgres DDL, straight to PostgreSQL
            run(self.conn, "CREATE SCHEMA %s" % quote_ident(schema))
            run(self.conn, sql_text("session", dialect, schema=schema))
            run(self.conn, "BEGIN")
            run(self.conn, sql_text("schema", dialect, schema=schema))
            run(self.conn, "COMMIT")

    def file(self, name, *params, run_id=None):
        return run(self.conn, sql_text(name, self.dialect, schema=self.schema, run_id=run_id), *params)

    def steps(self, name, run_id):
        labels = []
        for label, text in split_statements(sql_text(name, self.dialect, schema=self.schema, run_id=run_id)):
            labels.append(label)
            try:
                run(self.conn, text)
            except SqlError as e:
                raise SqlError("sql/%s/%s.sql, step '%s': %s" % (self.dialect, name, label, e)) from None
        return labels

    def check(self, name, run_id):
        """The check's offending rows through check_sample.sql (at most SAMPLE_ROWS), the count last."""
        sql = wrap("check_sample", name, self.dialect, schema=self.schema, run_id=run_id)
        r = self.conn.params(sql, SAMPLE_ROWS)
        if not r.ok:
            raise SqlError("%s (%s): %s\n%s" % (name, self.dialect, r.message, SERVICES.log_tail()))
        return r.rows

    def run_checks(self, run_id):
        failed = {}
        for name in names_under("checks", self.dialect):
            rows = self.check(name, run_id)
            if rows:
                failed[name] = rows
        if failed:
            raise AssertionError("checks failed in %s (%s): %r" % (self.schema, self.dialect, failed))


class Loader:
    """Stages a set of the sample's files as one run on both sides and runs the transform."""

    def __init__(self, direct):
        self.direct = direct
        self.parts = 0

    def load_pg(self, side, file_ids, sources):
        """The coordinator's PostgreSQL path: ledger rows 'staged', staging rows, then the transform."""
        ids = "{%s}" % ",".join(map(str, file_ids))
        c = side.conn
        run(c, "BEGIN")
        run_id = int(side.file("run_create", sources).rows[0][0])
        run(c, "INSERT INTO load_files (file_id, uri, kind, etag, size, run_id, state, records, staged, rejected, "
               "staged_rows) "
               "SELECT file_id, uri, kind, etag, size, $1, 'staged', records, staged, rejected, staged_rows FROM src.files "
               "WHERE file_id = ANY($2::bigint[]) "
               "ON CONFLICT (uri) DO UPDATE SET etag = excluded.etag, size = excluded.size, run_id = excluded.run_id, "
               "state = 'staged', records = excluded.records, staged = excluded.staged, rejected = excluded.rejected, "
               "staged_rows = excluded.staged_rows, updated_at = now()", run_id, ids)
        for table, columns, source in STAGED + [("rejects", REJECT_COLUMNS, "src.rejects")]:
            run(c, "INSERT INTO %s (%s) SELECT $1::bigint, %s FROM %s WHERE file_id = ANY($2::bigint[])" % (
                table, ", ".join(columns), ", ".join(columns[1:]), source), run_id, ids)
        run(c, "UPDATE runs SET state = 'transforming' WHERE run_id = $1", run_id)
        side.steps("transform", run_id)
        side.run_checks(run_id)
        side.steps("transform_finish", run_id)
        run(c, "COMMIT")
        return run_id

    def load_rs(self, side, file_ids, sources):
        """The coordinator's Redshift path: the run under LOCK runs, then one transaction that COPYs
        staging rows, file accounts and rejects from S3, transforms, checks and finishes."""
        c = side.conn
        run(c, "BEGIN")
        side.file("run_lock")
        run_id = int(side.file("run_next_id").rows[0][0])
        side.file("run_create", run_id, sources)
        run(c, "COMMIT")
        self.assert_state(side, run_id, "staging")
        copies = [self.stage(side, table, columns, source, run_id, file_ids) for table, columns, source in STAGED]
        copies += [self.stage(side, "staging_files", FILE_COLUMNS, "src.files", run_id, file_ids),
                   self.stage(side, "rejects", REJECT_COLUMNS, "src.rejects", run_id, file_ids)]
        side.file("run_set_state", run_id, "transforming", None)
        run(c, "BEGIN")
        for sql, rows in copies:
            r = run(c, sql)
            assert r.tag == "COPY %d" % rows, (sql, r)
        labels = side.steps("transform", run_id)
        for label in labels:  # the coordinator logs each step by the comment above it
            assert label and not re.match(r"(?i)(drop|create|merge|insert|update|delete|select)\b", label), label
        side.run_checks(run_id)
        side.steps("transform_finish", run_id)
        run(c, "COMMIT")
        self.assert_state(side, run_id, "done")
        return run_id

    @staticmethod
    def assert_state(side, run_id, state):
        assert side.file("run_state", run_id).rows == [[state]], (side.schema, run_id, state)

    def stage(self, side, table, columns, source, run_id, file_ids):
        """Writes the run's rows of `table` as gzip CSV parts and a manifest to S3; returns the COPY."""
        select = ", ".join(["$1::bigint"] + [c for c in columns[1:]])
        order = {"staging_files": "file_id", "staging_time": "file_id, ts"}.get(table, "file_id, line")
        rows = run(self.direct, "SELECT %s FROM %s WHERE file_id = ANY($2::bigint[]) ORDER BY %s" % (
            select, source, order), run_id, "{%s}" % ",".join(map(str, file_ids))).rows
        lines = []
        for row in rows:
            fields = []
            for name, value in zip(columns, row):
                if value is None:
                    fields.append("")  # unquoted empty: NULL (EMPTYASNULL)
                elif name in TEXT_COLUMNS:
                    fields.append('"' + value.replace('"', '""') + '"')  # "" stays an empty string
                else:
                    fields.append(value)
            lines.append(",".join(fields) + "\n")
        half = len(lines) // 2
        entries = []
        for part in (lines[:half], lines[half:]):  # two parts per table, as two workers would write
            self.parts += 1
            key = "%s/run-%d/%s-part-%d.csv.gz" % (side.schema, run_id, table, self.parts)
            SERVICES.s3.put(standin.BUCKET, key, gzip.compress("".join(part).encode("utf-8")))
            entries.append({"url": "s3://%s/%s" % (standin.BUCKET, key), "mandatory": True})
        manifest = "%s/run-%d/%s.manifest" % (side.schema, run_id, table)
        SERVICES.s3.put(standin.BUCKET, manifest, json.dumps({"entries": entries}).encode())
        sql = ("COPY %s (%s) FROM 's3://%s/%s' IAM_ROLE '%s' MANIFEST CSV QUOTE AS '\"' DELIMITER ',' GZIP "
               "EMPTYASNULL COMPUPDATE OFF STATUPDATE OFF" % (table, ", ".join(columns), standin.BUCKET, manifest,
                                                               standin.ROLE))
        return sql, len(rows)


# --- what the tables hold ---------------------------------------------------------------------

# Every column, the match keys too: both dialects keep the workers' hash.
STAR = {
    "songs": "song_id, title, artist_id, year, duration",
    "artists": "artist_id, name, location, latitude, longitude",
    "users": "user_id, first_name, last_name, gender, level, as_of",
    "time": "start_time, hour, day, week, month, year, weekday",
    "songplays": "songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent, "
                 "unmatched_key",
    "song_matches": "match_key, title, artist_name, duration, song_id, artist_id",
}
SAME_DIALECT = STAR
LEDGER = {
    "load_files": "file_id, uri, kind, etag, size, run_id, state, records, staged, rejected",
    "runs": "run_id, sources, state, finished_at IS NOT NULL AS finished, error",
    "rejects": "run_id, file_id, line, byte_offset, reason, excerpt, rejected_at IS NOT NULL AS stamped",
}


def table_select(schema, table, columns):
    return "SELECT %s FROM %s.%s" % (columns, quote_ident(schema), table)


def keep_copy(direct, schema, tables):
    """The tables' rows as they are now, in schema snap (for comparing after a rerun)."""
    for table, columns in tables.items():
        run(direct, "CREATE TABLE snap.%s AS %s" % (quote_ident(schema + "__" + table),
                                                   table_select(schema, table, columns)))


def kept(schema, table):
    return "SELECT * FROM snap.%s" % quote_ident(schema + "__" + table)


# --- the loads, once for all tests ------------------------------------------------------------

STATE = {}


def synthetic_files(sample, run_a_events, run_b_events):
    """Made-up song and event files that reach the rules the sample alone does not. Plays are taken
    from the sample's own NextSong events so that the made-up songs match them."""
    def plays(files):
        found = []
        for f in files:
            for _, text in f["docs"]:
                e = json.loads(text)
                if e.get("page") == "NextSong" and e.get("song") and e.get("artist") and e.get("length"):
                    found.append((e["song"], e["artist"], e["length"]))
        return sorted(set(found))

    a, b = plays(run_a_events), plays(run_b_events)
    known = {(json.loads(t)["title"], json.loads(t)["artist_name"], json.loads(t)["duration"])
             for f in sample.files if f["kind"] == "song" for _, t in f["docs"]}
    a = [p for p in a if p not in known and p not in b]
    b = [p for p in b if p not in known and p not in a]
    p1, p2, p3, p4, p5 = a[0], a[1], a[2], a[3], a[4]
    q1 = b[0]
    songs_a = [
        song("SOSYN0002B", "ARSYN0002", p2[1], p2[0], p2[2], 2001),  # two records of one play: the
        song("SOSYN0002A", "ARSYN0002", p2[1], p2[0], p2[2], 2001),  # lower song_id wins
        song("SOSYN0003A", "ARSYN0003", p3[1], p3[0], p3[2]),        # kept when run B brings 3B
        song("SOSYN0004", "ARSYN0004", "Four", "Zeta", 100.5, 1999),  # run B brings a better title
        song("SOSYN0005A", "ARSYN0005", p4[1], p4[0], p4[2], location="Aaa Town"),  # artist renamed in B
        song("SOSYN0006", "ARSYN0006", "Six", "No Duration", None, 0),  # no match row without a duration
        song("SOSYN0007A", "ARSYN0007", q1[1], q1[0], q1[2]),        # lower id first, matches in B
    ]
    songs_b = [
        song("SOSYN0001", "ARSYN0001", p1[1], p1[0], p1[2], 1990),   # song of run A's plays arrives late
        song("SOSYN0003B", "ARSYN0003", p3[1], p3[0], p3[2]),
        song("SOSYN0004", "ARSYN0004", "Four", "Alpha", 100.5, 2004),
        song("SOSYN0004", "ARSYN0004", "Four", None, 100.5, 2005),    # a NULL title sorts last
        song("SOSYN0005B", "ARSYN0005", "!!! Band", "Unplayed", 1.25, location="Zzz Village", latitude=1.5,
             longitude=-2.5),  # sorts first by name, last by location
        song("SOSYN0007B", "ARSYN0007", q1[1], q1[0], q1[2]),
        song("SOSYN0008", "ARSYN0008", "Nobody", "Zero Point", 0.0),  # matches a play of length -0
    ]
    t = 1543000000796  # 2018-11-23, ms as in the sample
    events_a = [
        # U900: two latest events at one ts, one without a session: the one with a session wins.
        event("900", t + 1000, 900001, 1, page="Home", level="paid"),
        event("900", t + 1000, None, 2, page="Home", level="free"),
        event("900", t, 900001, 0, page="Home", level="free"),
        # U901: one ts, one session, one event without itemInSession: the other wins.
        event("901", t + 2000, 900002, None, page="Home", level="free"),
        event("901", t + 2000, 900002, 3, page="Home", level="paid"),
        # U902: latest event in run A; run B brings an older one, which must not win.
        event("902", t + 9000, 900003, 0, page="Home", level="paid"),
        # U903: run B brings a later event, which wins.
        event("903", t + 3000, 900004, 0, page="Home", level="free"),
        # Plays (older than the users' latest events) of p1, whose song comes only in run B, of p5,
        # which no song names, of a song without artist or length, and of "Zero Point" (length -0,
        # set below; its song, of duration 0, comes in run B).
        event("900", t - 5000, 900005, 0, song_=p1[0], artist=p1[1], length=p1[2]),
        event("901", t - 4999, 900005, 1, song_=p1[0], artist=p1[1], length=p1[2]),
        event("902", t - 4998, 900005, 2, song_=p5[0], artist=p5[1], length=p5[2]),
        event("902", t - 4997, 900005, 3, song_="No Artist Given"),
        event("903", t - 4996, 900005, 4, song_="Zero Point", artist="Nobody", length=0.0),
        # The same play (songplay_id) in two files of one run, differing in location only: the first
        # by its columns is kept.
        event("904", t + 5000, 900006, 0, song_=p2[0], artist=p2[1], length=p2[2], location="Zzz Town"),
    ]
    events_a2 = [
        event("904", t + 5000, 900006, 0, song_=p2[0], artist=p2[1], length=p2[2], location="Aaa Town"),
        "{ this line is not JSON",
    ]
    events_b = [
        event("902", t + 8000, 900007, 0, page="Home", level="free"),
        event("903", t + 7000, 900008, 0, page="Home", level="paid"),
        event("903", t + 7001, 900008, 1, level="paid", song_=p3[0], artist=p3[1], length=p3[2]),
    ]
    made = {"a": [], "b": []}
    for run_name, songs in (("a", songs_a), ("b", songs_b)):
        for i, s in enumerate(songs):
            made[run_name].append(sample.add("song_data/Z/%s/SYN%s%02d.json" % (run_name.upper(), run_name, i), "song",
                                             json.dumps(s).encode()))
    for run_name, path, docs in (("a", "log_data/synthetic/a-events.json", events_a),
                                 ("a", "log_data/synthetic/a-events-2.json", events_a2),
                                 ("b", "log_data/synthetic/b-events.json", events_b)):
        body = "\n".join(d if isinstance(d, str) else json.dumps(d) for d in docs).encode()
        made[run_name].append(sample.add(path, "event", body))
    return made, {"p1": p1, "p2": p2, "p3": p3, "p4": p4, "p5": p5, "q1": q1}


def build_source(direct, sample):
    """The sample, typed by SQL into src.events / src.songs (sql/bench/baseline_stage.sql's typing)."""
    run(direct, "CREATE SCHEMA src")
    run(direct, "CREATE TABLE src.files (file_id bigint PRIMARY KEY, uri text, kind text, etag text, size bigint, "
                "records bigint, staged bigint, rejected bigint, staged_rows bigint)")
    run(direct, "CREATE TABLE src.raw (file_id bigint, line bigint, doc text)")
    run(direct, "CREATE TABLE src.rejects (file_id bigint, line bigint, byte_offset bigint, reason text, excerpt text)")
    for f in sample.files:
        run(direct, "INSERT INTO src.files VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", f["file_id"], f["uri"], f["kind"],
            f["etag"], f["size"], len(f["docs"]) + len(f["rejects"]), len(f["docs"]), len(f["rejects"]))
        run(direct, "INSERT INTO src.raw SELECT $1::bigint, (d->>0)::bigint, d->>1 "
                    "FROM jsonb_array_elements($2::jsonb) d",
            f["file_id"], json.dumps(f["docs"]))
        for rej in f["rejects"]:
            run(direct, "INSERT INTO src.rejects VALUES ($1, $2, $3, $4, $5)", f["file_id"], *rej)
    run(direct, """
CREATE TABLE src.songs AS
SELECT r.file_id, r.line, j.num_songs, j.artist_id, j.artist_latitude, j.artist_longitude,
       j.artist_location, j.artist_name, j.song_id, j.title, j.duration, j.year
FROM src.raw r JOIN src.files f ON f.file_id = r.file_id AND f.kind = 'song'
CROSS JOIN LATERAL jsonb_to_record(r.doc::jsonb) AS j (
  num_songs integer, artist_id text, artist_latitude double precision, artist_longitude double precision,
  artist_location text, artist_name text, song_id text, title text, duration double precision, year integer)""")
    run(direct, """
CREATE TABLE src.events AS
SELECT r.file_id, r.line, j.artist, j.auth, j."firstName" AS first_name, j.gender, j."itemInSession" AS item_in_session,
       j."lastName" AS last_name, j.length, j.level, j.location, j.method, j.page, j.registration,
       j."sessionId" AS session_id, j.song, j.status, j.ts, j."userAgent" AS user_agent, j."userId" AS user_id
FROM src.raw r JOIN src.files f ON f.file_id = r.file_id AND f.kind = 'event'
CROSS JOIN LATERAL jsonb_to_record(r.doc::jsonb) AS j (
  artist text, auth text, "firstName" text, gender text, "itemInSession" integer, "lastName" text,
  length double precision, level text, location text, method text, page text, registration double precision,
  "sessionId" bigint, song text, status integer, ts bigint, "userAgent" text, "userId" text)""")
    # JSON numbers have no negative zero: the play of "Zero Point" gets its -0 here.
    run(direct, "UPDATE src.events SET length = '-0'::float8 WHERE song = 'Zero Point'")
    shape_rows(direct)


# The song-matching key the workers compute (worker/star_rows.h, SongMatchKey), in PostgreSQL's SQL.
def match_key_sql(title, artist_name, duration):
    return "hashtextextended(%s || chr(31) || %s || chr(31) || (%s + 0)::text, 0)" % (title, artist_name, duration)


def shape_rows(direct):
    """The typed records shaped as the workers shape them (docs/STAGING_ROWS.md, worker/star_rows.cc):
    src.plays, src.users, src.time, src.songs' match keys, and src.files' staged_rows."""
    run(direct, "ALTER TABLE src.songs ADD COLUMN match_key bigint")
    run(direct, "UPDATE src.songs SET match_key = " + match_key_sql("title", "artist_name", "duration"))
    run(direct, """
CREATE TABLE src.plays AS
SELECT file_id, line, session_id * 16777216 + item_in_session AS songplay_id, ts, user_id, level, session_id,
       location, user_agent, """ + match_key_sql("song", "artist", "length") + """ AS match_key
FROM src.events
WHERE page = 'NextSong' AND session_id IS NOT NULL AND item_in_session IS NOT NULL""")
    run(direct, """
CREATE TABLE src.users AS
SELECT DISTINCT ON (file_id, user_id) file_id, line, user_id, first_name, last_name, gender, level, ts, session_id,
       item_in_session
FROM src.events
WHERE user_id <> ''
ORDER BY file_id, user_id, ts DESC, session_id DESC NULLS LAST, item_in_session DESC NULLS LAST,
         first_name COLLATE "C", last_name COLLATE "C", gender COLLATE "C", level COLLATE "C"
""")
    run(direct, """
CREATE TABLE src.time AS
SELECT file_id, ts, date_part('hour', t)::int AS hour, date_part('day', t)::int AS day,
       date_part('week', t)::int AS week, date_part('month', t)::int AS month, date_part('year', t)::int AS year,
       date_part('dow', t)::int AS weekday
FROM (SELECT DISTINCT file_id, ts, timestamp 'epoch' + ts * interval '1 millisecond' AS t FROM src.plays) p""")
    run(direct, """
UPDATE src.files f SET staged_rows = COALESCE((SELECT sum(n) FROM (
    SELECT count(*) AS n FROM src.plays WHERE file_id = f.file_id
    UNION ALL SELECT count(*) FROM src.users WHERE file_id = f.file_id
    UNION ALL SELECT count(*) FROM src.time WHERE file_id = f.file_id
    UNION ALL SELECT count(*) FROM src.songs WHERE file_id = f.file_id) c), 0)""")


def setUpModule():
    try:
        SERVICES.start()
        STATE["direct"] = direct = standin.Conn(SERVICES.direct_conninfo())
        sample = read_sample()
        events = [f for f in sample.files if f["kind"] == "event"]
        songs = [f for f in sample.files if f["kind"] == "song"]
        if len(events) != 30 or len(songs) != 71:
            raise RuntimeError("the Sparkify sample is not at %s (found %d event and %d song files)" % (
                SAMPLE_DIR, len(events), len(songs)))
        events_a, events_b = events[0::2], events[1::2]  # alternate days: each run has earlier and later ones
        songs_a, songs_b = songs[:35], songs[35:]
        made, plays = synthetic_files(sample, events_a, events_b)
        STATE["plays"] = plays
        run_a = [f["file_id"] for f in events_a + songs_a + made["a"]]
        run_b = [f["file_id"] for f in events_b + songs_b + made["b"]]
        everything = sorted(run_a + run_b)
        build_source(direct, sample)
        loader = Loader(direct)
        sides = {dialect + "_" + load: Side(dialect, dialect + "_" + load)
                 for dialect in ("postgres", "redshift") for load in ("full", "incr")}
        STATE["sides"] = sides
        STATE["runs"] = {}
        for prefix, load in (("postgres", loader.load_pg), ("redshift", loader.load_rs)):
            STATE["runs"][prefix + "_full"] = [load(sides[prefix + "_full"], everything, "songs=all events=all")]
            STATE["runs"][prefix + "_incr"] = [load(sides[prefix + "_incr"], run_a, "songs=a events=a"),
                                               load(sides[prefix + "_incr"], run_b, "songs=b events=b")]
        run(direct, "CREATE SCHEMA snap")
        for schema in sides:
            keep_copy(direct, schema, SAME_DIALECT)
        for prefix, load in (("postgres", loader.load_pg), ("redshift", loader.load_rs)):
            STATE["runs"][prefix + "_full"].append(load(sides[prefix + "_full"], everything, "songs=all events=all"))
            STATE["runs"][prefix + "_incr"].append(load(sides[prefix + "_incr"], run_b, "songs=b events=b"))
    except Exception:
        tearDownModule()
        raise


def tearDownModule():
    for side in STATE.get("sides", {}).values():
        side.conn.close()
    if STATE.get("direct"):
        STATE["direct"].close()
    if os.environ.get("STANDIN_TEST_SHOW_LOG"):
        sys.stderr.write(SERVICES.log_tail(20000))
    SERVICES.stop()


def assert_same_rows(test, first, second, limit=5):
    """The two SELECTs return the same rows (as multisets), and some."""
    direct = STATE["direct"]
    count = int(run(direct, "SELECT count(*) FROM (%s) a" % first).rows[0][0])
    test.assertGreater(count, 0, "no rows: " + first)
    differ = run(direct, "SELECT * FROM ((SELECT 'only in the first' AS side, * FROM (%s EXCEPT ALL %s) x) "
                         "UNION ALL (SELECT 'only in the second', * FROM (%s EXCEPT ALL %s) y)) d LIMIT %d" % (
                             first, second, second, first, 2 * limit)).rows
    if differ:
        test.fail("%s\n%s\nof %d rows, these differ: %r" % (first, second, count, differ))


# --- the tests --------------------------------------------------------------------------------

class SameStarTest(unittest.TestCase):
    def assert_same(self, first, second, tables):
        for table, columns in tables.items():
            with self.subTest(table=table, first=first, second=second):
                assert_same_rows(self, table_select(first, table, columns), table_select(second, table, columns))

    def test_full_load_redshift_equals_postgres(self):
        self.assert_same("postgres_full", "redshift_full", STAR)

    def test_incremental_load_redshift_equals_postgres(self):
        self.assert_same("postgres_incr", "redshift_incr", STAR)

    def test_incremental_load_equals_full_load(self):
        self.assert_same("redshift_incr", "redshift_full", SAME_DIALECT)
        self.assert_same("postgres_incr", "postgres_full", SAME_DIALECT)

    def test_ledgers_agree(self):
        self.assert_same("postgres_full", "redshift_full", LEDGER)
        self.assert_same("postgres_incr", "redshift_incr", LEDGER)
        q = lambda sql: run(STATE["direct"], sql).rows  # noqa: E731
        self.assertEqual(q("SELECT DISTINCT state FROM redshift_incr.load_files"), [["loaded"]])
        self.assertEqual(q("SELECT count(*), count(rejected_at) FROM redshift_incr.rejects"), [["1", "1"]])  # stamped
        self.assertEqual(q("SELECT count(*) FROM redshift_full.rejects"), [["2"]])  # the bad line, staged twice

    def test_rerunning_a_run_changes_nothing(self):
        for schema in STATE["sides"]:
            for table, columns in SAME_DIALECT.items():
                with self.subTest(schema=schema, table=table):
                    assert_same_rows(self, kept(schema, table), table_select(schema, table, columns))
        self.assertEqual(len(STATE["runs"]["redshift_incr"]), 3)
        self.assertEqual(run(STATE["direct"], "SELECT state, count(*) FROM redshift_incr.runs GROUP BY 1").rows,
                         [["done", "3"]])


class WhatTheRulesGiveTest(unittest.TestCase):
    """The made-up files' rows, as the rules say; the tests above show both dialects give them."""

    def query(self, sql):
        return run(STATE["direct"], sql.replace("S.", "redshift_incr.")).rows

    def test_the_sample_figures(self):
        counts = dict(self.query("SELECT 'songplays', count(*) FROM S.songplays WHERE session_id < 900000 "
                                 "UNION ALL SELECT 'time', count(*) FROM S.time "
                                 "UNION ALL SELECT 'users', count(*) FROM S.users WHERE user_id NOT LIKE '9__'"))
        self.assertEqual(counts["songplays"], "6820")
        self.assertEqual(counts["users"], "97")

    def test_songs_and_artists_take_the_first_version(self):
        self.assertEqual(self.query("SELECT title, year FROM S.songs WHERE song_id = 'SOSYN0004'"), [["Alpha", "2004"]])
        self.assertEqual(self.query("SELECT year FROM S.songs WHERE song_id = 'SOSYN0006'"), [[None]])
        self.assertEqual(self.query("SELECT name, location, latitude FROM S.artists WHERE artist_id = 'ARSYN0005'"),
                         [["!!! Band", "Zzz Village", "1.5"]])

    def test_matches_take_the_lowest_song_id_and_reach_earlier_plays(self):
        p = STATE["plays"]
        for key, expected in (("p1", "SOSYN0001"), ("p2", "SOSYN0002A"), ("p3", "SOSYN0003A"), ("q1", "SOSYN0007A")):
            rows = run(STATE["direct"],
                       "SELECT DISTINCT p.song_id, p.unmatched_key FROM redshift_incr.songplays p "
                       "JOIN src.events e ON p.songplay_id = e.session_id * 16777216 + e.item_in_session "
                       "WHERE e.page = 'NextSong' AND e.song = $1 AND e.artist = $2 AND e.length = $3::float8",
                       *p[key][:2], repr(p[key][2])).rows
            with self.subTest(play=key):
                self.assertEqual(rows, [[expected, None]])
        # A play of length -0 matches a song of duration 0, by its key too (run A's play, run B's song).
        self.assertEqual(self.query("SELECT song_id, unmatched_key FROM S.songplays "
                                    "WHERE songplay_id = 900005::bigint * 16777216 + 4"), [["SOSYN0008", None]])

    def test_unmatched_plays_keep_a_key_unless_they_lack_one(self):
        rows = self.query("SELECT songplay_id - 900005::bigint * 16777216, song_id, unmatched_key FROM S.songplays "
                          "WHERE session_id = 900005 ORDER BY 1")
        self.assertEqual([r[0] for r in rows], ["0", "1", "2", "3", "4"])
        self.assertEqual(rows[0][1], "SOSYN0001")
        self.assertIsNone(rows[0][2])
        self.assertRegex(rows[2][2], "^-?[0-9]+$")  # p5: no song, a key
        title, artist, length = STATE["plays"]["p5"]
        expected = run(STATE["direct"], "SELECT " + match_key_sql("$1", "$2", "$3::float8"),
                       title, artist, repr(length)).rows[0][0]
        self.assertEqual(rows[2][2], expected)
        self.assertEqual(rows[3][1:], [None, None])  # no artist, no length: no key

    def test_users_take_their_latest_event(self):
        self.assertEqual(self.query("SELECT user_id, level FROM S.users WHERE user_id IN ('900', '901', '902', '903') "
                                    "ORDER BY 1"),
                         [["900", "paid"], ["901", "paid"], ["902", "paid"], ["903", "paid"]])

    def test_duplicate_plays_keep_the_first_by_their_columns(self):
        self.assertEqual(self.query("SELECT location, song_id FROM S.songplays "
                                    "WHERE songplay_id = 900006::bigint * 16777216"),
                         [["Aaa Town", "SOSYN0002A"]])


class ChecksTest(unittest.TestCase):
    """Each check, once on a table broken for it, through the stand-in on redshift_full (rolled back)."""

    BROKEN_RUN = 999
    # check name -> (statements that break the table, offending rows expected). A duplicate key:
    # PostgreSQL enforces keys, Redshift only declares them; a key made DEFERRABLE INITIALLY
    # DEFERRED stays declared but is enforced only at COMMIT, so inside the transaction the
    # duplicate is there, as on Redshift, and a check that trusted the declared key would miss it.
    BREAKERS = {
        "checks/%s_primary_key" % t: (["ALTER TABLE %s DROP CONSTRAINT %s_pkey" % (t, t),
                                       "ALTER TABLE %s ADD PRIMARY KEY (%s) DEFERRABLE INITIALLY DEFERRED" % (t, k),
                                       "INSERT INTO %s SELECT * FROM %s WHERE %s = (SELECT min(%s) FROM %s)" % (
                                           t, t, k, k, t)], 1)
        for t, k in (("songs", "song_id"), ("artists", "artist_id"), ("users", "user_id"), ("time", "start_time"),
                     ("songplays", "songplay_id"))
    }
    BREAKERS.update({
        "checks/load_files_primary_key": (
            ["ALTER TABLE load_files DROP CONSTRAINT load_files_pkey",
             "ALTER TABLE load_files DROP CONSTRAINT load_files_uri_key",
             "ALTER TABLE load_files ADD PRIMARY KEY (file_id) DEFERRABLE INITIALLY DEFERRED",
             "ALTER TABLE load_files ADD UNIQUE (uri) DEFERRABLE INITIALLY DEFERRED",
             "INSERT INTO load_files SELECT * FROM load_files WHERE file_id = 1"], 2),
        "checks/songplays_count_matches_run": (
            ["INSERT INTO staging_plays (run_id, file_id, line, songplay_id, ts, user_id, session_id) "
             "VALUES (999, 1, 1, 999999::bigint * 16777216, 1543000000796, '42', 999999)"], 1),
        "checks/tables_not_empty": (
            ["DELETE FROM users",
             "INSERT INTO staging_users (run_id, file_id, line, user_id, ts) "
             "VALUES (999, 1, 1, '42', 1543000000796)"], 1),
        "checks/ledger_accounts_balance": (
            ["INSERT INTO staging_files VALUES (999, 5000, 's3://sparkify/new.json', 'event', 'e', 10, 3, 2, 1, 2)",
             "INSERT INTO load_files VALUES (5000, 's3://sparkify/new.json', 'event', 'e', 10, 999, 'loaded', 3, 2, 1, "
             "TIMESTAMP 'now')",
             "INSERT INTO staging_files VALUES (999, 5001, 's3://sparkify/lost.json', 'event', 'e', 10, 0, 0, 0, 0)"], 2),
        "checks/songplays_artist_in_artists": (
            ["DELETE FROM artists WHERE artist_id = (SELECT min(artist_id) FROM songplays)"], None),
        "checks/songplays_song_in_songs": (["DELETE FROM songs WHERE song_id = (SELECT min(song_id) FROM songplays)"],
                                           None),
        "checks/songplays_start_time_in_time": (
            ["DELETE FROM time WHERE start_time = (SELECT min(start_time) FROM songplays)"], None),
        "checks/songplays_user_in_users": (["DELETE FROM users WHERE user_id = (SELECT min(user_id) FROM songplays)"],
                                           None),
    })

    # A PostgreSQL check whose rules Redshift checks under other names: songplays_of_the_run checks
    # the run's own songplays in one pass; Redshift checks the count and each dimension apart.
    ON_REDSHIFT = {
        "checks/songplays_of_the_run": {"checks/songplays_count_matches_run", "checks/songplays_user_in_users",
                                        "checks/songplays_start_time_in_time", "checks/songplays_song_in_songs",
                                        "checks/songplays_artist_in_artists"},
        # PostgreSQL answers "each songplay's start time is in time" for a first load from the staged
        # times (this check) and sums of time; Redshift joins songplays to time.
        "checks/plays_times_staged": {"checks/songplays_start_time_in_time"},
    }

    def test_redshift_has_every_check_postgres_has(self):
        redshift = set(names_under("checks", "redshift"))
        for name in names_under("checks", "postgres"):
            self.assertLessEqual(self.ON_REDSHIFT.get(name, {name}), redshift, name)

    def test_every_check_reports_a_broken_table(self):
        side = STATE["sides"]["redshift_full"]
        names = names_under("checks", "redshift")
        self.assertEqual(sorted(self.BREAKERS), names, "give every check a breakage here")
        for name in names:
            statements, expected = self.BREAKERS[name]
            with self.subTest(check=name):
                self.assertEqual(side.check(name, self.BROKEN_RUN), [], "passes before")
                run(side.conn, "BEGIN")
                try:
                    for sql in statements:
                        run(side.conn, sql)
                    rows = side.check(name, self.BROKEN_RUN)
                finally:
                    run(side.conn, "ROLLBACK")
                self.assertTrue(rows, "%s found nothing" % name)
                count = int(rows[0][-1])  # loadstar_offending_rows
                self.assertEqual(len(rows), min(count, SAMPLE_ROWS))
                if expected is not None:
                    self.assertEqual(count, expected, rows)
                self.assertEqual(side.check(name, self.BROKEN_RUN), [], "passes after the rollback")


class OtherStatementsTest(unittest.TestCase):
    """The rest of the redshift dialect, and every common statement, through the stand-in."""

    def test_common_statements_run_on_redshift_and_agree(self):
        """Every sql/common statement, on both incremental schemas (in a transaction rolled back):
        the same rows, but for the server's version."""
        runs = STATE["runs"]["redshift_incr"]
        self.assertEqual(runs, STATE["runs"]["postgres_incr"])
        params = {"run_find_resumable": ["songs=b events=b"], "run_staged_files": [runs[0]],
                  "run_account": [runs[0]], "run_set_listing": [runs[0], 10, 3, 12345]}
        pg, rs = STATE["sides"]["postgres_incr"], STATE["sides"]["redshift_incr"]
        common = sorted(f[:-4] for f in os.listdir(os.path.join(SQL_DIR, "common")) if f.endswith(".sql"))
        self.assertIn("ledger_max_file_id", common)
        for name in common:
            values = params.get(name, ["1"] * param_count(sql_text(name, "redshift")))
            with self.subTest(statement=name, params=values):
                results = []
                for side in (pg, rs):
                    run(side.conn, "BEGIN")
                    try:
                        results.append(sorted(side.file(name, *values).rows))
                    finally:
                        run(side.conn, "ROLLBACK")
                if name == "server_version":
                    self.assertIn("Redshift", results[1][0][0])
                    self.assertNotIn("Redshift", results[0][0][0])
                else:
                    self.assertEqual(results[0], results[1])
        self.assertEqual(rs.file("ledger_max_file_id").rows,
                         run(STATE["direct"], "SELECT max(file_id) FROM redshift_incr.load_files").rows)
        self.assertEqual(sorted(rs.file("run_account", runs[2]).rows), sorted(pg.file("run_account", runs[2]).rows))

    def test_run_bookkeeping(self):
        rs = STATE["sides"]["redshift_incr"]
        run(rs.conn, "BEGIN")
        try:
            rs.file("run_lock")
            run_id = int(rs.file("run_next_id").rows[0][0])
            self.assertEqual(run_id, max(STATE["runs"]["redshift_incr"]) + 1)
            rs.file("run_create", run_id, "songs=x events=y")
            self.assertEqual(rs.file("run_find_resumable", "songs=x events=y").rows, [[str(run_id), "staging"]])
            rs.file("run_set_listing", run_id, 10, 3, 12345)
            rs.file("run_set_state", run_id, "failed", "it broke")
            self.assertEqual(rs.file("run_state", run_id).rows, [["failed"]])
            row = run(rs.conn, "SELECT files_listed, files_skipped, bytes_listed, error, finished_at IS NOT NULL, "
                               "started_at <= finished_at FROM runs WHERE run_id = $1", run_id).rows
            self.assertEqual(row, [["10", "3", "12345", "it broke", "t", "t"]])
            rs.file("run_set_state", run_id, "staging", None)
            self.assertEqual(run(rs.conn, "SELECT state, error, finished_at FROM runs WHERE run_id = $1", run_id).rows,
                             [["staging", None, None]])
        finally:
            run(rs.conn, "ROLLBACK")

    def test_reports_agree(self):
        self.assertEqual(names_under("report", "postgres"), names_under("report", "redshift"))
        pg, rs = STATE["sides"]["postgres_full"], STATE["sides"]["redshift_full"]
        run(rs.conn, "BEGIN")
        try:
            rs.file("read_snapshot")
            for name in names_under("report", "redshift"):
                with self.subTest(report=name):
                    self.assertTrue(leading_comment(sql_text(name, "redshift")))
                    a, b = pg.file(name).rows, rs.file(name).rows
                    self.assertTrue(a)
                    self.assertEqual(a, b)
        finally:
            run(rs.conn, "ROLLBACK")

    def test_transform_steps_have_labels(self):
        steps = split_statements(sql_text("transform", "redshift", schema="x", run_id=1))
        self.assertGreater(len(steps), 15)
        self.assertEqual(len({label for label, _ in steps if not label.startswith("DROP TABLE IF EXISTS")}),
                         len([1 for label, _ in steps if not label.startswith("DROP TABLE IF EXISTS")]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
