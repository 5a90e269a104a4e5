#!/usr/bin/env python3
"""The cases of loadstar's benchmark, timed side by side on one generated data set.

bench/run starts the services (a private PostgreSQL, a local S3 server), then runs this with
their addresses; see `bench/run --help` for what is measured. Python 3 standard library only
(the Redshift stand-in it starts for the Redshift case runs under /usr/bin/python3, with Debian's
botocore).

Each case runs in a schema of its own, dropped (and a CHECKPOINT taken) before and after it, so
no case pays for another's writes. Every case that builds the star tables is checked against the
PostgreSQL-only baseline's tables (row counts and a digest of their content), and its row counts
against the generator's own figures (which no SQL of loadstar's computed); every loadstar run's
account of what it staged is checked too, the memory cases' against their own data: a fast wrong
answer is reported as a failure, not as a result. The Redshift case's tables live in the same
PostgreSQL, behind the stand-in; they are compared with sql/bench/star_digest_cross_dialect.sql,
which sees songplays.unmatched_key only as NULL or not (its type differs between the dialects), and
its staging prefix must be empty after the run.

Two reference rows do not run loadstar's SQL, so that they stay put when loadstar's transforms get
faster or slower: PostgreSQL alone as a competent engineer would write it (sql/bench/competent_*.sql:
UNLOGGED raw and staging tables, the star tables by CREATE TABLE AS ... SELECT DISTINCT ON) and
DuckDB (bench/duckdb_load.mjs: read_json and the same DISTINCT ON SQL, from the local files).
Their tables are not loadstar's (no lineage, ties resolved by no rule), so only their row counts
are compared: with the generator's figures (a difference is a failure) and with loadstar's (shown).

While a case runs, a sampler reads /proc every 50 ms: the peak RSS (VmHWM) of the case's
processes (the coordinator and each worker apart), and the CPU time of the case's processes,
PostgreSQL, the S3 server, the Redshift stand-in and the whole machine, so that what other work
on the machine took is visible next to each figure.
"""

import argparse
import datetime
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

CLK_TCK = os.sysconf("SC_CLK_TCK")
MB = 1e6
TRANSFORM_STEP = re.compile(r"^transform: ([\d.]+) s\s+(.*)$")
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z (\w+) ([^:]+): (.*)$")

# Product targets (see the performance requirements); each is checked on the figures of one run.
TARGET_BASELINE_RATIO = 0.5      # loadstar end to end <= 0.5 x the PostgreSQL-only baseline
TARGET_CEILING_RATIO = 1.3       # loadstar end to end <= 1.3 x typed COPY + transforms
TARGET_S3_SHARE = 0.9            # one-song files through S3 >= 90 % of the server's GET ceiling
TARGET_RSS_MB = 256              # worker (2 GB log file) and coordinator (1,000,000 files)
TARGET_TASKS_PER_S = 50_000      # the coordinator's scheduler alone
TARGET_COMPETENT_RATIO = 0.5     # loadstar end to end, 2 workers <= 0.5 x PostgreSQL alone, written competently
TARGET_WAL_RATIO = 2.0           # WAL a loadstar run writes <= 2 x the size of the star tables it leaves
TARGET_CHECKS_SHARE = 0.10       # loadstar's data-quality checks <= 10 % of its run
FOOTPRINT_WORKERS = 2            # the file:// run whose WAL, star size and checks are judged
TARGET_INCREMENT_RATIO = 1.5     # one more day into a loaded month <= 1.5 x that day alone (same songs)
STAR_TABLES = ("songplays", "users", "songs", "artists", "time")

# The Redshift case's COPY role: the stand-in checks only its form (docs/REDSHIFT_STANDIN.md).
REDSHIFT_IAM_ROLE = "arn:aws:iam::123456789012:role/loadstar-copy"


class CaseError(Exception):
    """A case could not produce its figure; the message says why and where to look."""


# ----------------------------------------------------------------------------------------------
# /proc readings

def read_text(path):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def proc_stat(pid):
    """(utime+stime, cutime+cstime) of a process in seconds, or None once it is gone."""
    text = read_text(f"/proc/{pid}/stat")
    if text is None:
        return None
    fields = text[text.rfind(")") + 2:].split()
    # fields[0] is field 3 (state) of proc(5): utime is field 14, cutime field 16.
    own = (int(fields[11]) + int(fields[12])) / CLK_TCK
    reaped = (int(fields[13]) + int(fields[14])) / CLK_TCK
    return own, reaped


def proc_hwm_kb(pid):
    text = read_text(f"/proc/{pid}/status")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def proc_cmdline(pid):
    text = read_text(f"/proc/{pid}/cmdline")
    return text.split("\0")[:-1] if text else []


def children(pid):
    out = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        text = read_text(f"/proc/{pid}/task/{tid}/children")
        if text:
            out.extend(int(c) for c in text.split())
    return out


def descendants(pid, limit=10_000):
    """pid and every process below it (bounded: a process tree is never this big here)."""
    found, todo = [], [pid]
    while todo and len(found) < limit:
        p = todo.pop()
        found.append(p)
        todo.extend(children(p))
    return found


def tree_cpu(pid):
    """CPU seconds a process tree has used: its own, its reaped children's, and its live ones'."""
    if not pid:
        return 0.0
    total = 0.0
    for p in descendants(pid):
        st = proc_stat(p)
        if st is not None:
            total += st[0] + st[1]
    return total


def machine_busy():
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    fields = [int(x) for x in read_text("/proc/stat").splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLK_TCK


class Sampler(threading.Thread):
    """Follows a process tree until stopped: per process, the last VmHWM and CPU seen."""

    def __init__(self, root_pid, interval=0.05):
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.interval = interval
        self.seen = {}  # pid -> {"cmd": [...], "hwm_kb": int, "cpu_s": float}
        self._stop_event = threading.Event()

    def sample(self):
        for pid in descendants(self.root_pid):
            hwm = proc_hwm_kb(pid)
            st = proc_stat(pid)
            if hwm is None or st is None:
                continue
            entry = self.seen.get(pid)
            if entry is None:
                entry = self.seen[pid] = {"cmd": [], "hwm_kb": 0, "cpu_s": 0.0}
            # Read every time: a child first seen between fork and exec still has its parent's
            # command line (a worker would be counted as a coordinator).
            entry["cmd"] = proc_cmdline(pid) or entry["cmd"]
            entry["hwm_kb"] = max(entry["hwm_kb"], hwm)
            entry["cpu_s"] = max(entry["cpu_s"], st[0])

    def run(self):
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join()


# ----------------------------------------------------------------------------------------------
# Running things

class Bench:
    def __init__(self, args):
        self.args = args
        self.root = args.root
        self.work = args.work
        # Every case runs the same binaries and SQL: copies taken at the start, so that a rebuild or
        # an edit while the harness runs cannot mix two versions into one set of figures.
        bin_dir = os.path.join(self.work, "bin")
        os.makedirs(bin_dir, exist_ok=True)
        self.loadstar = snapshot(os.path.join(args.build, "loadstar"), bin_dir)
        self.parser_bench = snapshot(os.path.join(args.build, "bench", "loadstar_record_parser_bench"), bin_dir)
        self.scheduler_bench = snapshot(os.path.join(args.build, "bench", "loadstar_scheduler_bench"), bin_dir)
        self.duckdb_script = os.path.join(bin_dir, "duckdb_load.mjs")
        shutil.copy2(os.path.join(self.root, "bench", "duckdb_load.mjs"), self.duckdb_script)
        self.node = shutil.which("node")
        self.commit = git_head(self.root)
        self.binary_built = datetime.datetime.fromtimestamp(
            os.path.getmtime(os.path.join(args.build, "loadstar")), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        self.sql_src = os.path.join(self.work, "sql-src")
        shutil.copytree(os.path.join(self.root, "sql"), self.sql_src)
        self.standin_src = os.path.join(self.work, "redshift-standin")
        shutil.copytree(os.path.join(self.root, "tests", "tools", "redshift_standin"), self.standin_src,
                        ignore=shutil.ignore_patterns("__pycache__"))
        self.warnings = []
        # sql/bench/ is read from disk, not embedded in the binary (sql/CMakeLists.txt).
        newest_sql = max(os.path.getmtime(os.path.join(d, f)) for d, _, files in os.walk(self.sql_src) for f in files
                         if os.path.relpath(d, self.sql_src).split(os.sep)[0] != "bench")
        if os.path.getmtime(os.path.join(args.build, "loadstar")) < newest_sql:
            self.warnings.append("build/loadstar is older than a file in sql/: the SQL embedded in loadstar may "
                                 "differ from the SQL the baseline and ceiling run; rebuild and run again")
        # The statements every loadstar connection starts with, and the transform transaction.
        self.session_sql = first_existing(self.sql_src, ["postgres/session", "postgres/set_search_path"])
        self.transform_sql = ["postgres/transform"] + (
            ["postgres/transform_finish"] if os.path.exists(os.path.join(self.sql_src, "postgres/transform_finish.sql"))
            else [])
        self.logs = os.path.join(self.work, "logs")
        self.sql_dir = os.path.join(self.work, "sql")
        os.makedirs(self.logs, exist_ok=True)
        os.makedirs(self.sql_dir, exist_ok=True)
        self.data = os.path.join(self.work, "data")
        self.pg_pid = self._postmaster_pid()
        self.s3_pid = args.s3_pid
        self.standin_pid = 0   # the Redshift stand-in, while its case runs
        self.reference_cross = None  # the baseline's star tables as sql/bench/star_digest_cross_dialect.sql sees them
        self.cases = []
        self.failures = []
        self.reference = None  # star tables of the baseline: {table: (rows, digest)}
        self.summary = {}      # what the generator wrote
        self.timeout = args.timeout
        self.env = dict(os.environ, LOADSTAR_WAREHOUSE=args.pg_uri,
                        LOADSTAR_TOOLS_DIR=args.tools_dir or os.path.join(self.root, ".tools"))
        self.on_case = None    # called after every case

    def _postmaster_pid(self):
        text = read_text(os.path.join(self.args.pg_dir, "data", "postmaster.pid"))
        return int(text.splitlines()[0]) if text else None

    def note(self, message):
        print(f"==> {message}", file=sys.stderr, flush=True)

    # -- processes ---------------------------------------------------------------------------

    def measure(self, name, argv, timeout=None, env=None):
        """Runs argv to completion; returns wall time, exit code, output, peaks and CPU split."""
        timeout = timeout or self.timeout
        out_path = os.path.join(self.logs, f"{name}.out")
        err_path = os.path.join(self.logs, f"{name}.err")
        before = {
            "machine": machine_busy(), "pg": tree_cpu(self.pg_pid), "s3": tree_cpu(self.s3_pid),
            "standin": tree_cpu(self.standin_pid),
            "children": resource.getrusage(resource.RUSAGE_CHILDREN),
            "self": resource.getrusage(resource.RUSAGE_SELF),
        }
        load_before = os.getloadavg()[0]
        with open(out_path, "wb") as out, open(err_path, "wb") as err, open(os.devnull, "rb") as stdin:
            start_wall = time.time()
            start = time.monotonic()
            proc = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=err, env=env or self.env,
                                    start_new_session=True)
            sampler = Sampler(proc.pid)
            sampler.start()
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                stop_group(proc)
                sampler.stop()
                raise CaseError(f"{name}: still running after {timeout} s; stopped it (see {err_path})")
            except BaseException:
                stop_group(proc)
                sampler.stop()
                raise
            wall = time.monotonic() - start
            sampler.stop()
        after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        after_self = resource.getrusage(resource.RUSAGE_SELF)
        children_cpu = (after_children.ru_utime + after_children.ru_stime
                        - before["children"].ru_utime - before["children"].ru_stime)
        self_cpu = (after_self.ru_utime + after_self.ru_stime - before["self"].ru_utime - before["self"].ru_stime)
        root = sampler.seen.get(proc.pid, {"hwm_kb": 0, "cpu_s": 0.0, "cmd": argv})
        others = [v for pid, v in sampler.seen.items() if pid != proc.pid]
        cpu = {
            "case_processes": children_cpu,
            "root_process": min(root["cpu_s"], children_cpu),
            "postgres": tree_cpu(self.pg_pid) - before["pg"],
            "s3_server": tree_cpu(self.s3_pid) - before["s3"],
            "redshift_standin": tree_cpu(self.standin_pid) - before["standin"],
            "harness": self_cpu,
            "machine": machine_busy() - before["machine"],
        }
        cpu["other"] = max(0.0, cpu["machine"] - cpu["case_processes"] - cpu["postgres"] - cpu["s3_server"]
                           - cpu["redshift_standin"] - cpu["harness"])
        with open(out_path, "r", encoding="utf-8", errors="replace") as f:
            stdout = f.read()
        with open(err_path, "r", encoding="utf-8", errors="replace") as f:
            stderr = f.read()
        return {
            "name": name, "argv": argv, "rc": rc, "wall_s": wall, "start_wall": start_wall,
            "stdout": stdout, "stderr": stderr, "err_path": err_path,
            "root_hwm_mb": root["hwm_kb"] / 1024,
            "child_hwm_mb": max([v["hwm_kb"] for v in others], default=0) / 1024,
            "processes": [{"cmd": " ".join(v["cmd"][:3]), "hwm_mb": v["hwm_kb"] / 1024, "cpu_s": v["cpu_s"]}
                          for v in sampler.seen.values()],
            "cpu_s": cpu, "load_1m": load_before,
        }

    def checked(self, run, what):
        if run["rc"] != 0:
            tail = "\n".join(run["stderr"].strip().splitlines()[-5:])
            raise CaseError(f"{what} exited with code {run['rc']} (log: {run['err_path']}):\n{tail}")
        return run

    # -- SQL ----------------------------------------------------------------------------------

    def render(self, names, values):
        """Concatenates sql/<name>.sql files with {{key}} placeholders substituted."""
        parts = []
        for name in names:
            with open(os.path.join(self.sql_src, name + ".sql"), "r", encoding="utf-8") as f:
                text = f.read()
            for key, value in values.items():
                text = text.replace("{{" + key + "}}", str(value))
            left = re.search(r"\{\{(\w+)\}\}", text)
            if left:
                raise CaseError(f"sql/{name}.sql: no value for {{{{{left.group(1)}}}}}")
            parts.append(text if text.endswith("\n") else text + "\n")
        return "".join(parts)

    def sql_file(self, label, names, values):
        path = os.path.join(self.sql_dir, f"{label}.sql")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.render(names, values))
        return path

    def psql_argv(self, path, single_transaction=False, tuples=False):
        argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.args.pg_uri, "-f", path]
        if single_transaction:
            argv.insert(1, "--single-transaction")
        if tuples:
            argv[1:1] = ["-A", "-t", "-F", "|"]
        return argv

    def psql(self, label, names, values, tuples=False):
        """Runs SQL untimed (preparation, checks); returns its output."""
        path = self.sql_file(label, names, values)
        res = subprocess.run(self.psql_argv(path, tuples=tuples), capture_output=True, text=True,
                             timeout=self.timeout, env=self.env)
        if res.returncode != 0:
            raise CaseError(f"psql {label} failed: {res.stderr.strip()[-800:]}")
        return res.stdout

    def psql_timed(self, label, names, values, single_transaction=False):
        path = self.sql_file(label, names, values)
        return self.checked(self.measure(label, self.psql_argv(path, single_transaction)), f"psql {label}")

    def fresh_schema(self, schema):
        self.psql(f"drop_{schema}", ["bench/drop_schema"], {"schema": ident(schema)})

    def create_schema_sql(self):
        return ["postgres/create_schema", self.session_sql, "postgres/schema"]

    def star_digest(self, schema, query="bench/star_digest"):
        out = self.psql(f"digest_{schema}_{os.path.basename(query)}", [self.session_sql, query],
                        {"schema": ident(schema)}, tuples=True)
        tables = {}
        for line in out.splitlines():
            parts = line.split("|")
            if len(parts) == 3:
                tables[parts[0]] = (int(parts[1]), parts[2])
        return tables

    def expected_star(self, summary=None):
        """The star tables' row counts a correct load of the generated data must give, from the
        generator's own figures (not from any SQL of loadstar's)."""
        s = self.summary if summary is None else summary
        return {"songplays": s["next_song_events"], "users": s["distinct_users"], "songs": s["songs"],
                "artists": s["artists"], "time": s["time_rows"]}

    def check_figures(self, case, schema, got, expected):
        """Compares row counts with the generator's figures; records a failure on any difference."""
        diff = [f"{t} {got.get(t, (0, ''))[0]} rows, the generator says {n}" for t, n in expected.items()
                if got.get(t, (None, ''))[0] != n]
        if diff:
            case["figures_check"] = "DIFFERS: " + ", ".join(diff)
            self.failures.append(f"schema {schema}: star tables differ from the generator's figures ({', '.join(diff)})")
        else:
            case["figures_check"] = "same as the generator's figures"

    def check_star(self, case, schema, tables=None, expected=None, cross_dialect=False):
        """Compares a case's star tables to the baseline's, and their row counts to `expected` (by
        default the generator's figures for the tables compared); records a failure on any
        difference. cross_dialect: a schema loaded through the Redshift stand-in, compared as
        sql/bench/star_digest_cross_dialect.sql sees both. Returns what it found."""
        if cross_dialect:
            got, reference = self.star_digest(schema, "bench/star_digest_cross_dialect"), self.reference_cross
        else:
            got, reference = self.star_digest(schema), self.reference
        case["star_rows"] = {t: v[0] for t, v in got.items()}
        if expected is None:
            expected = {t: n for t, n in self.expected_star().items() if tables is None or t in tables}
        self.check_figures(case, schema, got, expected)
        if reference is None:
            case["star_check"] = "not checked: no baseline tables to compare with"
            return got
        wanted = tables or list(reference)
        diff = [t for t in wanted if got.get(t) != reference.get(t)]
        if diff:
            case["star_check"] = "DIFFERS: " + ", ".join(
                f"{t} {got.get(t, (0, ''))[0]} rows vs {reference[t][0]}" for t in diff)
            self.failures.append(f"schema {schema}: star tables differ from the baseline's ({', '.join(diff)})")
        else:
            case["star_check"] = ("same as baseline (songplays.unmatched_key compared as IS NULL only)"
                                  if cross_dialect else "same as baseline")
        return got

    def wal_lsn(self, label):
        """The server's current WAL position (read before a case)."""
        return self.psql(f"wal_lsn_{label}", ["bench/wal_lsn"], {}, tuples=True).strip()

    def wal_since(self, label, lsn):
        """Bytes of WAL the server has written since `lsn` (pg_wal_lsn_diff)."""
        out = self.psql(f"wal_since_{label}", ["bench/wal_since"], {"lsn": literal(lsn)}, tuples=True).strip()
        return int(float(out))

    def star_size(self, schema):
        """The five star tables' bytes on disk: {"heap": n, "indexes": n, "total": n}."""
        out = self.psql(f"star_size_{schema}", [self.session_sql, "bench/star_size"], {"schema": ident(schema)},
                        tuples=True).strip()
        heap, indexes, total = (int(x) for x in out.split("|"))
        return {"heap": heap, "indexes": indexes, "total": total}

    def star_figures(self, schema):
        """Row counts of the star tables and the plays matched to a song (sql/bench/star_rows.sql)."""
        out = self.psql(f"star_rows_{schema}", [self.session_sql, "bench/star_rows"], {"schema": ident(schema)},
                        tuples=True)
        return parse_figures(out)

    def expected_figures(self):
        """What sql/bench/star_rows.sql must give on the generated data, from the generator's figures."""
        return dict(self.expected_star(), **{"matched plays": self.summary["matched_plays"]})

    def check_reference_figures(self, case, schema, got):
        """A reference row's star figures against the generator's: a difference is a failure (its SQL
        is wrong, or the data set is not what the generator says)."""
        case["star_figures"] = got
        expected = self.expected_figures()
        diff = [f"{k} {got.get(k)}, the generator says {n}" for k, n in expected.items() if got.get(k) != n]
        if diff:
            case["figures_check"] = "DIFFERS: " + ", ".join(diff)
            self.failures.append(f"{schema}: star tables differ from the generator's figures ({', '.join(diff)})")
        else:
            case["figures_check"] = "same as the generator's figures"

    # -- cases --------------------------------------------------------------------------------

    def run_case(self, label, fn):
        """Runs one case `repeat` times (keeping the fastest); a failure is recorded, not raised."""
        self.note(label)
        best, walls = None, []
        try:
            for attempt in range(self.args.repeat):
                result = fn(attempt)
                walls.append(result["wall_s"])
                if best is None or result["wall_s"] < best["wall_s"]:
                    best = result
        except (CaseError, OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
            why = str(e) if isinstance(e, CaseError) else f"{type(e).__name__}: {e}"
            self.failures.append(f"{label}: {why}")
            self.note(f"FAILED: {why}")
            best = {"case": label, "wall_s": None, "error": why}
        best["case"] = label
        best["walls_s"] = walls
        self.cases.append(best)
        if best.get("wall_s") is not None:
            self.note(f"{label}: {best['wall_s']:.2f} s")
        if self.on_case:
            self.on_case()  # a long run that stops later still leaves what it measured
        return best

    def generate(self):
        a = self.args
        common = ["--songs", str(a.songs), "--events", str(a.events), "--days", str(a.days)]
        self.note(f"generating {a.songs} song files and {a.events} events to file:// and s3://{a.bucket}/")
        run = self.checked(self.measure("generate_file", [self.loadstar, "generate", "--to",
                                                           f"file://{self.data}/"] + common), "generate")
        self.summary = parse_summary(run["stdout"] + run["stderr"])
        self.summary["generate_file_s"] = run["wall_s"]
        run = self.checked(self.measure("generate_s3", [self.loadstar, "generate", "--to",
                                                         f"s3://{a.bucket}/"] + common), "generate to S3")
        self.summary["generate_s3_s"] = run["wall_s"]
        s3_summary = parse_summary(run["stdout"] + run["stderr"])
        if s3_summary.get("bytes") != self.summary.get("bytes"):
            raise CaseError("the S3 copy of the data set differs from the local one")

    def prepare_typed_rows(self):
        """Types the data once with the baseline's SQL and writes the rows as COPY text (untimed)."""
        schema = "bench_prep"
        self.fresh_schema(schema)
        values = self.baseline_values(schema)
        self.psql("prep_raw", self.create_schema_sql() + ["bench/baseline_raw"], values)
        self.psql("prep_stage", [self.session_sql, "bench/baseline_stage"], values)
        self.psql("prep_export", [self.session_sql, "bench/export_typed"], values)
        self.fresh_schema(schema)

    def baseline_values(self, schema):
        typed = os.path.join(self.work, "typed")
        os.makedirs(typed, exist_ok=True)
        return {
            "schema": ident(schema), "run_id": 1,
            "songs_root": literal(os.path.join(self.data, "song_data")),
            "events_root": literal(os.path.join(self.data, "log_data")),
            "plays_file": literal(os.path.join(typed, "staging_plays.tsv")),
            "users_file": literal(os.path.join(typed, "staging_users.tsv")),
            "time_file": literal(os.path.join(typed, "staging_time.tsv")),
            "songs_file": literal(os.path.join(typed, "staging_songs.tsv")),
        }

    def case_baseline(self, attempt):
        schema = "bench_baseline"
        self.fresh_schema(schema)
        v = self.baseline_values(schema)
        phases = [
            ("land raw JSON (COPY, pg_read_file)", self.psql_timed(
                f"baseline_raw_{attempt}", self.create_schema_sql() + ["bench/baseline_raw"], v)),
            ("type (jsonb_to_record)", self.psql_timed(
                f"baseline_stage_{attempt}", [self.session_sql, "bench/baseline_stage"], v)),
            ("transform", self.psql_timed(
                f"baseline_transform_{attempt}", [self.session_sql] + self.transform_sql, v,
                single_transaction=True)),
        ]
        case = combine(phases)
        case["bytes"] = self.summary["bytes"]
        self.reference = None
        self.reference = self.check_star(case, schema)
        self.reference_cross = self.star_digest(schema, "bench/star_digest_cross_dialect")
        case["star_check"] = "the reference"
        self.fresh_schema(schema)
        return case

    def case_ceiling(self, attempt):
        schema = "bench_ceiling"
        self.fresh_schema(schema)
        v = self.baseline_values(schema)
        phases = [
            ("COPY typed rows", self.psql_timed(
                f"ceiling_copy_{attempt}", self.create_schema_sql() + ["bench/ceiling_copy"], v)),
            ("transform", self.psql_timed(
                f"ceiling_transform_{attempt}", [self.session_sql] + self.transform_sql, v,
                single_transaction=True)),
        ]
        case = combine(phases)
        case["bytes"] = self.summary["bytes"]
        self.check_star(case, schema)
        self.fresh_schema(schema)
        return case

    def case_competent(self, attempt):
        """PostgreSQL alone, written the way a competent engineer would: loadstar's SQL plays no part."""
        schema = "bench_competent"
        self.fresh_schema(schema)
        v = self.baseline_values(schema)
        lsn = self.wal_lsn(schema)
        phases = [
            ("land raw JSON into UNLOGGED tables (COPY, pg_read_file)", self.psql_timed(
                f"competent_raw_{attempt}", ["postgres/create_schema", self.session_sql, "bench/competent_raw"], v)),
            ("type into UNLOGGED staging (CREATE TABLE AS, jsonb_to_record)", self.psql_timed(
                f"competent_stage_{attempt}", [self.session_sql, "bench/competent_stage"], v)),
            ("star tables (CREATE TABLE AS SELECT DISTINCT ON)", self.psql_timed(
                f"competent_star_{attempt}", [self.session_sql, "bench/competent_star"], v,
                single_transaction=True)),
        ]
        case = combine(phases)
        case["wal_bytes"] = self.wal_since(schema, lsn)
        case["star_bytes"] = self.star_size(schema)
        case["bytes"] = self.summary["bytes"]
        self.check_reference_figures(case, schema, self.star_figures(schema))
        self.fresh_schema(schema)
        return case

    def case_duckdb(self, attempt):
        """DuckDB on the local copy of the data set, into a fresh database file of its own."""
        if not self.node:
            raise CaseError("node is not on PATH (DuckDB runs in Node.js; run scripts/setup)")
        db = os.path.join(self.work, "duckdb", f"bench_{attempt}.duckdb")
        shutil.rmtree(os.path.dirname(db), ignore_errors=True)
        os.makedirs(os.path.dirname(db))
        base = [self.node, self.duckdb_script, "--sql", self.sql_src, "--db", db]
        run = self.checked(self.measure(f"duckdb_{attempt}", base + ["--data", self.data]), "DuckDB load")
        try:
            out = json.loads(run["stdout"])
            run["phases"] = [(name, float(secs)) for name, secs in out["phases"]]
            run["phases"].insert(0, ("start Node.js and DuckDB, exit (the rest of the wall time)",
                                     max(0.0, run["wall_s"] - sum(secs for _, secs in run["phases"]))))
            run["duckdb"] = {"threads": out["threads"], "version": out["version"],
                             "database_bytes": os.path.getsize(db)}
        except (ValueError, KeyError, TypeError) as e:
            raise CaseError(f"unexpected output of the DuckDB load ({e}): {run['stdout'][-300:]}")
        res = subprocess.run(base + ["--counts"], capture_output=True, text=True, timeout=self.timeout, env=self.env)
        if res.returncode != 0:
            raise CaseError(f"counting DuckDB's star tables failed: {res.stderr.strip()[-500:]}")
        try:
            counts = {k: int(n) for k, n in json.loads(res.stdout)["counts"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise CaseError(f"unexpected output of the DuckDB counts ({e}): {res.stdout[-300:]}")
        run["bytes"] = self.summary["bytes"]
        self.check_reference_figures(run, "DuckDB", counts)
        shutil.rmtree(os.path.dirname(db), ignore_errors=True)
        return run

    def loadstar_run(self, label, schema, songs, events, workers, star_tables=None, figures=None, accounts=None,
                     extra_argv=(), env=None, cross_dialect=False, inspect=None, footprint=False):
        """`loadstar run` into a fresh schema; star_tables: the tables to compare with the baseline's
        (None: all, False: none); figures: the row counts the star tables must have (default: the
        generator's, for the tables compared); accounts: what the run's summary must say it staged,
        {kind: {"files": n, "records": n, "staged": n, "rejected": n}} (default: the generator's,
        for the sources loaded); extra_argv, env: more arguments, another environment;
        cross_dialect: see check_star; inspect: called with the run before its schema is dropped;
        footprint: also record the WAL the run wrote (from just after the CHECKPOINT before it to
        its end), the star tables' size, and their row counts and matched plays."""
        self.fresh_schema(schema)
        lsn = self.wal_lsn(schema) if footprint else None
        argv = [self.loadstar, "run", "--schema", schema, "--workers", str(workers)] + list(extra_argv)
        if songs:
            argv += ["--songs", songs]
        if events:
            argv += ["--events", events]
        run = self.checked(self.measure(label, argv, env=env), f"loadstar run ({label})")
        if footprint:
            run["wal_bytes"] = self.wal_since(schema, lsn)
            run["star_bytes"] = self.star_size(schema)
            run["star_figures"] = self.star_figures(schema)
        self.read_loadstar_run(run, workers)
        if inspect:
            inspect(run)
        if star_tables is not False:
            self.check_star(run, schema, star_tables, figures, cross_dialect)
        elif figures is not None:
            self.check_figures(run, schema, self.star_digest(schema), figures)
        if accounts is None and star_tables is not False:
            accounts = {}
            if songs:
                accounts["song"] = {"files": self.summary["song_files"], "records": self.summary["songs"],
                                    "staged": self.summary["songs"], "rejected": 0}
            if events:
                accounts["event"] = {"files": self.summary["log_files"], "records": self.summary["events"],
                                     "staged": self.summary["events"], "rejected": 0}
        if accounts is not None:
            self.check_accounts(run, schema, accounts)
        self.fresh_schema(schema)
        return run

    @staticmethod
    def read_loadstar_run(run, workers):
        """Adds what a `loadstar run` case reports to its measurement: phases, the checks' seconds,
        peak RSS of the coordinator and of the busiest worker."""
        run["phases"] = loadstar_phases(run)
        run["checks_s"] = checks_seconds(run)
        run["coordinator_rss_mb"] = run["root_hwm_mb"]
        run["worker_rss_mb"] = max([p["hwm_mb"] for p in run["processes"] if " worker" in p["cmd"]], default=0)
        run["workers"] = workers
        return run

    def check_accounts(self, run, schema, expected):
        """Compares the per-source account of a run's summary with `expected`; records a failure
        on any difference."""
        got = parse_run_accounts(run["stdout"])
        run["accounts"] = got
        diff = [f"{kind} {key} {got.get(kind, {}).get(key)}, expected {n}" for kind, want in expected.items()
                for key, n in want.items() if got.get(kind, {}).get(key) != n]
        diff += [f"unexpected {kind} files" for kind in got if kind not in expected]
        if diff:
            run["accounts_check"] = "DIFFERS: " + ", ".join(diff)
            self.failures.append(f"schema {schema}: the run's account differs ({', '.join(diff)})")
        else:
            run["accounts_check"] = "as expected"

    def case_loadstar_file(self, workers):
        def fn(attempt):
            run = self.loadstar_run(f"loadstar_file_w{workers}_{attempt}", f"bench_file_w{workers}",
                                    f"file://{self.data}/song_data/", f"file://{self.data}/log_data/", workers,
                                    footprint=True)
            run["bytes"] = self.summary["bytes"]
            return run
        return fn

    def next_day(self):
        """The day after the data set, made by the generator: the last daily file of the same data
        set generated one day longer (its song files are the same bytes, its sessions come after
        the month's). Returns a directory holding the month's logs (hard links: the same bytes
        under URIs of its own, which the day is added to later), the day's file, a directory
        holding that day alone, and the day's size; made once, not timed."""
        if getattr(self, "_next_day", None):
            return self._next_day
        a = self.args
        longer = os.path.join(self.work, "longer")
        days = a.days + 1
        events = round(a.events * days / a.days)
        self.checked(self.measure("generate_longer", [self.loadstar, "generate", "--to", f"file://{longer}/",
                                                       "--songs", str(a.songs), "--events", str(events),
                                                       "--days", str(days)]), "generate one day more")
        logs = sorted(os.path.join(d, f) for d, _, files in os.walk(os.path.join(longer, "log_data"))
                      for f in files if f.endswith(".json"))
        day = logs[-1]
        month = os.path.join(self.work, "log_data_month")
        alone = os.path.join(self.work, "log_data_day_alone")
        for root in (month, alone):
            shutil.rmtree(root, ignore_errors=True)
        source = os.path.join(self.data, "log_data")
        for d, _, files in os.walk(source):
            for f in files:
                target = os.path.join(month, os.path.relpath(os.path.join(d, f), source))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.link(os.path.join(d, f), target)
        rel = os.path.relpath(day, os.path.join(longer, "log_data"))
        os.makedirs(os.path.dirname(os.path.join(alone, rel)), exist_ok=True)
        os.link(day, os.path.join(alone, rel))
        self._next_day = (month, (day, os.path.join(month, rel)), alone, os.path.getsize(day))
        return self._next_day

    def timed_rerun(self, label, schema, songs, events, workers):
        """`loadstar run` into `schema` as it is (not made fresh): the timed part of a two-step case."""
        argv = [self.loadstar, "run", "--schema", schema, "--workers", str(workers), "--songs", songs,
                "--events", events]
        return self.read_loadstar_run(self.checked(self.measure(label, argv), f"loadstar run ({label})"), workers)

    def case_increment(self, attempt):
        """A month loaded (not timed), then the next day added to its log folder and the same
        command run again: only that day is new. Its star tables must equal a single load of all
        the days."""
        month, (day, day_in_month), _, day_bytes = self.next_day()
        songs, events, w = f"file://{self.data}/song_data/", f"file://{month}/", FOOTPRINT_WORKERS
        schema, full = "bench_increment", "bench_increment_full"
        if os.path.exists(day_in_month):
            os.unlink(day_in_month)
        self.fresh_schema(schema)
        self.checked(self.measure(f"increment_month_{attempt}", [
            self.loadstar, "run", "--schema", schema, "--workers", str(w), "--songs", songs, "--events", events]),
            "loading the month")
        os.makedirs(os.path.dirname(day_in_month), exist_ok=True)
        os.link(day, day_in_month)
        try:
            run = self.timed_rerun(f"increment_{attempt}", schema, songs, events, w)
            run["bytes"] = day_bytes
            self.fresh_schema(full)
            self.checked(self.measure(f"increment_full_{attempt}", [
                self.loadstar, "run", "--schema", full, "--workers", str(w), "--songs", songs, "--events", events]),
                "loading all the days at once")
        finally:
            os.unlink(day_in_month)
        staged = parse_run_accounts(run["stdout"]).get("event", {})
        got, want = self.star_digest(schema), self.star_digest(full)
        diff = [t for t in want if got.get(t) != want.get(t)]
        if diff:
            run["star_check"] = "DIFFERS from a single load of all the days: " + ", ".join(diff)
            self.failures.append(f"schema {schema}: the incremental load differs from a single load ({', '.join(diff)})")
        else:
            run["star_check"] = "same as a single load of all the days"
        if staged.get("staged") not in (None, 0) and staged.get("files") != 1:
            run["star_check"] += f"; staged {staged.get('files')} event files, not 1"
            self.failures.append(f"schema {schema}: the incremental run staged {staged.get('files')} event files")
        run["star_rows"] = {t: v[0] for t, v in got.items()}
        self.fresh_schema(schema)
        self.fresh_schema(full)
        return run

    def case_day_alone(self, attempt):
        """The songs loaded (not timed), then a run over the same songs and the next day alone."""
        _, _, alone, day_bytes = self.next_day()
        songs, w = f"file://{self.data}/song_data/", FOOTPRINT_WORKERS
        schema = "bench_day_alone"
        self.fresh_schema(schema)
        self.checked(self.measure(f"day_alone_songs_{attempt}", [
            self.loadstar, "run", "--schema", schema, "--workers", str(w), "--songs", songs]), "loading the songs")
        run = self.timed_rerun(f"day_alone_{attempt}", schema, songs, f"file://{alone}/", w)
        run["bytes"] = day_bytes
        run["star_rows"] = {t: v[0] for t, v in self.star_digest(schema).items()}
        self.fresh_schema(schema)
        return run

    def case_loadstar_s3(self, attempt):
        b = self.args.bucket
        run = self.loadstar_run(f"loadstar_s3_w{self.args.s3_workers}_{attempt}", "bench_s3",
                                f"s3://{b}/song_data/", f"s3://{b}/log_data/", self.args.s3_workers)
        run["bytes"] = self.summary["bytes"]
        return run

    def s3_concurrency(self):
        # What loadstar keeps in flight: workers x task slots x transfers per task.
        return self.args.s3_workers * self.args.worker_concurrency * self.args.fetch_concurrency

    def case_s3_get_ceiling(self, attempt):
        song_root = os.path.join(self.data, "song_data")
        keys = sorted(os.path.relpath(os.path.join(d, f), self.data)
                      for d, _, files in os.walk(song_root) for f in files if f.endswith(".json"))
        config = os.path.join(self.work, "curl_songs.conf")
        endpoint = os.environ["AWS_ENDPOINT_URL_S3"].rstrip("/")
        with open(config, "w", encoding="utf-8") as f:
            # Credentials here rather than in argv, where `ps` would show them.
            f.write(f'user = "{os.environ["AWS_ACCESS_KEY_ID"]}:{os.environ["AWS_SECRET_ACCESS_KEY"]}"\n')
            for key in keys:
                f.write(f'url = "{endpoint}/{self.args.bucket}/{key}"\noutput = "/dev/null"\n')
        k = self.s3_concurrency()
        region = os.environ.get("AWS_REGION", "us-east-1")
        argv = ["curl", "--silent", "--show-error", "--parallel", "--parallel-immediate", "--parallel-max", str(k),
                "--aws-sigv4", f"aws:amz:{region}:s3",
                "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-w", "%{http_code}\\n", "-K", config]
        run = self.checked(self.measure(f"s3_get_ceiling_{attempt}", argv), "curl")
        ok = sum(1 for line in run["stdout"].splitlines() if line.strip() == "200")
        if ok != len(keys):
            raise CaseError(f"curl got {ok} of {len(keys)} song files with status 200 (see {run['err_path']})")
        run["files"] = len(keys)
        run["bytes"] = self.summary["song_bytes"]
        run["concurrency"] = k
        return run

    def case_s3_songs(self, attempt):
        run = self.loadstar_run(f"loadstar_s3_songs_{attempt}", "bench_s3_songs", f"s3://{self.args.bucket}/song_data/",
                                None, self.args.s3_workers, star_tables=["songs", "artists"])
        run["files"] = self.summary["song_files"]
        run["bytes"] = self.summary["song_bytes"]
        return run

    # -- Amazon Redshift, through the stand-in -------------------------------------------------

    def s3_request(self, label, method, path):
        """One signed request to the local S3 server with curl (the credentials in a config file,
        not in argv, where `ps` would show them); returns (HTTP status, body)."""
        config = os.path.join(self.work, f"curl_{label}.conf")
        body_path = os.path.join(self.logs, f"{label}.body")
        endpoint = os.environ["AWS_ENDPOINT_URL_S3"].rstrip("/")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f'user = "{os.environ["AWS_ACCESS_KEY_ID"]}:{os.environ["AWS_SECRET_ACCESS_KEY"]}"\n')
            f.write(f'url = "{endpoint}/{path}"\noutput = "{body_path}"\n')
        region = os.environ.get("AWS_REGION", "us-east-1")
        res = subprocess.run(["curl", "--silent", "--show-error", "-X", method, "--aws-sigv4", f"aws:amz:{region}:s3",
                              "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-w", "%{http_code}", "-K", config],
                             capture_output=True, text=True, timeout=60)
        if res.returncode != 0:
            raise CaseError(f"curl {method} /{path}: {res.stderr.strip()[-300:]}")
        body = read_text(body_path) or ""
        return int(res.stdout.strip() or 0), body

    def create_bucket(self, bucket):
        """Creates a bucket in the local S3 server (CreateBucket), as the tests' servers are given
        theirs; one that this server already holds is no error."""
        status, body = self.s3_request(f"create_bucket_{bucket}", "PUT", bucket)
        if status != 200 and "BucketAlreadyOwnedByYou" not in body and "BucketAlreadyExists" not in body:
            raise CaseError(f"creating the bucket {bucket}: HTTP {status} {body[-300:]}")

    def s3_keys(self, bucket, prefix):
        """The keys under a prefix (the first 1,000: enough to tell whether any is left)."""
        status, body = self.s3_request(f"list_{bucket}", "GET",
                                       f"{bucket}?list-type=2&prefix={urllib.parse.quote(prefix, safe='')}")
        if status != 200:
            raise CaseError(f"listing s3://{bucket}/{prefix}: HTTP {status} {body[-300:]}")
        return re.findall(r"<Key>([^<]*)</Key>", body)

    def start_standin(self, attempt):
        """Starts the Redshift stand-in in front of the bench's PostgreSQL; returns its process and
        the connection string loadstar is given."""
        pg = urllib.parse.urlsplit(self.args.pg_uri)
        database = pg.path.lstrip("/") or "postgres"
        out_path = os.path.join(self.logs, f"redshift_standin_{attempt}.out")
        err_path = os.path.join(self.logs, f"redshift_standin_{attempt}.err")
        argv = [self.args.standin_python, os.path.join(self.standin_src, "standin.py"), "--listen", "127.0.0.1:0",
                "--upstream", f"{pg.hostname}:{pg.port}", "--s3-endpoint", os.environ["AWS_ENDPOINT_URL_S3"],
                "--slices", str(self.args.redshift_slices)]
        with open(out_path, "wb") as out, open(err_path, "wb") as err, open(os.devnull, "rb") as stdin:
            proc = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=err, env=self.env, start_new_session=True)
        deadline = time.monotonic() + 20
        port = None
        while time.monotonic() < deadline and proc.poll() is None:
            m = re.search(r"^ready [\d.]+:(\d+)\n", read_text(out_path) or "", re.M)
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        if port is None:
            stop_group(proc)
            tail = "\n".join((read_text(err_path) or "").strip().splitlines()[-5:])
            raise CaseError(f"the Redshift stand-in did not start (log: {err_path}):\n{tail}")
        self.standin_pid = proc.pid
        conninfo = (f"host=127.0.0.1 port={port} dbname={database} user={pg.username or 'postgres'} "
                    "sslmode=disable")
        return proc, conninfo

    def stop_standin(self, proc):
        self.standin_pid = 0
        stop_group(proc)

    def case_redshift(self, attempt):
        a = self.args
        schema = "bench_redshift"
        if attempt == 0:
            self.create_bucket(a.staging_bucket)
        staging = f"s3://{a.staging_bucket}/{schema}/"
        # The stand-in, not PostgreSQL, is the warehouse here: no LOADSTAR_WAREHOUSE to fall back on.
        env = {k: v for k, v in self.env.items() if k != "LOADSTAR_WAREHOUSE"}
        standin, conninfo = self.start_standin(attempt)
        try:
            run = self.loadstar_run(
                f"loadstar_redshift_w{a.s3_workers}_{attempt}", schema, f"s3://{a.bucket}/song_data/",
                f"s3://{a.bucket}/log_data/", a.s3_workers, env=env, cross_dialect=True,
                extra_argv=["--dialect", "redshift", "--warehouse", conninfo, "--staging", staging,
                            "--iam-role", REDSHIFT_IAM_ROLE, "--region", os.environ.get("AWS_REGION", "us-east-1")])
        finally:
            self.stop_standin(standin)
        run["bytes"] = self.summary["bytes"]
        run["redshift"] = redshift_figures(run)
        run["phases"] = redshift_phases(run, run["redshift"])
        run["redshift"]["slices"] = a.redshift_slices
        summary_line = re.search(r"^\s*staged parts: (.*)$", run["stdout"], re.M)
        if not summary_line or summary_line.group(1).strip() != run["redshift"]["part_sizes"]:
            raise CaseError("the run summary's 'staged parts:' line differs from the coordinator's log line "
                            f"(see {run['err_path']})")
        left = self.s3_keys(a.staging_bucket, f"{schema}/")
        run["staging_left"] = len(left)
        if left:
            self.failures.append(f"schema {schema}: {len(left)} staging objects left under {staging} after the run, "
                                 f"e.g. {left[0]}")
        return run

    def case_parse(self, attempt):
        mb = max(self.summary["log_bytes"] / MB, 0.001)
        argv = [self.parser_bench, "--sample-dir", self.data, "--mb", f"{mb:.6f}", "--repeat", "3"]
        run = self.checked(self.measure(f"parse_{attempt}", argv), "record parser benchmark")
        m = re.search(r"best of \d+: ([\d.]+) s, (\d+) MB/s, ([\d.]+) M records/s", run["stdout"])
        body = re.search(r"body ([\d.]+) MB", run["stdout"])
        if not m or not body:
            raise CaseError(f"unexpected record parser benchmark output: {run['stdout'][-300:]}")
        run["parse_s"] = float(m.group(1))
        run["parse_mb_s"] = float(m.group(2))
        run["parse_mrec_s"] = float(m.group(3))
        run["bytes"] = float(body.group(1)) * MB
        run["process_wall_s"] = run["wall_s"]
        run["wall_s"] = run["parse_s"]          # the best pass, one core
        return run

    def case_scheduler(self, attempt):
        argv = [self.scheduler_bench, "--benchmark_format=json"]
        if self.args.smoke:
            argv += ["--benchmark_filter=BM_RunEndToEnd", "--benchmark_min_time=0.01"]
        run = self.checked(self.measure(f"scheduler_{attempt}", argv), "scheduler benchmark")
        try:
            benches = json.loads(run["stdout"])["benchmarks"]
        except (ValueError, KeyError) as e:
            raise CaseError(f"unexpected scheduler benchmark output ({e})")
        rates = {b["name"]: b["items_per_second"] for b in benches if "items_per_second" in b}
        per_task = {n: r for n, r in rates.items() if not n.startswith("BM_PackTasks")}
        if not per_task:
            raise CaseError("the scheduler benchmark reported no tasks/s")
        run["rates"] = rates
        run["tasks_per_s"] = min(per_task.values())
        run["tasks_per_s_bench"] = min(per_task, key=per_task.get)
        return run

    # -- memory cases -------------------------------------------------------------------------

    def case_big_file(self, attempt):
        """One worker, one log file of --big-file-mb: the worker's peak RSS."""
        big = os.path.join(self.work, "big")
        if attempt == 0 or not os.path.isdir(big):
            shutil.rmtree(big, ignore_errors=True)
            per_event = self.summary["log_bytes"] / max(1, self.summary["events"])
            events = max(10, int(self.args.big_file_mb * MB / per_event))
            # One day holds every event: enough users that none has more than the generator allows.
            users = max(1, events // 20)
            run = self.checked(self.measure("generate_big", [
                self.loadstar, "generate", "--to", f"file://{big}/", "--songs", "1", "--events", str(events),
                "--users", str(users), "--days", "1"], timeout=self.timeout * 2), "generate (big file)")
            self.big_summary = parse_summary(run["stdout"] + run["stderr"])
        b = self.big_summary
        run = self.loadstar_run(f"big_file_{attempt}", "bench_big_file", f"file://{big}/song_data/",
                                f"file://{big}/log_data/", 1, star_tables=False, figures=self.expected_star(b),
                                accounts={"song": {"files": b["song_files"], "records": b["songs"],
                                                   "staged": b["songs"], "rejected": 0},
                                          "event": {"files": b["log_files"], "records": b["events"],
                                                    "staged": b["events"], "rejected": 0}})
        if b["log_files"] != 1:
            raise CaseError(f"the big-file data set has {b['log_files']} log files, not one")
        run["bytes"] = self.big_summary["bytes"]
        run["log_file_mb"] = self.big_summary["log_bytes"] / MB
        return run

    def case_many_files(self, attempt):
        """1,000,000 (--many-files) files listed: the coordinator's peak RSS."""
        many = os.path.join(self.work, "many", "song_data")
        n = self.args.many_files
        if attempt == 0 or not os.path.isdir(many):
            shutil.rmtree(os.path.dirname(many), ignore_errors=True)
            sources = sorted(os.path.join(d, f) for d, _, files in os.walk(os.path.join(self.data, "song_data"))
                             for f in files if f.endswith(".json"))
            if not sources or n > len(sources) * 60_000:
                raise CaseError(f"{len(sources)} song files cannot back {n} hard links (ext4 allows 65,000 each)")
            self.note(f"linking {n} song files (hard links to the {len(sources)} generated ones)")
            letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            made_dirs = set()
            for i in range(n):
                d = os.path.join(many, letters[i % 26], letters[(i // 26) % 26], letters[(i // 676) % 26])
                if d not in made_dirs:
                    os.makedirs(d, exist_ok=True)
                    made_dirs.add(d)
                os.link(sources[i % len(sources)], os.path.join(d, f"TRBENCH{i:011d}.json"))
        # What loading the links must give, read from the song files they link to.
        sources = sorted(os.path.join(d, f) for d, _, files in os.walk(os.path.join(self.data, "song_data"))
                         for f in files if f.endswith(".json"))
        used = sources[:n]
        songs, artists, per_file = set(), set(), {}
        for path in used:
            records = read_json_objects(path)
            per_file[path] = len(records)
            songs.update(r["song_id"] for r in records)
            artists.update(r["artist_id"] for r in records)
        records = sum(per_file[sources[i % len(sources)]] for i in range(n))
        run = self.loadstar_run(f"many_files_{attempt}", "bench_many_files", f"file://{many}/", None,
                                self.args.s3_workers, star_tables=False,
                                figures={"songplays": 0, "users": 0, "songs": len(songs), "artists": len(artists),
                                         "time": 0},
                                accounts={"song": {"files": n, "records": records, "staged": records, "rejected": 0}})
        run["files"] = n
        run["bytes"] = n * os.path.getsize(next(
            os.path.join(d, f) for d, _, files in os.walk(many) for f in files))
        return run


def snapshot(path, directory):
    """A copy of an executable in `directory`; CaseError when there is none to copy."""
    if not os.access(path, os.X_OK):
        raise CaseError(f"{path} is missing: build it first")
    copy = os.path.join(directory, os.path.basename(path))
    shutil.copy2(path, copy)
    return copy


def first_existing(sql_root, names):
    for name in names:
        if os.path.exists(os.path.join(sql_root, name + ".sql")):
            return name
    raise CaseError(f"none of {', '.join(n + '.sql' for n in names)} in sql/")


def stop_group(proc):
    """Stops a process this harness started, and its process group: TERM, then KILL."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def ident(name):
    return '"' + name.replace('"', '""') + '"'


def literal(text):
    return "'" + text.replace("'", "''") + "'"


def combine(phases):
    """One case out of several timed steps run one after the other."""
    first = phases[0][1]
    case = {
        "wall_s": sum(p["wall_s"] for _, p in phases),
        "phases": [(name, p["wall_s"]) for name, p in phases],
        "cpu_s": {k: sum(p["cpu_s"][k] for _, p in phases) for k in first["cpu_s"]},
        "load_1m": first["load_1m"], "rc": 0,
        "root_hwm_mb": max(p["root_hwm_mb"] for _, p in phases),
        "child_hwm_mb": max(p["child_hwm_mb"] for _, p in phases),
    }
    return case


def parse_summary(text):
    """The generator's 'name: value' lines."""
    keys = {"files": "files", "bytes": "bytes", "song files": "song_files", "song bytes": "song_bytes",
            "log files": "log_files", "log bytes": "log_bytes", "events": "events",
            "NextSong events (songplays)": "next_song_events", "songs": "songs", "artists": "artists",
            "distinct users": "distinct_users", "distinct NextSong ts (time)": "time_rows",
            "matched plays": "matched_plays"}
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in keys and value.strip().isdigit():
            out[keys[name.strip()]] = int(value.strip())
    return out


RUN_ACCOUNT = re.compile(r"^\s+(song|event)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s*$")


def parse_run_accounts(text):
    """The per-source rows of `loadstar run`'s summary: {kind: {files, bytes, records, staged, rejected}}."""
    out = {}
    for line in text.splitlines():
        m = RUN_ACCOUNT.match(line)
        if m:
            values = [int(v.replace(",", "")) for v in m.groups()[1:]]
            out[m.group(1)] = dict(zip(("files", "bytes", "records", "staged", "rejected"), values))
    return out


def read_json_objects(path):
    """Every JSON object in a file, one after the other (a song file holds one or more)."""
    with open(path, "r", encoding="utf-8") as f:
        text = f.read()
    decoder, objects, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return objects
        obj, at = decoder.raw_decode(text, at)
        objects.append(obj)


def loadstar_phases(run):
    """Phases of a loadstar run from the coordinator's log lines (their timestamps)."""
    marks, steps = {}, []
    for line in run["stderr"].splitlines():
        m = LOG_LINE.match(line)
        if not m or m.group(3) != "coordinator":
            continue
        ts = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        msg = m.group(4)
        step = TRANSFORM_STEP.match(msg)
        if step:
            label = re.split(r"[:;.(]", step.group(2).strip())[0].strip()[:60]
            steps.append((f"  transform step: {label}", float(step.group(1))))
            continue
        for key, prefix in (("started", "starting run"), ("started", "resuming run"), ("listed", "listed "),
                            ("listening", "listening for workers"), ("worker_ready", "worker "),
                            ("transforming", "transforming:"), ("done", "done:")):
            if msg.startswith(prefix) and key not in marks:
                if key == "worker_ready" and " ready " not in msg:
                    continue
                marks[key] = ts
    end = run["start_wall"] + run["wall_s"]
    need = ("started", "listed", "listening", "transforming", "done")
    if any(k not in marks for k in need):
        return []
    phases = [
        ("connect + schema", marks["started"] - run["start_wall"]),
        ("list + plan", marks["listed"] - marks["started"]),
        ("stage (all tasks acknowledged)", marks["transforming"] - marks["listed"]),
        ("transform + counts", marks["done"] - marks["transforming"]),
        ("exit", end - marks["done"]),
    ]
    if "worker_ready" in marks:
        phases.insert(2, ("  of which until the first worker is ready", marks["worker_ready"] - marks["listening"]))
    at = [name for name, _ in phases].index("transform + counts") + 1
    phases[at:at] = steps
    return [(name, max(0.0, s)) for name, s in phases]


LISTED = re.compile(r"^listed (\d+) files \((\d+) bytes\): (\d+) to stage in (\d+) tasks")
STAGED_PARTS = re.compile(r"^staged parts: ((\d+) parts, ([\d.]+) MB compressed \(([\d.]+)x\), min ([\d.]+) MB, "
                          r"median ([\d.]+) MB, max ([\d.]+) MB; (\d+) under 1 MB, (\d+) over 1 GB), "
                          r"for (\d+) source files$")
LOAD_STEP = re.compile(r"^load: ([\d.]+) s\s+COPY (\S+) from (\d+) parts, (\d+) rows$")
CHECKS_STEP = "data-quality checks"


def coordinator_lines(run):
    """The coordinator's log lines of a run: [(unix time, message)]."""
    out = []
    for line in run["stderr"].splitlines():
        m = LOG_LINE.match(line)
        if m and m.group(3) == "coordinator":
            ts = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            out.append((ts, m.group(4)))
    return out


def checks_seconds(run):
    """Seconds the data-quality checks took, from the coordinator's 'transform: X s  data-quality
    checks (N)' line; None when there is none."""
    for _, msg in coordinator_lines(run):
        m = TRANSFORM_STEP.match(msg)
        if m and m.group(2).strip().startswith(CHECKS_STEP):
            return float(m.group(1))
    return None


def parse_figures(text):
    """'figure|n' lines (psql -A -t) as {figure: n}."""
    out = {}
    for line in text.splitlines():
        name, sep, n = line.rpartition("|")
        if sep and n.strip().isdigit():
            out[name] = int(n)
    return out


def redshift_figures(run):
    """What a Redshift load's coordinator log says it staged and loaded; CaseError when a line the
    report needs is missing (the log's wording changed: the report must follow)."""
    f = {"copies": [], "transform_steps": []}
    marks = {}
    for ts, msg in coordinator_lines(run):
        if m := LISTED.match(msg):
            f.update(listed_files=int(m.group(1)), listed_bytes=int(m.group(2)), files_to_stage=int(m.group(3)),
                     tasks=int(m.group(4)))
            marks["listed"] = ts
        elif m := STAGED_PARTS.match(msg):
            # Sizes in MB as the log gives them (two decimals).
            f.update(part_sizes=m.group(1), parts=int(m.group(2)), compressed_mb=float(m.group(3)),
                     compression_ratio=float(m.group(4)), part_min_mb=float(m.group(5)),
                     part_median_mb=float(m.group(6)), part_max_mb=float(m.group(7)),
                     parts_under_1mb=int(m.group(8)), parts_over_1gb=int(m.group(9)),
                     parts_source_files=int(m.group(10)))
            marks["staged"] = ts
        elif m := LOAD_STEP.match(msg):
            f["copies"].append({"table": m.group(2), "s": float(m.group(1)), "parts": int(m.group(3)),
                                "rows": int(m.group(4))})
        elif m := TRANSFORM_STEP.match(msg):
            label = m.group(2).strip()
            if label.startswith(CHECKS_STEP):
                f["checks_s"] = float(m.group(1))
                marks["checked"] = ts
            else:
                f["transform_steps"].append((re.split(r"[;(]|\.(?:\s|$)", label)[0].strip()[:60],
                                             float(m.group(1))))
        elif msg.startswith(("starting run", "resuming run")) and "started" not in marks:
            marks["started"] = ts
        elif msg.startswith("every task is staged"):
            marks["transforming"] = ts
        elif msg.startswith("removed ") and "staging objects" in msg:
            marks["removed"] = ts
    need = {"listed": "'listed N files ...'", "staged": "'staged parts: ...'", "started": "'starting run ...'",
            "transforming": "'every task is staged; transforming run ...'",
            "checked": "'transform: ... data-quality checks'",
            "removed": "'removed N staging objects ...'"}
    missing = [what for key, what in need.items() if key not in marks]
    if not f["copies"]:
        missing.append("'load: S s  COPY <table> from K parts, R rows'")
    if missing:
        raise CaseError(f"the coordinator's log has no {', '.join(missing)} line (see {run['err_path']})")
    f["marks"] = marks
    f["transform_s"] = sum(s for _, s in f["transform_steps"])
    f["copy_s"] = sum(c["s"] for c in f["copies"])
    f["objects_per_file"] = f["parts"] / f["listed_files"] if f["listed_files"] else None
    return f


def redshift_phases(run, f):
    """Phases of a Redshift load: from the coordinator's log lines' timestamps, and the seconds its
    COPY and transform lines report."""
    m = f["marks"]
    end = run["start_wall"] + run["wall_s"]
    in_transaction = m["checked"] - m["transforming"]
    rest = in_transaction - f["copy_s"] - f["transform_s"] - f["checks_s"]
    phases = [
        ("connect + schema", m["started"] - run["start_wall"]),
        ("list + plan", m["listed"] - m["started"]),
        ("stage: workers write gzip CSV parts to S3", m["staged"] - m["listed"]),
        ("check the accepted parts, write the manifests", m["transforming"] - m["staged"]),
    ]
    phases += [(f"COPY {c['table']} ({c['parts']} parts, {c['rows']:,} rows)", c["s"]) for c in f["copies"]]
    phases.append(("transform (MERGE and INSERT steps)", f["transform_s"]))
    phases += [(f"  of which: {label}", secs) for label, secs in f["transform_steps"]]
    phases += [
        ("data-quality checks", f["checks_s"]),
        ("rest of the transaction (LOCK, run state, between statements)", rest),
        ("finish + COMMIT + remove the staging parts", m["removed"] - m["checked"]),
        ("counts + exit", end - m["removed"]),
    ]
    return [(name, max(0.0, secs)) for name, secs in phases]


# ----------------------------------------------------------------------------------------------
# Report

def fmt(v, digits=2, suffix=""):
    return "—" if v is None else f"{v:.{digits}f}{suffix}"


class Report:
    def __init__(self, bench, started, load_start):
        self.b = bench
        self.started = started
        self.load_start = load_start
        self.by = {c["case"]: c for c in bench.cases}

    def wall(self, name):
        c = self.by.get(name)
        return c.get("wall_s") if c else None

    def rows(self):
        b = self.b
        base = self.wall(CASE_BASELINE)
        ceil = self.wall(CASE_CEILING)
        get_ceiling = self.wall(CASE_S3_GET)
        competent = self.wall(CASE_COMPETENT)
        rows = []
        for c in b.cases:
            name, wall = c["case"], c.get("wall_s")
            if name.startswith(CASE_REDSHIFT):
                continue  # its own table: its timings are the stand-in's
            to_base = to_ceil = to_competent = None
            rss = "—"
            if name.startswith((CASE_FILE, CASE_S3)) or name in (CASE_BASELINE, CASE_CEILING, CASE_COMPETENT,
                                                                 CASE_DUCKDB):
                to_competent = ratio(wall, competent)
            if name.startswith((CASE_FILE, CASE_S3)):
                to_base = ratio(wall, base)
                to_ceil = ratio(wall, ceil)
            elif name == CASE_CEILING:
                to_base = ratio(wall, base)
            elif name == CASE_S3_SONGS:
                to_ceil = ratio(wall, get_ceiling)
            elif name == CASE_BASELINE:
                to_base = 1.0 if wall else None
            if "coordinator_rss_mb" in c:
                rss = f"coord {c['coordinator_rss_mb']:.0f} / worker {c['worker_rss_mb']:.0f}"
            elif c.get("root_hwm_mb") and name not in (CASE_BASELINE, CASE_CEILING, CASE_COMPETENT):
                rss = f"{c['root_hwm_mb']:.0f}"
            mbs = c.get("parse_mb_s") or (c["bytes"] / MB / wall if wall and c.get("bytes") else None)
            extra = ""
            if "files" in c and wall:
                extra = f"{c['files'] / wall:,.0f} files/s"
            if "tasks_per_s" in c:
                extra = f"{c['tasks_per_s']:,.0f} tasks/s ({c['tasks_per_s_bench']})"
            if "parse_mrec_s" in c:
                extra = f"{c['parse_mrec_s']:.2f} M records/s, one core"
            if "duckdb" in c:
                extra = f"DuckDB {c['duckdb']['version']}, {c['duckdb']['threads']} threads"
            if name in (CASE_COMPETENT, CASE_DUCKDB) and wall:
                extra = "; ".join(x for x in (extra, self.vs_loadstar(c)) if x)
            if c.get("error"):
                extra = "FAILED: " + c["error"].splitlines()[0][:120]
            rows.append({"case": name, "wall_s": wall, "to_competent": to_competent, "to_baseline": to_base,
                         "to_ceiling": to_ceil, "rss_mb": rss, "mb_s": mbs, "note": extra,
                         "check": "; ".join(c[k] for k in ("star_check", "figures_check", "accounts_check") if c.get(k))})
        return rows

    def loadstar_figures(self):
        """The star figures of the loadstar run the reference rows are compared with: the file://
        run with FOOTPRINT_WORKERS workers, else the first file:// run that has them."""
        runs = [c for c in self.b.cases if c["case"].startswith(CASE_FILE) and c.get("star_figures")]
        runs.sort(key=lambda c: c["case"] != case_file(FOOTPRINT_WORKERS))
        return runs[0] if runs else None

    def vs_loadstar(self, c):
        """A reference row's star table row counts (and matched plays) against loadstar's, plainly."""
        mine, ref = c.get("star_figures"), self.loadstar_figures()
        if not mine:
            return ""
        if ref is None:
            return "row counts not compared with loadstar's: no loadstar file:// run has them"
        theirs = ref["star_figures"]
        diff = [f"{k} {mine.get(k, '—')} vs {theirs.get(k, '—')}" for k in dict.fromkeys(list(theirs) + list(mine))
                if mine.get(k) != theirs.get(k)]
        if diff:
            return f"row counts DIFFER from loadstar's ({ref['workers']} workers): " + ", ".join(diff)
        return f"row counts and matched plays same as loadstar's ({ref['workers']} workers)"

    def counts_markdown(self):
        """The reference rows' star table row counts next to loadstar's and the generator's."""
        refs = [c for c in (self.by.get(CASE_COMPETENT), self.by.get(CASE_DUCKDB)) if c and c.get("star_figures")]
        if not refs:
            return []
        ls = self.loadstar_figures()
        expected = self.b.expected_figures() if self.b.summary else {}
        cols = ([f"loadstar file://, {ls['workers']} workers"] if ls else []) + [c["case"] for c in refs] + ["generator"]
        lines = ["", "## Star tables of the reference rows: row counts", "",
                 "Their tables are not loadstar's (no lineage; where records share a key, DISTINCT ON keeps any "
                 "one), so only their row counts are compared.", "",
                 "| figure | " + " | ".join(cols) + " |", "| --- |" + " ---: |" * len(cols)]
        for k in list(STAR_TABLES) + ["matched plays"]:
            values = ([ls["star_figures"].get(k)] if ls else []) + [c["star_figures"].get(k) for c in refs]
            values.append(expected.get(k))
            lines.append(f"| {k} | " + " | ".join("—" if v is None else f"{v:,}" for v in values) + " |")
        return lines

    def footprint_markdown(self):
        """WAL written and the star tables' size, per run that recorded them."""
        runs = [c for c in self.b.cases if c.get("wal_bytes") is not None and c.get("star_bytes")]
        if not runs:
            return []
        lines = ["", "## WAL written and star tables' size", "",
                 "WAL: pg_wal_lsn_diff of pg_current_wal_lsn() from just after the CHECKPOINT before the case to "
                 "its end (anything else the server wrote meanwhile included). Star size: pg_total_relation_size "
                 "summed over the five star tables after the case (heap with TOAST, and indexes).", "",
                 "| case | WAL MB | star tables MB | of which heap | of which indexes | WAL / star size |",
                 "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for c in runs:
            st = c["star_bytes"]
            lines.append(f"| {c['case']} | {c['wal_bytes'] / MB:,.1f} | {st['total'] / MB:,.1f} | "
                         f"{st['heap'] / MB:,.1f} | {st['indexes'] / MB:,.1f} | "
                         f"{fmt(ratio(c['wal_bytes'], st['total']))} |")
        return lines

    def targets(self):
        w4 = self.by.get(case_file(4))
        file_cases = [c for c in self.b.cases if c["case"].startswith(CASE_FILE) and c.get("wall_s")]
        best = min(file_cases, key=lambda c: c["wall_s"]) if file_cases else None
        base, ceil = self.wall(CASE_BASELINE), self.wall(CASE_CEILING)
        out = []

        def add(name, value, goal, ok, how, status=None):
            out.append({"target": name, "measured": value, "goal": goal,
                        "status": status or ("not measured" if ok is None else ("met" if ok else "MISSED")),
                        "how": how})

        def e2e(label, factor, ref, ref_name):
            if not (w4 and w4.get("wall_s") and ref):
                add(label, "—", f"≤ {factor} ×", None, "")
                return
            r = w4["wall_s"] / ref
            note = f"4 workers {w4['wall_s']:.1f} s vs {ref_name} {ref:.1f} s"
            if best and best is not w4:
                note += f"; best {best['case']} {best['wall_s']:.1f} s = {best['wall_s'] / ref:.2f} ×"
            add(label, f"{r:.2f} ×", f"≤ {factor} ×", r <= factor, note)

        e2e("loadstar file:// vs PostgreSQL-only baseline", TARGET_BASELINE_RATIO, base, "baseline")
        e2e("loadstar file:// vs typed COPY + transforms", TARGET_CEILING_RATIO, ceil, "ceiling")
        fp = self.by.get(case_file(FOOTPRINT_WORKERS))
        fp = fp if fp and fp.get("wall_s") else None
        fp_name = f"loadstar file://, {FOOTPRINT_WORKERS} workers"
        competent = self.wall(CASE_COMPETENT)
        label = f"{fp_name}, vs competent PostgreSQL"
        if fp and competent:
            r = fp["wall_s"] / competent
            note = f"{fp['wall_s']:.1f} s vs {competent:.1f} s (sql/bench/competent_*.sql)"
            duck = self.wall(CASE_DUCKDB)
            if duck:
                note += f"; vs DuckDB {duck:.1f} s: {fp['wall_s'] / duck:.2f} ×"
            add(label, f"{r:.2f} ×", f"≤ {TARGET_COMPETENT_RATIO} ×", r <= TARGET_COMPETENT_RATIO, note)
        else:
            add(label, "—", f"≤ {TARGET_COMPETENT_RATIO} ×", None, "")
        label = f"WAL written by {fp_name}, vs the star tables' size"
        if fp and fp.get("wal_bytes") is not None and fp.get("star_bytes", {}).get("total"):
            r = fp["wal_bytes"] / fp["star_bytes"]["total"]
            note = (f"WAL {fp['wal_bytes'] / MB:,.1f} MB; star tables {fp['star_bytes']['total'] / MB:,.1f} MB "
                    f"(heap {fp['star_bytes']['heap'] / MB:,.1f}, indexes {fp['star_bytes']['indexes'] / MB:,.1f})")
            cp = self.by.get(CASE_COMPETENT)
            if cp and cp.get("wal_bytes") is not None and cp.get("star_bytes", {}).get("total"):
                note += (f"; competent PostgreSQL: WAL {cp['wal_bytes'] / MB:,.1f} MB, star tables "
                         f"{cp['star_bytes']['total'] / MB:,.1f} MB")
            add(label, f"{r:.2f} ×", f"≤ {TARGET_WAL_RATIO:g} ×", r <= TARGET_WAL_RATIO, note)
        else:
            add(label, "—", f"≤ {TARGET_WAL_RATIO:g} ×", None, "")
        label = f"data-quality checks' share of {fp_name}"
        if fp and fp.get("checks_s") is not None:
            share = fp["checks_s"] / fp["wall_s"]
            add(label, f"{share:.1%}", f"≤ {TARGET_CHECKS_SHARE:.0%}", share <= TARGET_CHECKS_SHARE,
                f"{fp['checks_s']:.2f} s of {fp['wall_s']:.2f} s (the coordinator's 'transform: X s  "
                "data-quality checks (N)' line)")
        else:
            add(label, "—", f"≤ {TARGET_CHECKS_SHARE:.0%}", None,
                "no 'transform: X s  data-quality checks' line in the coordinator's log" if fp else "")
        inc, alone = self.by.get(CASE_INCREMENT), self.by.get(CASE_DAY_ALONE)
        label = "one more day into a loaded month vs that day alone (songs loaded in both)"
        if inc and alone and inc.get("wall_s") and alone.get("wall_s"):
            r = inc["wall_s"] / alone["wall_s"]
            add(label, f"{r:.2f} ×", f"≤ {TARGET_INCREMENT_RATIO:g} ×", r <= TARGET_INCREMENT_RATIO,
                f"{inc['wall_s']:.2f} s vs {alone['wall_s']:.2f} s, {FOOTPRINT_WORKERS} workers; "
                f"{inc.get('star_check', '')}")
        else:
            add(label, "—", f"≤ {TARGET_INCREMENT_RATIO:g} ×", None, "")
        for c in file_cases:
            transform = dict(c.get("phases") or []).get("transform + counts")
            if transform is None:
                continue
            add(f"transform's share of {c['case'].replace(CASE_FILE, 'loadstar file://')}",
                f"{transform / c['wall_s']:.0%}", "—", None,
                f"{transform:.2f} s of {c['wall_s']:.2f} s (coordinator log: 'transforming:' to 'done:', the "
                "data-quality checks and the counts included)", status="figure only")
        songs, get = self.by.get(CASE_S3_SONGS), self.by.get(CASE_S3_GET)
        if songs and get and songs.get("wall_s") and get.get("wall_s"):
            share = get["wall_s"] / songs["wall_s"]
            stage = dict(songs.get("phases") or []).get("stage (all tasks acknowledged)")
            note = (f"{songs['files'] / songs['wall_s']:,.0f} files/s end to end vs curl "
                    f"{get['files'] / get['wall_s']:,.0f} files/s at {get['concurrency']} in flight")
            if stage:
                note += f"; staging phase alone {songs['files'] / stage:,.0f} files/s = {get['wall_s'] / stage:.0%}"
            add("one-song files through S3 vs the server's GET ceiling", f"{share:.0%}",
                f"≥ {TARGET_S3_SHARE:.0%}", share >= TARGET_S3_SHARE, note)
        else:
            add("one-song files through S3 vs the server's GET ceiling", "—", f"≥ {TARGET_S3_SHARE:.0%}", None, "")
        big = self.by.get(CASE_BIG)
        if big and big.get("wall_s"):
            add(f"worker peak RSS, one {big['log_file_mb']:,.0f} MB log file", f"{big['worker_rss_mb']:,.0f} MB",
                f"≤ {TARGET_RSS_MB} MB", big["worker_rss_mb"] <= TARGET_RSS_MB,
                "the 2 GB case needs --memory-cases at full scale" if self.b.args.smoke else "")
        else:
            add("worker peak RSS, one 2 GB log file", "—", f"≤ {TARGET_RSS_MB} MB", None, "run with --memory-cases")
        many = self.by.get(CASE_MANY)
        if many and many.get("wall_s"):
            add(f"coordinator peak RSS, {many['files']:,} files listed", f"{many['coordinator_rss_mb']:,.0f} MB",
                f"≤ {TARGET_RSS_MB} MB", many["coordinator_rss_mb"] <= TARGET_RSS_MB, "")
        else:
            add("coordinator peak RSS, 1,000,000 files listed", "—", f"≤ {TARGET_RSS_MB} MB", None,
                "run with --memory-cases")
        sched = self.by.get(CASE_SCHEDULER)
        if sched and sched.get("tasks_per_s"):
            add("coordinator scheduler alone", f"{sched['tasks_per_s']:,.0f} tasks/s", f"≥ {TARGET_TASKS_PER_S:,}",
                sched["tasks_per_s"] >= TARGET_TASKS_PER_S, f"slowest benchmark: {sched['tasks_per_s_bench']}")
        else:
            add("coordinator scheduler alone", "—", f"≥ {TARGET_TASKS_PER_S:,}", None, "")
        return out

    def redshift_rows(self):
        """The Redshift case's figures, as (figure, value) rows; None when it did not run."""
        c = next((c for c in self.b.cases if c["case"].startswith(CASE_REDSHIFT)), None)
        if c is None:
            return None
        if c.get("wall_s") is None:
            why = (c.get("error") or "no figure").strip().splitlines()
            return [("wall time", "FAILED: " + " … ".join(dict.fromkeys([why[0][:200], why[-1][:300]])))]
        f, a = c["redshift"], self.b.args
        rows = [("wall time", f"{c['wall_s']:.2f} s"),
                ("sources, staging", f"s3://{a.bucket}/song_data/ and log_data/; parts under "
                                     f"s3://{a.staging_bucket}/bench_redshift/ (same S3 server), {f['slices']} slices")]
        # The transform's own steps are in latest.json (cases[].phases).
        rows += [(f"phase: {name}", f"{secs:.2f} s") for name, secs in c.get("phases") or []
                 if not name.startswith(" ")]
        rows += [
            ("files listed / to stage / tasks", f"{f['listed_files']:,} / {f['files_to_stage']:,} / {f['tasks']:,}"),
            ("parts written", f"{f['parts']:,}"),
            ("compressed bytes", f"{f['compressed_mb']:,.2f} MB (the log's figure, to 0.01 MB)"),
            ("compression ratio", f"{f['compression_ratio']:.1f} × (CSV bytes over gzip bytes)"),
            ("part sizes", f["part_sizes"]),
            ("objects Redshift reads vs source files",
             f"{f['parts']:,} parts for {f['listed_files']:,} listed files = {fmt(f['objects_per_file'], 3)} per file "
             f"(+ {len(f['copies'])} manifests, one per COPY)"),
            ("COPY rows", ", ".join(f"{x['table']} {x['rows']:,}" for x in f["copies"])),
            ("CPU s: loadstar / PostgreSQL / stand-in / S3 server",
             f"{c['cpu_s']['case_processes']:.1f} / {c['cpu_s']['postgres']:.1f} / "
             f"{c['cpu_s']['redshift_standin']:.1f} / {c['cpu_s']['s3_server']:.1f}"),
            ("star tables", "; ".join(c[k] for k in ("star_check", "figures_check") if c.get(k))),
            ("the run's account", c.get("accounts_check", "—")),
            ("staging objects left after the run", f"{c.get('staging_left', '—')}"),
        ]
        return rows

    def redshift_markdown(self):
        rows = self.redshift_rows()
        if rows is None:
            return []
        lines = ["", f"## {CASE_REDSHIFT}, {self.b.args.s3_workers} workers: the stand-in's timings "
                 "(a Python proxy in front of PostgreSQL), not Redshift's", "",
                 "The stand-in (tests/tools/redshift_standin, docs/REDSHIFT_STANDIN.md) reads each COPY's parts "
                 "from S3 one after the other in Python and loads them into this bench's PostgreSQL; the "
                 "transform's MERGE runs on PostgreSQL. The figures of loadstar's own work (listing, staging, "
                 "parts, bytes) are loadstar's; the COPY, transform and commit times say nothing about a "
                 "Redshift cluster.", "", "| figure | value |", "| --- | --- |"]
        lines += [f"| {name} | {value} |" for name, value in rows]
        return lines

    def markdown(self):
        b, a = self.b, self.b.args
        s = b.summary
        lines = [
            "# loadstar benchmark" + (" (smoke: tiny data, figures mean nothing)" if a.smoke else ""),
            "",
            f"- when: {self.started} UTC; commit {b.commit} (at the start); build/loadstar built {b.binary_built} UTC",
            f"- machine: {os.cpu_count()} cores, load average (1 min) {self.load_start:.2f} at the start, "
            f"{os.getloadavg()[0]:.2f} at the end; other processes' CPU is in the CPU table",
            f"- data: {s.get('song_files', 0):,} song files ({s.get('song_bytes', 0) / MB:,.1f} MB), "
            f"{s.get('events', 0):,} events in {s.get('log_files', 0)} daily files "
            f"({s.get('log_bytes', 0) / MB:,.1f} MB); generated in {s.get('generate_file_s', 0):.1f} s to "
            f"file://, {s.get('generate_s3_s', 0):.1f} s to S3",
            f"- each case best of {a.repeat}; ratios are wall time over the reference's wall time "
            "(lower is better)",
            "- the baseline and the ceiling run loadstar's transform SQL (" +
            " + ".join(f"sql/{n}.sql" for n in b.transform_sql) + ") in one transaction, with loadstar's "
            f"session settings (sql/{b.session_sql}.sql); loadstar's own transform phase may do more (its "
            "data-quality checks): see the phases. They get faster or slower with loadstar's SQL",
            "- the two reference rows run none of loadstar's SQL: PostgreSQL alone as a competent engineer would "
            "write it (sql/bench/competent_*.sql: raw lines into UNLOGGED tables, typed by CREATE UNLOGGED TABLE "
            "AS with jsonb_to_record, the star tables by CREATE TABLE AS ... SELECT DISTINCT ON, no keys, no "
            "upserts; the column \"vs competent PostgreSQL\") and DuckDB (bench/duckdb_load.mjs: read_json of "
            "the local files into a fresh database file, the same DISTINCT ON SQL, sql/bench/duckdb_*.sql; "
            "Node.js start-up and the close included)",
        ] + [f"- WARNING: {w}" for w in b.warnings] + [
            "",
            "| case | wall s | vs competent PostgreSQL | ratio to baseline | ratio to ceiling | peak RSS MB | MB/s "
            "| notes |",
            "| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |",
        ]
        for r in self.rows():
            note = "; ".join(x for x in (r["note"], r["check"]) if x)
            lines.append(f"| {r['case']} | {fmt(r['wall_s'])} | {fmt(r['to_competent'])} | {fmt(r['to_baseline'])} "
                         f"| {fmt(r['to_ceiling'])} | {r['rss_mb']} | {fmt(r['mb_s'], 1)} | {note} |")
        lines += ["", "vs competent PostgreSQL: wall time over the wall time of PostgreSQL alone, as a competent "
                  "engineer would write it. Ratio to ceiling: loadstar end to end over typed COPY + transforms; the "
                  "S3 songs-only run over curl's GETs of the same files.", "", "## Targets", "",
                  "| target | measured | goal | status | how |", "| --- | ---: | ---: | --- | --- |"]
        for t in self.targets():
            lines.append(f"| {t['target']} | {t['measured']} | {t['goal']} | {t['status']} | {t['how']} |")
        lines += self.counts_markdown()
        lines += self.footprint_markdown()
        lines += self.redshift_markdown()
        lines += ["", "## Phases (s)", "", "| case | phase | s |", "| --- | --- | ---: |"]
        for c in b.cases:
            if c["case"].startswith(CASE_REDSHIFT):
                continue  # in its own table
            for name, secs in c.get("phases") or []:
                lines.append(f"| {c['case']} | {name} | {secs:.2f} |")
        lines += ["", "## CPU seconds during each case", "",
                  "`case` is the processes the case started (loadstar: coordinator + workers; psql; curl), "
                  "`other` is everything else the machine ran meanwhile (noise).", "",
                  "| case | wall s | case | of which coordinator | PostgreSQL | S3 server | Redshift stand-in | other "
                  "| machine busy |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for c in b.cases:
            cpu, wall = c.get("cpu_s"), c.get("process_wall_s", c.get("wall_s"))
            if not cpu or not wall:
                continue
            coord = fmt(cpu["root_process"], 1) if "coordinator_rss_mb" in c else "—"
            busy = cpu["machine"] / (wall * (os.cpu_count() or 1))
            standin = fmt(cpu["redshift_standin"], 1) if c["case"].startswith(CASE_REDSHIFT) else "—"
            lines.append(f"| {c['case']} | {wall:.2f} | {cpu['case_processes']:.1f} | {coord} | {cpu['postgres']:.1f} "
                         f"| {cpu['s3_server']:.1f} | {standin} | {cpu['other']:.1f} | {busy:.0%} |")
        if b.failures:
            lines += ["", "## Failures", ""] + [f"- {f}" for f in b.failures]
        return "\n".join(lines) + "\n"

    def json(self):
        keep = ("case", "wall_s", "walls_s", "phases", "cpu_s", "load_1m", "bytes", "files", "workers",
                "coordinator_rss_mb", "worker_rss_mb", "root_hwm_mb", "child_hwm_mb", "star_rows", "star_check",
                "figures_check", "accounts", "accounts_check", "parse_mb_s", "parse_mrec_s", "process_wall_s", "tasks_per_s", "tasks_per_s_bench", "rates", "concurrency",
                "log_file_mb", "error", "processes", "redshift", "staging_left", "star_figures", "wal_bytes",
                "star_bytes", "checks_s", "duckdb")
        return {
            "started_utc": self.started, "commit": self.b.commit, "binary_built_utc": self.b.binary_built, "cores": os.cpu_count(),
            "warnings": self.b.warnings, "transform_sql": self.b.transform_sql, "session_sql": self.b.session_sql,
            "load_1m_start": self.load_start, "load_1m_end": os.getloadavg()[0],
            "config": {k: v for k, v in vars(self.b.args).items() if k not in ("pg_uri",)},
            "data": self.b.summary,
            "cases": [{k: c[k] for k in keep if k in c} for c in self.b.cases],
            "table": self.rows(), "targets": self.targets(), "failures": self.b.failures,
            "redshift_table": [{"figure": n, "value": v} for n, v in self.redshift_rows() or []],
        }


def ratio(a, b):
    return a / b if a and b else None


def git_head(root):
    """The commit checked out, and whether the tree differs from it (read-only git commands)."""
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
        dirty = subprocess.run(["git", "-C", root, "diff-index", "--quiet", "HEAD", "--"], capture_output=True,
                               timeout=10).returncode != 0
        return head + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


CASE_BASELINE = "PostgreSQL-only baseline (raw COPY + jsonb_to_record + transforms)"
CASE_CEILING = "ceiling: typed COPY + transforms"
CASE_COMPETENT = "PostgreSQL alone, as a competent engineer would write it"
CASE_DUCKDB = "DuckDB: read_json + DISTINCT ON, file://"
CASE_INCREMENT = "loadstar file://, one more day into the loaded month"
CASE_DAY_ALONE = "loadstar file://, that day alone (songs loaded before)"
CASE_S3 = "loadstar s3:// end to end"
CASE_S3_GET = "ceiling: S3 server GETs of the song files (curl)"
CASE_S3_SONGS = "loadstar s3:// songs only"
CASE_PARSE = "record parser alone (same log bytes)"
CASE_SCHEDULER = "coordinator scheduler alone (scheduler_bench)"
CASE_BIG = "loadstar memory: one big log file, 1 worker"
CASE_MANY = "loadstar memory: many files listed"


CASE_FILE = "loadstar file:// end to end"
CASE_REDSHIFT = "loadstar → Redshift stand-in, S3 staging"


def case_file(workers):
    return f"{CASE_FILE}, {workers} worker{'s' if workers > 1 else ''}"


def main():
    p = argparse.ArgumentParser(description="bench/run's case runner; use bench/run")
    p.add_argument("--root", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--pg-uri", required=True)
    p.add_argument("--pg-dir", required=True)
    p.add_argument("--s3-pid", type=int, default=0)
    p.add_argument("--bucket", default="sparkify")
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--songs", type=int, required=True)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--workers", default="1,2,4")
    p.add_argument("--s3-workers", type=int, default=4)
    p.add_argument("--worker-concurrency", type=int, default=2)
    p.add_argument("--fetch-concurrency", type=int, default=16)
    p.add_argument("--staging-bucket", default="loadstar-staging")
    p.add_argument("--redshift-slices", type=int, default=2)
    p.add_argument("--standin-python", default="/usr/bin/python3")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--memory-cases", action="store_true")
    p.add_argument("--big-file-mb", type=float, default=2000)
    p.add_argument("--many-files", type=int, default=1_000_000)
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--results", required=True)
    p.add_argument("--tools-dir", default="", help="where scripts/setup installed the Node packages (.tools)")
    p.add_argument("--timeout", type=float, default=1800)
    args = p.parse_args()
    args.repeat = max(1, args.repeat)

    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    load_start = os.getloadavg()[0]
    try:
        bench = Bench(args)
    except CaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    os.makedirs(args.results, exist_ok=True)

    def save():
        report = Report(bench, started, load_start)
        md = report.markdown()
        with open(os.path.join(args.results, "latest.md"), "w", encoding="utf-8") as f:
            f.write(md)
        with open(os.path.join(args.results, "latest.json"), "w", encoding="utf-8") as f:
            json.dump(report.json(), f, indent=1, default=str)
            f.write("\n")
        return md

    bench.on_case = save
    try:
        bench.generate()
    except CaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    try:
        bench.note("typing the rows once with SQL for the typed-COPY ceiling (not timed)")
        bench.prepare_typed_rows()
    except CaseError as e:
        bench.failures.append(f"preparing the typed rows: {e}")
    bench.run_case(CASE_BASELINE, bench.case_baseline)
    bench.run_case(CASE_CEILING, bench.case_ceiling)
    bench.run_case(CASE_COMPETENT, bench.case_competent)
    bench.run_case(CASE_DUCKDB, bench.case_duckdb)
    for w in [int(x) for x in args.workers.split(",") if x.strip()]:
        bench.run_case(case_file(w), bench.case_loadstar_file(w))
    bench.run_case(CASE_INCREMENT, bench.case_increment)
    bench.run_case(CASE_DAY_ALONE, bench.case_day_alone)
    bench.run_case(f"{CASE_S3}, {args.s3_workers} workers", bench.case_loadstar_s3)
    bench.run_case(CASE_S3_GET, bench.case_s3_get_ceiling)
    bench.run_case(CASE_S3_SONGS, bench.case_s3_songs)
    bench.run_case(f"{CASE_REDSHIFT}, {args.s3_workers} workers", bench.case_redshift)
    bench.run_case(CASE_PARSE, bench.case_parse)
    bench.run_case(CASE_SCHEDULER, bench.case_scheduler)
    if args.memory_cases:
        bench.run_case(CASE_BIG, bench.case_big_file)
        bench.run_case(CASE_MANY, bench.case_many_files)

    print(save())

    missing = [c["case"] for c in bench.cases if c.get("wall_s") is None]
    if args.smoke and not missing and not bench.failures:
        print(f"smoke: {len(bench.cases)} cases, every one produced a number")
    if missing or bench.failures:
        print("failed: " + "; ".join(bench.failures or missing), file=sys.stderr)
        return 1
    return 0


def on_term(signum, _frame):
    # bench/run sends TERM when it is interrupted: unwind, so that running cases stop their processes.
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
