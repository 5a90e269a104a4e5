#!/usr/bin/python3
"""The Redshift stand-in (tests/tools/redshift_standin) against a private PostgreSQL 15 and the
local S3 server, driven through libpq: PQexec for the simple query protocol, PQexecParams for the
extended one (libpq is loaded with ctypes, so this is the same client library loadstar uses), and
psql for TLS.

Environment: LOADSTAR_SOURCE_DIR (the checkout; default: two levels up), LOADSTAR_S3RVER (else
.tools/node_modules/.bin/s3rver), PG_BINDIR (else /usr/lib/postgresql/15/bin).
"""

import ctypes
import gzip
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SOURCE_DIR = os.environ.get("LOADSTAR_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
STANDIN_DIR = os.path.join(SOURCE_DIR, "tests", "tools", "redshift_standin")
PG_BINDIR = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
S3RVER = os.environ.get("LOADSTAR_S3RVER") or os.path.join(SOURCE_DIR, ".tools", "node_modules", ".bin", "s3rver")
BUCKET = "warehouse"
ROLE = "arn:aws:iam::123456789012:role/loadstar-copy"
REDSHIFT_VERSION = "PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 Redshift 1.0.77467"

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, STANDIN_DIR)
import s3client  # noqa: E402  (the stand-in's signer; s3rver does not verify signatures anyway)


# --- libpq through ctypes -------------------------------------------------------------------

_pq = ctypes.CDLL("libpq.so.5")
_pq.PQconnectdb.restype = ctypes.c_void_p
_pq.PQconnectdb.argtypes = [ctypes.c_char_p]
_pq.PQstatus.argtypes = [ctypes.c_void_p]
_pq.PQerrorMessage.restype = ctypes.c_char_p
_pq.PQerrorMessage.argtypes = [ctypes.c_void_p]
_pq.PQfinish.argtypes = [ctypes.c_void_p]
_pq.PQexec.restype = ctypes.c_void_p
_pq.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_pq.PQexecParams.restype = ctypes.c_void_p
_pq.PQexecParams.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p,
                             ctypes.POINTER(ctypes.c_char_p), ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_pq.PQresultStatus.argtypes = [ctypes.c_void_p]
_pq.PQntuples.argtypes = [ctypes.c_void_p]
_pq.PQnfields.argtypes = [ctypes.c_void_p]
_pq.PQgetvalue.restype = ctypes.c_char_p
_pq.PQgetvalue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_pq.PQgetisnull.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_pq.PQresultErrorField.restype = ctypes.c_char_p
_pq.PQresultErrorField.argtypes = [ctypes.c_void_p, ctypes.c_int]
_pq.PQcmdStatus.restype = ctypes.c_char_p
_pq.PQcmdStatus.argtypes = [ctypes.c_void_p]
_pq.PQclear.argtypes = [ctypes.c_void_p]
_pq.PQtransactionStatus.argtypes = [ctypes.c_void_p]
_pq.PQparameterStatus.restype = ctypes.c_char_p
_pq.PQparameterStatus.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_pq.PQserverVersion.argtypes = [ctypes.c_void_p]
_pq.PQsslInUse.argtypes = [ctypes.c_void_p]
_NOTICE_RECEIVER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_pq.PQsetNoticeReceiver.argtypes = [ctypes.c_void_p, _NOTICE_RECEIVER, ctypes.c_void_p]
_pq.PQsetNoticeReceiver.restype = ctypes.c_void_p

PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_FATAL_ERROR = 1, 2, 7
PQTRANS_IDLE, PQTRANS_INTRANS, PQTRANS_INERROR = 0, 2, 3


class Result:
    def __init__(self, res):
        self.status = _pq.PQresultStatus(res)
        self.ok = self.status in (PGRES_COMMAND_OK, PGRES_TUPLES_OK)
        self.sqlstate = (_pq.PQresultErrorField(res, ord("C")) or b"").decode()
        self.message = (_pq.PQresultErrorField(res, ord("M")) or b"").decode()
        self.detail = (_pq.PQresultErrorField(res, ord("D")) or b"").decode()
        self.context = (_pq.PQresultErrorField(res, ord("W")) or b"").decode()
        self.position = (_pq.PQresultErrorField(res, ord("P")) or b"").decode()
        self.tag = (_pq.PQcmdStatus(res) or b"").decode()
        self.rows = [[None if _pq.PQgetisnull(res, r, c) else _pq.PQgetvalue(res, r, c).decode()
                      for c in range(_pq.PQnfields(res))] for r in range(_pq.PQntuples(res))]

    def __repr__(self):
        return "Result(ok=%s, sqlstate=%s, message=%r, tag=%r, rows=%r)" % (
            self.ok, self.sqlstate, self.message, self.tag, self.rows[:5])


class Conn:
    def __init__(self, conninfo):
        self.conn = _pq.PQconnectdb(conninfo.encode())
        if _pq.PQstatus(self.conn) != 0:
            msg = _pq.PQerrorMessage(self.conn).decode()
            _pq.PQfinish(self.conn)
            raise RuntimeError("cannot connect (%s): %s" % (conninfo, msg))
        self.notices = []

        def receive(_arg, res):
            self.notices.append((_pq.PQresultErrorField(res, ord("M")) or b"").decode())
        self._receiver = _NOTICE_RECEIVER(receive)
        _pq.PQsetNoticeReceiver(self.conn, self._receiver, None)

    def exec(self, sql):
        """The simple query protocol (PQexec)."""
        res = _pq.PQexec(self.conn, sql.encode())
        try:
            return Result(res)
        finally:
            _pq.PQclear(res)

    def params(self, sql, *values):
        """The extended query protocol (PQexecParams: Parse, Bind, Describe, Execute, Sync)."""
        arr = (ctypes.c_char_p * max(1, len(values)))(*[None if v is None else str(v).encode() for v in values])
        res = _pq.PQexecParams(self.conn, sql.encode(), len(values), None, arr, None, None, 0)
        try:
            return Result(res)
        finally:
            _pq.PQclear(res)

    def value(self, sql):
        r = self.exec(sql)
        assert r.ok, r
        return r.rows[0][0]

    @property
    def tx(self):
        return _pq.PQtransactionStatus(self.conn)

    def parameter(self, name):
        v = _pq.PQparameterStatus(self.conn, name.encode())
        return v.decode() if v else None

    def close(self):
        if self.conn:
            _pq.PQfinish(self.conn)
            self.conn = None


# --- the services -----------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


class Services:
    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="redshift-standin-test-")
        os.chmod(self.tmp, 0o755)
        self._start_postgres()
        self._start_s3rver()
        self._make_certificate()
        self.standin_log = os.path.join(self.tmp, "standin.log")
        self.hold_commit_file = os.path.join(self.tmp, "hold-commit")
        self.standin_stderr = open(self.standin_log, "w")
        self.standin, self.port = self.start_standin(
            self.standin_stderr, "--tls-cert", self.cert, "--tls-key", self.key,
            "--hold-commit-file", self.hold_commit_file)
        self.s3 = s3client.S3Client(self.s3_endpoint, access_key="S3RVER", secret_key="S3RVER")

    def start_standin(self, stderr, *options):
        """Starts a stand-in with these options in front of the test's PostgreSQL and S3 server;
        returns (process, port). The caller stops the process."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER")
        proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(STANDIN_DIR, "standin.py"), "--listen", "127.0.0.1:0",
             "--upstream", "127.0.0.1:%d" % self.pg_port, "--s3-endpoint", self.s3_endpoint] + list(options),
            stdout=subprocess.PIPE, stderr=stderr, env=env, text=True)
        line = proc.stdout.readline()
        if not line.startswith("ready "):
            proc.kill()
            proc.wait()
            proc.stdout.close()
            raise RuntimeError("the stand-in did not start: %r\n%s" % (line, self.log_tail()))
        return proc, int(line.split(":")[-1])

    def _as_postgres(self, argv):
        if os.getuid() == 0:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def _start_postgres(self):
        self.pg_dir = os.path.join(self.tmp, "pg")
        os.mkdir(self.pg_dir)
        if os.getuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.pg_dir, pw.pw_uid, pw.pw_gid)
        self._as_postgres([os.path.join(PG_BINDIR, "initdb"), "-D", self.pg_dir + "/data", "-U", "postgres",
                           "--auth=trust", "-E", "UTF8", "--no-locale"])
        for attempt in range(3):
            self.pg_port = free_port()
            try:
                self._as_postgres([os.path.join(PG_BINDIR, "pg_ctl"), "-D", self.pg_dir + "/data", "-l",
                                   self.pg_dir + "/pg.log", "-w", "-t", "30", "-o",
                                   "-c listen_addresses=127.0.0.1 -p %d -k %s" % (self.pg_port, self.pg_dir),
                                   "start"])
                self.pg_started = True
                return
            except subprocess.CalledProcessError:
                if attempt == 2:
                    raise

    def _start_s3rver(self):
        if not os.path.exists(S3RVER):
            raise RuntimeError("the local S3 server is not installed at %s: run scripts/setup" % S3RVER)
        data = os.path.join(self.tmp, "s3")
        os.mkdir(data)
        for attempt in range(3):
            port = free_port()
            self.s3rver = subprocess.Popen(
                ["node", S3RVER, "-d", data, "-a", "127.0.0.1", "-p", str(port), "--configure-bucket", BUCKET,
                 "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider"))
            if wait_port(port, self.s3rver):
                self.s3_endpoint = "http://127.0.0.1:%d" % port
                return
            self.s3rver.kill()
            self.s3rver.wait()
        raise RuntimeError("s3rver did not start")

    def _make_certificate(self):
        self.cert = os.path.join(self.tmp, "server.crt")
        self.key = os.path.join(self.tmp, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-keyout", self.key, "-out", self.cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def log_tail(self, n=4000):
        try:
            with open(self.standin_log) as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def stop(self):
        for name in ("standin", "s3rver"):
            p = getattr(self, name, None)
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                if p.stdout:
                    p.stdout.close()
        if getattr(self, "standin_stderr", None):
            self.standin_stderr.close()
        if getattr(self, "pg_started", False):
            try:
                self._as_postgres([os.path.join(PG_BINDIR, "pg_ctl"), "-D", self.pg_dir + "/data", "-m", "fast",
                                   "-w", "stop"])
            except subprocess.CalledProcessError:
                pass
        if getattr(self, "tmp", None):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def conninfo(self, sslmode="disable"):
        return "host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=%s" % (self.port, sslmode)

    def direct_conninfo(self):
        return "host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable" % self.pg_port


SERVICES = Services()


def setUpModule():
    try:
        SERVICES.start()
    except Exception:
        SERVICES.stop()
        raise


def tearDownModule():
    if os.environ.get("STANDIN_TEST_SHOW_LOG"):
        sys.stderr.write(SERVICES.log_tail(20000))
    SERVICES.stop()


class StandinTest(unittest.TestCase):
    def setUp(self):
        self.db = Conn(SERVICES.conninfo())
        self.direct = Conn(SERVICES.direct_conninfo())

    def tearDown(self):
        self.db.close()
        self.direct.close()

    def ok(self, sql):
        r = self.db.exec(sql)
        self.assertTrue(r.ok, "%s -> %r\nstand-in log:\n%s" % (sql, r, SERVICES.log_tail()))
        return r

    def put(self, key, body):
        SERVICES.s3.put(BUCKET, key, body)

    def put_manifest(self, key, entries):
        self.put(key, json.dumps({"entries": entries}).encode())

    def copy_sql(self, table, manifest, extra="", columns=""):
        return ("COPY %s%s FROM 's3://%s/%s' IAM_ROLE '%s' REGION 'us-west-2' MANIFEST CSV QUOTE AS '\"' "
                "DELIMITER ',' GZIP COMPUPDATE OFF STATUPDATE OFF %s" % (table, columns, BUCKET, manifest, ROLE, extra))


# --- the tests --------------------------------------------------------------------------------

class VersionTest(StandinTest):
    def test_reports_redshift_version_in_both_protocols(self):
        self.assertEqual(self.db.parameter("server_version"), "8.0.2")
        self.assertEqual(_pq.PQserverVersion(self.db.conn), 80002)
        self.assertEqual(self.db.exec("SELECT version()").rows, [[REDSHIFT_VERSION]])
        self.assertEqual(self.db.params("SELECT version()").rows, [[REDSHIFT_VERSION]])
        self.assertEqual(self.db.exec("select  pg_catalog.version() ;").rows, [[REDSHIFT_VERSION]])
        # Only the function call is answered: a literal that mentions it is left alone.
        self.assertEqual(self.db.exec("SELECT 'version()'").rows, [["version()"]])
        self.assertIn("PostgreSQL 15", self.direct.value("SELECT version()"))

    def test_parameters_pass_through_the_extended_protocol(self):
        r = self.db.params("SELECT $1::int + $2::int, $3::text", 40, 2, "it's")
        self.assertEqual(r.rows, [["42", "it's"]])


REFUSALS = [
    # (statement, parameters for the extended protocol or None, SQLSTATE, message)
    ("COPY refusal_t FROM STDIN", None, "42601", 'syntax error at or near "STDIN"'),
    ("COPY (SELECT 1) TO STDOUT", None, "0A000", "COPY ... TO is not supported"),
    ("INSERT INTO refusal_t VALUES (1) ON CONFLICT DO NOTHING", None, "0A000", "INSERT ... ON CONFLICT is not supported"),
    ("INSERT INTO refusal_t VALUES ($1) ON CONFLICT (a) DO UPDATE SET a = 2", ["1"], "0A000",
     "INSERT ... ON CONFLICT is not supported"),
    ("SELECT DISTINCT ON (a) a FROM refusal_t", None, "0A000", "SELECT DISTINCT ON is not supported"),
    ("SELECT DISTINCT ON (a) a FROM refusal_t WHERE a = $1", ["1"], "0A000", "SELECT DISTINCT ON is not supported"),
    ("CREATE TABLE refusal_s (id serial, b int)", None, "0A000", 'column type "serial" is not supported'),
    ("CREATE TABLE refusal_s (id BIGSERIAL)", None, "0A000", 'column type "bigserial" is not supported'),
    ("CREATE TEMP TABLE refusal_s (id smallserial)", None, "0A000", 'column type "smallserial" is not supported'),
    ("CREATE SEQUENCE refusal_seq", None, "0A000", "CREATE SEQUENCE is not supported"),
    ("SELECT nextval('refusal_seq')", None, "0A000", "function nextval() is not available"),
    ("SELECT pg_catalog.nextval($1)", ["refusal_seq"], "0A000", "function nextval() is not available"),
    ("SELECT pg_advisory_lock(42)", None, "0A000", "function pg_advisory_lock() is not available"),
    ("SELECT pg_try_advisory_xact_lock($1::bigint)", ["7"], "0A000",
     "function pg_try_advisory_xact_lock() is not available"),
    ("MERGE INTO refusal_t USING (SELECT 1 AS a) s ON refusal_t.a = s.a WHEN MATCHED THEN DELETE "
     "WHEN NOT MATCHED THEN INSERT VALUES (s.a)", None, "0A000", "MERGE source must be a table, not a subquery"),
    ("MERGE INTO refusal_t USING refusal_v s ON refusal_t.a = s.a WHEN MATCHED THEN DELETE "
     "WHEN NOT MATCHED THEN INSERT VALUES (s.a)", None, "0A000", "MERGE source must be a table, not a view"),
    ("MERGE INTO refusal_t USING refusal_v s ON refusal_t.a = s.a AND s.a = $1 WHEN MATCHED THEN DELETE "
     "WHEN NOT MATCHED THEN INSERT VALUES (s.a)", ["1"], "0A000", "MERGE source must be a table, not a view"),
    ("MERGE INTO refusal_t t USING refusal_src s ON t.a = s.a WHEN MATCHED THEN DELETE "
     "WHEN NOT MATCHED THEN INSERT VALUES (s.a)", None, "0A000", "MERGE target table cannot have an alias"),
    ("UNLOAD ('SELECT a, a AS b FROM refusal_t') TO 's3://warehouse/refusal/' IAM_ROLE '%s' FORMAT CSV" % ROLE, None,
     "0A000", "is not implemented by the stand-in"),  # CSV, or the extended protocol
]


class RefusalTest(StandinTest):
    def setUp(self):
        super().setUp()
        self.ok("DROP TABLE IF EXISTS refusal_t CASCADE; DROP TABLE IF EXISTS refusal_src CASCADE;"
                "CREATE TABLE refusal_t (a int); CREATE TABLE refusal_src (a int);"
                "CREATE VIEW refusal_v AS SELECT a FROM refusal_src")

    def check_refused(self, sql, params, sqlstate, message):
        for protocol in ("simple", "extended"):
            if protocol == "simple" and params:
                continue
            with self.subTest(sql=sql, protocol=protocol):
                self.ok("BEGIN")
                self.ok("INSERT INTO refusal_t VALUES (100)")
                r = self.db.exec(sql) if protocol == "simple" else self.db.params(sql, *(params or []))
                self.assertFalse(r.ok, r)
                self.assertEqual(r.sqlstate, sqlstate, r)
                self.assertIn(message, r.message)
                self.assertEqual(r.context, "", "the stand-in's refuse() shows through")
                # The transaction is aborted, as after any failed statement.
                self.assertEqual(self.db.tx, PQTRANS_INERROR)
                self.assertEqual(self.db.exec("SELECT 1").sqlstate, "25P02")
                self.ok("ROLLBACK")
                self.assertEqual(self.db.value("SELECT count(*) FROM refusal_t"), "0")
                # Outside a transaction block the session goes on.
                r = self.db.exec(sql) if protocol == "simple" else self.db.params(sql, *(params or []))
                self.assertEqual(r.sqlstate, sqlstate, r)
                self.assertEqual(self.db.tx, PQTRANS_IDLE)
                self.assertEqual(self.db.value("SELECT 2"), "2")

    def test_each_refusal(self):
        for sql, params, sqlstate, message in REFUSALS:
            self.check_refused(sql, params, sqlstate, message)
        self.assertIsNone(self.direct.value("SELECT to_regclass('refusal_seq')"))
        self.assertIsNone(self.direct.value("SELECT to_regclass('refusal_s')"))

    def test_refusal_inside_a_multi_statement_query_fails_there(self):
        r = self.db.exec("INSERT INTO refusal_t VALUES (1); SELECT DISTINCT ON (a) a FROM refusal_t; "
                         "INSERT INTO refusal_t VALUES (2)")
        self.assertEqual(r.sqlstate, "0A000")
        # A multi-statement query is one implicit transaction in both engines: nothing stays.
        self.assertEqual(self.db.value("SELECT count(*) FROM refusal_t"), "0")

    def test_words_in_literals_comments_and_quoted_names_are_not_refused(self):
        r = self.ok("SELECT 'on conflict do nothing', $$nextval(1)$$, E'distinct on (\\'x\\')' "
                    "/* pg_advisory_lock( */ -- CREATE SEQUENCE\n, 1 AS \"serial\"")
        self.assertEqual(r.rows, [["on conflict do nothing", "nextval(1)", "distinct on ('x')", "1"]])
        self.ok('CREATE TEMP TABLE words (serial int, "bigserial" text)')
        self.ok("SELECT DISTINCT a FROM refusal_t")

    def test_merge_from_a_table_runs(self):
        self.ok("INSERT INTO refusal_src VALUES (1), (2); INSERT INTO refusal_t VALUES (1)")
        self.ok("CREATE TEMP TABLE merge_stage AS SELECT a FROM refusal_src")
        sql = ("MERGE INTO refusal_t USING %s s ON refusal_t.a = s.a WHEN MATCHED THEN UPDATE SET a = s.a + 10 "
               "WHEN NOT MATCHED THEN INSERT VALUES (s.a)")
        self.ok(sql % "refusal_src")
        self.assertEqual(self.db.exec("SELECT a FROM refusal_t ORDER BY a").rows, [["2"], ["11"]])
        r = self.db.params(sql % "merge_stage")  # a temporary table of this session is a table too
        self.assertTrue(r.ok, r)
        self.assertEqual(self.db.exec("SELECT a FROM refusal_t ORDER BY a").rows, [["1"], ["11"], ["12"]])

    def test_truncate_commits_the_open_transaction_first(self):
        for protocol in ("simple", "extended"):
            with self.subTest(protocol=protocol):
                self.ok("DELETE FROM refusal_t; DELETE FROM refusal_src")
                self.ok("BEGIN")
                self.ok("INSERT INTO refusal_t VALUES (7)")
                r = self.db.exec("TRUNCATE refusal_src") if protocol == "simple" else self.db.params(
                    "TRUNCATE refusal_src")
                self.assertTrue(r.ok, r)
                self.assertEqual(self.db.tx, PQTRANS_IDLE)  # the TRUNCATE ran in a transaction of its own
                self.db.exec("ROLLBACK")
                self.assertEqual(self.direct.value("SELECT count(*) FROM refusal_t WHERE a = 7"), "1")
        # In a multi-statement query too.
        self.ok("DELETE FROM refusal_t")
        self.db.exec("BEGIN; INSERT INTO refusal_t VALUES (8); TRUNCATE refusal_src; INSERT INTO refusal_t VALUES (9)")
        self.db.exec("ROLLBACK")
        self.assertEqual(self.direct.value("SELECT string_agg(a::text, ',' ORDER BY a) FROM refusal_t"), "8,9")


class DdlTest(StandinTest):
    def test_redshift_table_attributes(self):
        self.ok("DROP TABLE IF EXISTS ddl_songplays; DROP TABLE IF EXISTS ddl_users")
        self.ok("""CREATE TABLE ddl_songplays (
                     songplay_id BIGINT IDENTITY(100, 5) ENCODE az64,
                     start_time TIMESTAMP NOT NULL SORTKEY,
                     song_id VARCHAR(MAX) DISTKEY ENCODE lzo,
                     level VARCHAR(10) ENCODE bytedict,
                     note CHARACTER VARYING(max))
                   DISTSTYLE KEY COMPOUND SORTKEY(start_time, song_id) BACKUP NO""")
        self.ok("CREATE TABLE ddl_users (user_id INT IDENTITY(0,1), name TEXT) DISTSTYLE ALL INTERLEAVED SORTKEY (user_id) "
                "BACKUP YES ENCODE AUTO")
        self.ok("CREATE TEMP TABLE ddl_stage (id INT GENERATED BY DEFAULT AS IDENTITY(0, -1), v INT) "
                "DISTSTYLE EVEN DISTKEY(v) SORTKEY AUTO")
        cols = self.direct.exec("SELECT attname, format_type(atttypid, atttypmod), attidentity FROM pg_attribute "
                                "WHERE attrelid = 'ddl_songplays'::regclass AND attnum > 0 ORDER BY attnum").rows
        self.assertEqual(cols, [["songplay_id", "bigint", "d"], ["start_time", "timestamp without time zone", ""],
                                ["song_id", "character varying(65535)", ""],
                                ["level", "character varying(10)", ""], ["note", "character varying(65535)", ""]])
        self.ok("INSERT INTO ddl_songplays (start_time) VALUES (now()), (now())")
        self.assertEqual(self.db.exec("SELECT songplay_id FROM ddl_songplays ORDER BY 1").rows, [["100"], ["105"]])
        self.ok("INSERT INTO ddl_stage (v) VALUES (1), (2)")
        self.assertEqual(self.db.exec("SELECT id FROM ddl_stage ORDER BY v").rows, [["0"], ["-1"]])
        self.ok("INSERT INTO ddl_users (name) VALUES ('a'), ('b')")
        self.assertEqual(self.db.exec("SELECT user_id FROM ddl_users ORDER BY 1").rows, [["0"], ["1"]])
        self.assertEqual(self.db.value("SELECT CAST('abc' AS VARCHAR(MAX))"), "abc")


class CopyFixture(StandinTest):
    """The table `events` (empty) and helpers to put parts and manifests in S3 for COPY."""

    def setUp(self):
        super().setUp()
        self.ok("DROP TABLE IF EXISTS events; CREATE TABLE events (id INTEGER NOT NULL, user_id BIGINT, "
                "name VARCHAR(8), note TEXT, score DOUBLE PRECISION, paid BOOLEAN, ts TIMESTAMP)")
        self.key = self.id().split(".")[-1]

    def part(self, name, text, compress=True):
        body = gzip.compress(text.encode()) if compress else text.encode()
        self.put("%s/%s" % (self.key, name), body)
        return {"url": "s3://%s/%s/%s" % (BUCKET, self.key, name), "mandatory": True,
                "meta": {"content_length": len(body)}}

    def manifest(self, entries):
        key = "%s/manifest.json" % self.key
        self.put_manifest(key, entries)
        return key

    def rows(self):
        return self.db.exec("SELECT id, user_id, name, note, score, paid, ts FROM events ORDER BY id").rows

    def error_rows(self, query_id):
        return self.db.exec("SELECT line_number, trim(colname), err_code, trim(err_reason), trim(raw_field_value), "
                            "trim(filename) FROM stl_load_errors WHERE query = %s ORDER BY line_number" % query_id).rows

    def bad_manifest(self):
        return self.manifest([self.part("bad.gz",
                                        "1,1,ok,a,1,t,\n"
                                        "2,x,ok,a,1,t,\n"                 # line 2: not an integer
                                        '3,3,"toolong\n!",a,1,t,\n'       # line 3: 10 bytes > VARCHAR(8)
                                        "4,4,ok,a,1,t,\n"
                                        "5,5,ok\n")])                     # line 6: too few columns


class CopyTest(CopyFixture):
    def test_manifest_of_gzip_csv_parts(self):
        p1 = self.part("part-0.csv.gz",
                       '1,10,"ab,c","say ""hi""",1.5,true,1541105830796\n'
                       '2,,"","line one\nline two",,f,\n')
        p2 = self.part("part-1.csv.gz", '3,30,"   ", ,-2e3,1,1541105830000\r\n4,40,xyz,plain,0,no,0\n')
        missing = {"url": "s3://%s/%s/not-there.csv.gz" % (BUCKET, self.key), "mandatory": False}
        m = self.manifest([p1, missing, p2])
        r = self.db.exec(self.copy_sql("events", m, "TIMEFORMAT 'epochmillisecs' MAXERROR 0 ACCEPTINVCHARS"))
        self.assertTrue(r.ok, "%r\n%s" % (r, SERVICES.log_tail()))
        self.assertEqual(r.tag, "COPY 4")
        self.assertIn("Load into table 'events' completed, 4 record(s) loaded successfully.", self.db.notices)
        self.assertEqual(self.rows(), [
            ["1", "10", "ab,c", 'say "hi"', "1.5", "t", "2018-11-01 20:57:10.796"],
            ["2", None, "", "line one\nline two", None, "f", None],
            ["3", "30", "   ", " ", "-2000", "t", "2018-11-01 20:57:10"],
            ["4", "40", "xyz", "plain", "0", "f", "1970-01-01 00:00:00"]])
        self.assertEqual(self.db.value("SELECT pg_last_copy_count()"), "4")
        self.assertEqual(self.db.params("SELECT pg_last_copy_count()").rows, [["4"]])

    def test_emptyasnull_and_blanksasnull(self):
        # EMPTYASNULL: an unquoted empty VARCHAR field is NULL, a quoted "" stays an empty string;
        # BLANKSASNULL: a field of blanks is NULL. Other types: empty is always NULL.
        m = self.manifest([self.part("p.gz", '1,,"",   ,,,\n')])
        self.ok(self.copy_sql("events", m, "EMPTYASNULL BLANKSASNULL"))
        self.assertEqual(self.rows(), [["1", None, "", None, None, None, None]])
        self.ok("DELETE FROM events")
        # Without them, empty and blank VARCHAR fields load as they are.
        m = self.manifest([self.part("p.gz", '1,,"x",\n2,,,   \n')])
        self.ok(self.copy_sql("events", m, "", " (id, user_id, name, note)"))
        self.assertEqual([r[:4] for r in self.rows()], [["1", None, "x", ""], ["2", None, "", "   "]])

    def test_mandatory_part_missing_fails_the_copy(self):
        p1 = self.part("a.gz", "1,1,a,a,1,t,\n")
        m = self.manifest([p1, {"url": "s3://%s/%s/gone.gz" % (BUCKET, self.key), "mandatory": True}])
        self.ok("BEGIN")
        r = self.db.exec(self.copy_sql("events", m))
        self.assertEqual((r.sqlstate, r.message), ("XX000", "Mandatory url is not present in manifest file."), r)
        self.assertIn("gone.gz", r.detail)
        self.assertEqual(self.db.tx, PQTRANS_INERROR)
        self.ok("ROLLBACK")
        self.assertEqual(self.rows(), [])
        self.assertEqual(self.db.value("SELECT pg_last_copy_count()"), "0")

    def test_content_length_mismatch_fails_the_copy(self):
        p1 = self.part("a.gz", "1,1,a,a,1,t,\n")
        p1["meta"]["content_length"] += 1
        r = self.db.exec(self.copy_sql("events", self.manifest([p1])))
        self.assertEqual(r.sqlstate, "XX000", r)
        self.assertIn("content_length", r.message)
        self.assertEqual(self.rows(), [])

    def test_manifest_missing_or_invalid(self):
        r = self.db.exec(self.copy_sql("events", "%s/no-manifest.json" % self.key))
        self.assertEqual(r.sqlstate, "XX000", r)
        self.assertIn("Problem reading manifest file", r.message)
        self.put("%s/bad.json" % self.key, b"{not json")
        r = self.db.exec(self.copy_sql("events", "%s/bad.json" % self.key))
        self.assertIn("Manifest file is not in correct json format", r.message)

    def test_maxerror_zero_fails_and_errors_survive_rollback(self):
        m = self.bad_manifest()
        self.ok("BEGIN")
        self.ok("INSERT INTO events (id) VALUES (99)")
        r = self.db.exec(self.copy_sql("events", m))
        self.assertEqual(r.sqlstate, "XX000", r)
        self.assertEqual(r.message, "Load into table 'events' failed.  Check 'stl_load_errors' system table for details.")
        self.assertEqual(self.db.tx, PQTRANS_INERROR)
        self.ok("ROLLBACK")
        self.assertEqual(self.rows(), [])
        qid = self.db.value("SELECT pg_last_copy_id()")
        errors = self.error_rows(qid)
        self.assertEqual([e[:3] for e in errors], [["2", "user_id", "1207"], ["3", "name", "1204"],
                                                   ["6", "note", "1214"]])
        self.assertTrue(errors[0][5].endswith("/bad.gz"))
        self.assertEqual(errors[0][4], "x")
        # The same rows through sys_load_error_detail, with a search_path that has nothing in it.
        self.ok("SET search_path = nowhere")
        r = self.ok("SELECT count(*), min(trim(column_name)) FROM sys_load_error_detail WHERE query_id = %s" % qid)
        self.assertEqual(r.rows, [["3", "name"]])

    def test_maxerror_n_loads_the_good_rows(self):
        r = self.db.exec(self.copy_sql("events", self.bad_manifest(), "MAXERROR 3"))
        self.assertTrue(r.ok, r)
        self.assertEqual(r.tag, "COPY 2")
        self.assertIn("Load into table 'events' completed, 3 record(s) could not be loaded.  "
                      "Check 'stl_load_errors' system table for details.", self.db.notices)
        self.assertEqual([x[0] for x in self.rows()], ["1", "4"])
        self.assertEqual(self.db.value("SELECT pg_last_copy_count()"), "2")
        self.assertEqual(len(self.error_rows(self.db.value("SELECT pg_last_copy_id()"))), 3)
        r = self.db.exec(self.copy_sql("events", self.bad_manifest(), "MAXERROR 2"))
        self.assertEqual(r.sqlstate, "XX000", r)

    def test_copy_in_a_transaction_that_rolls_back_leaves_nothing(self):
        m = self.manifest([self.part("a.gz", "1,1,a,a,1,t,\n2,2,b,b,2,f,\n")])
        self.ok("BEGIN")
        r = self.ok(self.copy_sql("events", m))
        self.assertEqual(r.tag, "COPY 2")
        self.assertEqual(self.db.tx, PQTRANS_INTRANS)
        self.assertEqual(self.db.value("SELECT count(*) FROM events"), "2")
        self.assertEqual(self.direct.value("SELECT count(*) FROM events"), "0")  # not committed yet
        self.ok("ROLLBACK")
        self.assertEqual(self.direct.value("SELECT count(*) FROM events"), "0")

    def test_copy_into_a_temporary_table_with_a_column_list(self):
        self.ok("CREATE TEMP TABLE stage (a INT, b VARCHAR(3), c INT DEFAULT 5)")
        m = self.manifest([self.part("a.gz", "x,1\ny,2\n")])
        self.ok(self.copy_sql("stage", m, "", " (b, a)"))
        self.assertEqual(self.db.exec("SELECT a, b, c FROM stage ORDER BY a").rows, [["1", "x", "5"], ["2", "y", "5"]])

    def test_option_errors(self):
        m = self.manifest([self.part("a.gz", "1,1,a,a,1,t,\n")])
        r = self.db.exec(self.copy_sql("events", m, "FROBNICATE"))
        self.assertEqual((r.sqlstate, r.message), ("42601", 'syntax error at or near "FROBNICATE"'), r)
        r = self.db.exec(self.copy_sql("events", m, "REMOVEQUOTES"))
        self.assertEqual(r.sqlstate, "0A000", r)
        self.assertIn("REMOVEQUOTES", r.message)
        r = self.db.exec(self.copy_sql("events", m).replace(ROLE, "arn:aws:iam::123:user/bob"))
        self.assertIn("is not an IAM role ARN", r.message)
        r = self.db.exec(self.copy_sql("no_such_table", m))
        self.assertEqual((r.sqlstate, r.message), ("42P01", 'relation "no_such_table" does not exist'), r)
        self.assertEqual(r.position, "", "a position into the stand-in's own catalog query")
        r = self.db.params(self.copy_sql("events", m))
        self.assertEqual(r.sqlstate, "0A000", r)
        self.assertEqual(self.db.value("SELECT count(*) FROM events"), "0")


    def test_parts_without_rows(self):
        # Empty gzip members (a part of no rows, and members of no rows between others), every entry
        # with its meta.content_length, as loadstar's manifests have them.
        empty = self.part("empty.gz", "")
        self.assertEqual(empty["meta"]["content_length"], len(gzip.compress(b"")))
        body = gzip.compress(b"") + gzip.compress(b"1,1,a,a,1,t,\n") + gzip.compress(b"") + \
            gzip.compress(b"2,2,b,b,2,f,\n")
        self.put("%s/members.gz" % self.key, body)
        members = {"url": "s3://%s/%s/members.gz" % (BUCKET, self.key), "mandatory": True,
                   "meta": {"content_length": len(body)}}
        r = self.ok(self.copy_sql("events", self.manifest([empty, members, self.part("empty2.gz", "")])))
        self.assertEqual(r.tag, "COPY 2")
        self.assertEqual([x[:3] for x in self.rows()], [["1", "1", "a"], ["2", "2", "b"]])
        # A manifest of nothing but empty parts loads nothing, and succeeds.
        self.db.notices.clear()
        first = int(self.db.value("SELECT pg_last_copy_id()"))
        r = self.ok(self.copy_sql("events", self.manifest([empty, self.part("empty3.gz", "")])))
        self.assertEqual(r.tag, "COPY 0")
        self.assertIn("Load into table 'events' completed, 0 record(s) loaded successfully.", self.db.notices)
        self.assertEqual(self.db.value("SELECT pg_last_copy_count()"), "0")
        self.assertGreater(int(self.db.value("SELECT pg_last_copy_id()")), first)
        self.assertEqual(len(self.rows()), 2)

    def test_pg_last_copy_id_explains_a_failed_copy_after_rollback(self):
        # PG_LAST_COPY_ID: -1 before any COPY; set when the load begins, so also by a COPY that fails
        # on its data; not changed by the ROLLBACK, nor by a COPY that fails before loading.
        fresh = Conn(SERVICES.conninfo())
        try:
            self.assertEqual(fresh.value("SELECT pg_last_copy_id()"), "-1")
        finally:
            fresh.close()
        self.ok(self.copy_sql("events", self.manifest([self.part("good.gz", "1,1,a,a,1,t,\n")])))
        good_id = int(self.db.value("SELECT pg_last_copy_id()"))
        self.ok("BEGIN")
        r = self.db.exec(self.copy_sql("events", self.bad_manifest()))
        self.assertEqual(r.sqlstate, "XX000", r)
        self.ok("ROLLBACK")
        failed_id = int(self.db.value("SELECT pg_last_copy_id()"))
        self.assertGreater(failed_id, good_id)
        explain = ("SELECT line_number, trim(colname) AS colname, err_code, trim(err_reason) AS reason "
                   "FROM stl_load_errors WHERE query = pg_last_copy_id() ORDER BY line_number")
        for r in (self.ok(explain), self.db.params(explain)):
            self.assertTrue(r.ok, r)
            self.assertEqual([row[:3] for row in r.rows], [["2", "user_id", "1207"], ["3", "name", "1204"],
                                                           ["6", "note", "1214"]])
        for early_failure in (self.copy_sql("events", self.manifest([self.part("x.gz", "1\n")]), "FROBNICATE"),
                              self.copy_sql("events", "%s/no-such-manifest.json" % self.key),
                              self.copy_sql("no_such_table", self.bad_manifest())):
            self.ok("BEGIN")
            self.assertFalse(self.db.exec(early_failure).ok)
            self.ok("ROLLBACK")
            self.assertEqual(int(self.db.value("SELECT pg_last_copy_id()")), failed_id, early_failure)
        self.assertEqual(self.ok(explain).rows[0][:2], ["2", "user_id"])


def wait_for(predicate, seconds=20, interval=0.05):
    """Polls predicate until it is true (returns True) or `seconds` pass (returns False)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class SlicesTest(StandinTest):
    def test_stv_slices_has_the_default_two_slices(self):
        self.assertEqual(self.db.value("SELECT count(*) AS slices FROM stv_slices"), "2")
        self.assertEqual(self.db.params("SELECT count(*) AS slices FROM stv_slices").rows, [["2"]])
        self.ok("SET search_path = nowhere")
        r = self.ok("SELECT node, slice, localslice, type, pg_typeof(node), pg_typeof(slice), pg_typeof(type) "
                    "FROM pg_catalog.stv_slices ORDER BY slice")
        self.assertEqual(r.rows, [["0", "0", "0", "D", "integer", "integer", "character"],
                                  ["0", "1", "1", "D", "integer", "integer", "character"]])

    def test_slices_option(self):
        self.direct.exec("DROP DATABASE IF EXISTS slices_four")
        self.assertTrue(self.direct.exec("CREATE DATABASE slices_four").ok)
        log = open(os.path.join(SERVICES.tmp, "standin-slices.log"), "w")
        proc, port = SERVICES.start_standin(log, "--slices", "4")
        try:
            c = Conn("host=127.0.0.1 port=%d user=postgres dbname=slices_four sslmode=disable" % port)
            try:
                self.assertEqual(c.value("SELECT count(*) AS slices FROM stv_slices"), "4")
                self.assertEqual(c.value("SELECT string_agg(slice::text, ',' ORDER BY slice) FROM stv_slices"),
                                 "0,1,2,3")
            finally:
                c.close()
        finally:
            proc.terminate()
            proc.wait(10)
            proc.stdout.close()
            log.close()
        self.assertEqual(self.db.value("SELECT count(*) FROM stv_slices"), "2")  # another database
        for bad in ("0", "x", "-1"):
            out = subprocess.run(["/usr/bin/python3", os.path.join(STANDIN_DIR, "standin.py"), "--listen",
                                  "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--s3-endpoint", "http://127.0.0.1:1",
                                  "--slices", bad], capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 2, out)
            self.assertIn("number of slices", out.stderr)


class LockTest(StandinTest):
    def setUp(self):
        super().setUp()
        self.ok("DROP TABLE IF EXISTS lock_a; DROP TABLE IF EXISTS lock_b; "
                "CREATE TABLE lock_a (v int); CREATE TABLE lock_b (v int)")

    def locks(self, table, granted):
        return self.direct.value("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                                 "WHERE c.relname = '%s' AND l.mode = 'AccessExclusiveLock' AND l.granted = %s"
                                 % (table, granted))

    def test_lock_in_a_transaction_serialises_sessions(self):
        import threading
        self.ok("BEGIN")
        r = self.ok("LOCK TABLE lock_a, lock_b")
        self.assertEqual(r.tag, "LOCK TABLE")
        self.assertEqual((self.locks("lock_a", "true"), self.locks("lock_b", "true")), ("1", "1"))
        second = Conn(SERVICES.conninfo())
        result = {}

        def run():
            result["begin"] = second.exec("BEGIN")
            result["lock"] = second.params("LOCK lock_a")  # the extended protocol, without TABLE
            result["insert"] = second.exec("INSERT INTO lock_a VALUES (2)")
            result["commit"] = second.exec("COMMIT")
        t = threading.Thread(target=run)
        t.start()
        try:
            self.assertTrue(wait_for(lambda: self.locks("lock_a", "false") == "1"), "the second LOCK does not wait")
            time.sleep(0.3)
            self.assertTrue(t.is_alive())
            self.assertNotIn("lock", result)
            self.ok("INSERT INTO lock_a VALUES (1)")
            self.ok("COMMIT")
            t.join(20)
            self.assertFalse(t.is_alive())
            for k in ("begin", "lock", "insert", "commit"):
                self.assertTrue(result[k].ok, (k, result[k]))
        finally:
            t.join(20)
            second.close()
        self.assertEqual(self.direct.value("SELECT string_agg(v::text, ',' ORDER BY v) FROM lock_a"), "1,2")

    def test_lock_outside_a_transaction_block(self):
        # PostgreSQL refuses it (25P01); Redshift runs it, the lock lasting for the statement only.
        self.assertEqual(self.direct.exec("LOCK lock_a").sqlstate, "25P01")
        for run in (self.db.exec, self.db.params):
            with self.subTest(protocol=run.__name__):
                r = run("LOCK TABLE lock_a")
                self.assertTrue(r.ok, r)
                self.assertEqual(r.tag, "LOCK TABLE")
                self.assertEqual(self.db.tx, PQTRANS_IDLE)
                self.assertEqual(self.locks("lock_a", "true"), "0")
                r = run("LOCK no_such_table")
                self.assertEqual(r.sqlstate, "42P01", r)
                self.assertEqual(self.db.tx, PQTRANS_IDLE)
                self.assertEqual(self.db.value("SELECT 1"), "1")
        # It still waits for a lock another session holds.
        import threading
        other = Conn(SERVICES.conninfo())
        try:
            self.assertTrue(other.exec("BEGIN; LOCK lock_a").ok)
            result = {}
            t = threading.Thread(target=lambda: result.update(r=self.db.exec("LOCK lock_a")))
            t.start()
            self.assertTrue(wait_for(lambda: self.locks("lock_a", "false") == "1"))
            self.assertTrue(t.is_alive())
            self.assertTrue(other.exec("COMMIT").ok)
            t.join(20)
            self.assertFalse(t.is_alive())
            self.assertTrue(result["r"].ok, result["r"])
        finally:
            other.close()
        self.assertEqual(self.db.tx, PQTRANS_IDLE)
        self.assertEqual(self.locks("lock_a", "true"), "0")


class CommitHoldTest(CopyFixture):
    """--hold-commit-file, a test facility for crash tests (not a Redshift behaviour)."""

    def setUp(self):
        super().setUp()
        self.hold = SERVICES.hold_commit_file
        self.held = self.hold + ".held"
        self.addCleanup(self.release)
        self.addCleanup(lambda: os.path.exists(self.held) and os.remove(self.held))

    def release(self):
        if os.path.exists(self.hold):
            os.remove(self.hold)

    def engage(self):
        with open(self.hold, "w"):
            pass

    def held_pids(self):
        try:
            with open(self.held) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def count(self):
        return self.direct.value("SELECT count(*) FROM events")

    def test_held_commit_released_while_the_client_waits(self):
        import threading
        pid = int(self.db.value("SELECT pg_backend_pid()"))
        m = self.manifest([self.part("a.gz", "1,1,a,a,1,t,\n2,2,b,b,2,f,\n")])
        self.engage()
        self.ok("BEGIN")
        self.ok(self.copy_sql("events", m))
        result = {}
        t = threading.Thread(target=lambda: result.update(r=self.db.exec("COMMIT")))
        t.start()
        try:
            self.assertTrue(wait_for(lambda: self.held_pids() == [pid]), SERVICES.log_tail())
            time.sleep(0.3)
            self.assertTrue(t.is_alive())
            self.assertEqual(self.count(), "0")
        finally:
            self.release()
            t.join(20)
        self.assertFalse(t.is_alive())
        self.assertTrue(result["r"].ok, result["r"])
        self.assertEqual(result["r"].tag, "COMMIT")
        self.assertEqual(self.db.tx, PQTRANS_IDLE)
        self.assertEqual(self.count(), "2")
        self.assertIn("relaying the COMMIT", SERVICES.log_tail())

    def test_client_killed_during_the_hold_commits_nothing(self):
        m = self.manifest([self.part("a.gz", "1,1,a,a,1,t,\n2,2,b,b,2,f,\n")])
        # COMMIT as a query of its own (as loadstar sends it), and at the end of a multi-statement query.
        for last in (["-c", "INSERT INTO events (id) VALUES (3)", "-c", "COMMIT"],
                     ["-c", "INSERT INTO events (id) VALUES (3); COMMIT"]):
            with self.subTest(last=last):
                def seen(text):
                    return SERVICES.log_tail(10 ** 9).count(text)
                ended, not_relayed = seen("the client's connection ended"), seen("the COMMIT is not relayed")
                if os.path.exists(self.held):
                    os.remove(self.held)
                self.engage()
                psql = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", SERVICES.conninfo(),
                                         "-c", "BEGIN", "-c", self.copy_sql("events", m)] + last,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    self.assertTrue(wait_for(lambda: len(self.held_pids()) == 1), SERVICES.log_tail())
                    pid = self.held_pids()[0]
                    self.assertEqual(self.direct.value("SELECT state FROM pg_stat_activity WHERE pid = %d" % pid),
                                     "idle in transaction")
                    self.assertIsNone(psql.poll())
                finally:
                    psql.kill()
                    psql.wait(10)
                self.assertTrue(wait_for(lambda: seen("the client's connection ended") > ended), SERVICES.log_tail())
                self.release()
                self.assertTrue(wait_for(lambda: self.direct.value(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = %d" % pid) == "0"), "the upstream session stays")
                self.assertEqual(self.count(), "0")
                self.assertEqual(seen("the COMMIT is not relayed"), not_relayed + 1)

    def test_client_that_terminates_during_the_hold_commits_nothing(self):
        # A client that sends Terminate and closes its socket while its COMMIT is held.
        import pgwire
        m = self.manifest([self.part("a.gz", "1,1,a,a,1,t,\n")])
        ended = SERVICES.log_tail(10 ** 9).count("the client's connection ended")
        c = pgwire.Client("127.0.0.1", SERVICES.port, "postgres", "postgres")
        try:
            c.query("BEGIN")
            self.assertEqual(c.query(self.copy_sql("events", m)).tag, "COPY 1")
            self.engage()
            c.sock.sendall(pgwire.query_message("COMMIT"))
            self.assertTrue(wait_for(lambda: len(self.held_pids()) == 1), SERVICES.log_tail())
        finally:
            c.close()
        self.assertTrue(wait_for(lambda: SERVICES.log_tail(10 ** 9).count("the client's connection ended") > ended))
        self.release()
        pid = self.held_pids()[0]
        self.assertTrue(wait_for(lambda: self.direct.value(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = %d" % pid) == "0"), "the upstream session stays")
        self.assertEqual(self.count(), "0")

    def test_only_a_commit_after_a_copy_is_held(self):
        import threading
        m = self.manifest([self.part("a.gz", "1,1,a,a,1,t,\n")])
        self.engage()
        for sqls in (["BEGIN", "INSERT INTO events (id) VALUES (1)", "COMMIT"],  # no COPY
                     [self.copy_sql("events", m)],                              # COPY in autocommit
                     ["BEGIN", self.copy_sql("events", m), "ROLLBACK"],         # not a COMMIT
                     ["BEGIN", self.copy_sql("events", m), "TRUNCATE events", "COMMIT"]):  # TRUNCATE committed
            with self.subTest(sqls=sqls):
                result = {}
                t = threading.Thread(target=lambda: result.update(r=[self.db.exec(q) for q in sqls]))
                t.start()
                t.join(20)
                self.assertFalse(t.is_alive(), "held: %s" % sqls)
                self.assertTrue(all(r.ok for r in result["r"]), result["r"])
        self.assertFalse(os.path.exists(self.held))
        # END is a COMMIT too; without the hold file it goes straight through.
        self.release()
        self.ok("BEGIN")
        self.ok(self.copy_sql("events", m))
        self.assertEqual(self.ok("END").tag, "COMMIT")
        self.assertFalse(os.path.exists(self.held))


class UnloadTest(StandinTest):
    """UNLOAD ... FORMAT PARQUET: Hive partition folders, Redshift's file names and manifest, the files
    read back by DuckDB (tests/tools/parquet_read.mjs)."""

    def setUp(self):
        super().setUp()
        self.ok("DROP TABLE IF EXISTS plays; CREATE TABLE plays (id BIGINT, yr INTEGER, grp VARCHAR(10), "
                "name VARCHAR(20), score DOUBLE PRECISION, ts TIMESTAMP)")
        self.ok("INSERT INTO plays VALUES "
                "(1, 2018, 'a', 'x', 1.5, '2018-11-01 21:01:46.796'), "
                "(2, 2018, 'a', '', 'NaN', '1960-01-01 00:00:01.5'), "
                "(3, 2018, 'b/c', NULL, '-Infinity', NULL), "
                "(4, NULL, 'a', 'ünï 🎵', '-0', '2018-11-30 23:59:59'), "
                "(5, 2019, NULL, 'it''s', 2.25, '2019-01-01 00:00:00')")
        self.prefix = "unload/%s/" % self.id().split(".")[-1]
        self.tmp = tempfile.mkdtemp(prefix="standin-unload-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        super().tearDown()

    def unload(self, query, options="FORMAT AS PARQUET PARTITION BY (yr, grp) MANIFEST VERBOSE", to=None):
        return self.db.exec("UNLOAD ('%s') TO 's3://%s/%s' IAM_ROLE '%s' %s"
                            % (query.replace("'", "''"), BUCKET, to or self.prefix, ROLE, options))

    def objects(self):
        return dict(SERVICES.s3.list_objects(BUCKET, self.prefix))

    def read(self, key):
        path = os.path.join(self.tmp, key.replace("/", "_"))
        with open(path, "wb") as f:
            f.write(SERVICES.s3.get(BUCKET, key))
        out = subprocess.run(["node", os.path.join(SOURCE_DIR, "tests", "tools", "parquet_read.mjs"), path],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def test_partitioned_parquet_with_a_verbose_manifest(self):
        r = self.unload("SELECT id, yr, grp, name, score, ts FROM plays ORDER BY id")
        self.assertTrue(r.ok, "%r\n%s" % (r, SERVICES.log_tail()))
        self.assertEqual(r.tag, "UNLOAD")
        self.assertIn("UNLOAD completed, 5 record(s) unloaded successfully.", self.db.notices)
        p = self.prefix
        files = {p + "yr=2018/grp=a/0000_part_00.parquet", p + "yr=2018/grp=b%2Fc/0000_part_00.parquet",
                 p + "yr=__HIVE_DEFAULT_PARTITION__/grp=a/0000_part_00.parquet",
                 p + "yr=2019/grp=__HIVE_DEFAULT_PARTITION__/0000_part_00.parquet"}
        objects = self.objects()
        self.assertEqual(set(objects), files | {p + "manifest"})
        manifest = json.loads(SERVICES.s3.get(BUCKET, p + "manifest"))
        self.assertEqual({e["url"] for e in manifest["entries"]}, {"s3://%s/%s" % (BUCKET, k) for k in files})
        for e in manifest["entries"]:
            self.assertEqual(e["meta"]["content_length"], objects[e["url"][len("s3://%s/" % BUCKET):]])
        self.assertEqual(manifest["meta"]["record_count"], 5)
        self.assertEqual(sum(e["meta"]["record_count"] for e in manifest["entries"]), 5)
        self.assertEqual(manifest["author"], {"name": "Amazon Redshift", "version": "1.0.0"})
        self.assertEqual([e["name"] for e in manifest["schema"]["elements"]], ["id", "name", "score", "ts"])
        # The partition columns are not in the files; the rest reads back exactly.
        a = self.read(p + "yr=2018/grp=a/0000_part_00.parquet")
        self.assertEqual([(c["name"], c["type"]) for c in a["columns"]],
                         [("id", "BIGINT"), ("name", "VARCHAR"), ("score", "DOUBLE"), ("ts", "TIMESTAMP")])
        self.assertEqual(a["rows"], [["1", "x", "1.5", "1541106106796000"], ["2", "", "NaN", "-315619198500000"]])
        b = self.read(p + "yr=2018/grp=b%2Fc/0000_part_00.parquet")
        self.assertEqual(b["rows"], [["3", None, "-Infinity", None]])
        d = self.read(p + "yr=__HIVE_DEFAULT_PARTITION__/grp=a/0000_part_00.parquet")
        self.assertEqual(d["rows"], [["4", "ünï 🎵", "-0", "1543622399000000"]])

    def test_include_unpartitioned_plain_manifest_and_parallel_off(self):
        r = self.unload("SELECT id, yr FROM plays WHERE id < 3 ORDER BY id",
                        "PARQUET PARTITION BY (yr) INCLUDE MANIFEST")
        self.assertTrue(r.ok, r)
        rows = self.read(self.prefix + "yr=2018/0000_part_00.parquet")["rows"]
        self.assertEqual(rows, [["1", "2018"], ["2", "2018"]])
        manifest = json.loads(SERVICES.s3.get(BUCKET, self.prefix + "manifest"))
        self.assertEqual(manifest, {"entries": [{"url": "s3://%s/%syr=2018/0000_part_00.parquet"
                                                 % (BUCKET, self.prefix)}]})
        # No PARTITION BY: the name prefix is kept as it is; PARALLEL OFF numbers the files 000, 001...
        r = self.unload("SELECT id FROM plays", "FORMAT PARQUET PARALLEL OFF", to=self.prefix + "flat_")
        self.assertTrue(r.ok, r)
        self.assertIn(self.prefix + "flat_000.parquet", self.objects())

    def test_existing_files_allowoverwrite_and_cleanpath(self):
        query = "SELECT id, yr, grp, name FROM plays"
        self.assertTrue(self.unload(query).ok)
        r = self.unload(query)
        self.assertFalse(r.ok)
        self.assertEqual(r.sqlstate, "XX000", r)
        self.assertIn("Specified unload destination on S3 is not empty", r.message)
        self.assertTrue(self.unload(query, "PARQUET PARTITION BY (yr, grp) MANIFEST ALLOWOVERWRITE").ok)
        # CLEANPATH empties the partition folders that get files, and only those.
        self.put(self.prefix + "yr=2018/grp=a/stray.parquet", b"old")
        self.put(self.prefix + "yr=1999/grp=z/old.parquet", b"old")
        r = self.unload(query + " WHERE yr = 2018", "PARQUET PARTITION BY (yr, grp) CLEANPATH")
        self.assertTrue(r.ok, r)
        objects = self.objects()
        self.assertNotIn(self.prefix + "yr=2018/grp=a/stray.parquet", objects)
        self.assertIn(self.prefix + "yr=1999/grp=z/old.parquet", objects)
        self.assertIn(self.prefix + "yr=2018/grp=a/0000_part_00.parquet", objects)

    def test_in_a_transaction_it_sees_the_transaction_and_a_failure_aborts_it(self):
        self.ok("BEGIN")
        self.ok("INSERT INTO plays VALUES (6, 2020, 'n', 'new', 0, NULL)")
        r = self.unload("SELECT id, yr, grp FROM plays", "PARQUET PARTITION BY (yr, grp)")
        self.assertTrue(r.ok, r)
        self.assertEqual(self.db.tx, PQTRANS_INTRANS)
        self.assertIn(self.prefix + "yr=2020/grp=n/0000_part_00.parquet", self.objects())
        r = self.unload("SELECT id, nosuchcolumn FROM plays", "PARQUET", to=self.prefix + "bad/")
        self.assertFalse(r.ok)
        self.assertEqual(self.db.tx, PQTRANS_INERROR)
        self.ok("ROLLBACK")

    def test_option_errors(self):
        cases = [
            ("SELECT id, yr FROM plays LIMIT 2", "PARQUET", "0A000", "LIMIT"),
            ("SELECT id FROM plays", "PARQUET PARTITION BY (yr)", "22023", "not in the UNLOAD query's columns"),
            ("SELECT id, score FROM plays", "PARQUET PARTITION BY (score)", "22023", "cannot be a partition key"),
            ("SELECT yr FROM plays", "PARQUET PARTITION BY (yr)", "22023", "at least one column"),
            ("SELECT id FROM plays", "PARQUET DELIMITER ','", "22023", "PARQUET cannot be used with DELIMITER"),
            ("SELECT id FROM plays", "PARQUET ALLOWOVERWRITE CLEANPATH", "22023", "ALLOWOVERWRITE"),
            ("SELECT id FROM plays", "PARQUET MAXFILESIZE 1 MB", "22023", "MAXFILESIZE"),
            ("SELECT id FROM plays", "PARQUET ROWGROUPSIZE 64 MB", "0A000", "ROWGROUPSIZE"),
            ("SELECT id FROM plays", "JSON", "0A000", "UNLOAD to JSON is not implemented"),
            ("SELECT id FROM plays", "PARQUET BOGUS", "42601", "syntax error"),
        ]
        for query, options, sqlstate, message in cases:
            with self.subTest(options=options, query=query):
                r = self.unload(query, options, to=self.prefix + "errors/")
                self.assertFalse(r.ok, r)
                self.assertEqual(r.sqlstate, sqlstate, r)
                self.assertIn(message, r.message)
        r = self.db.exec("UNLOAD ('SELECT id FROM plays') TO 's3://%s/%s' FORMAT PARQUET" % (BUCKET, self.prefix))
        self.assertEqual(r.sqlstate, "22023", r)
        r = self.db.exec("UNLOAD ('SELECT id FROM plays') TO '/tmp/x' IAM_ROLE '%s' FORMAT PARQUET" % ROLE)
        self.assertEqual(r.sqlstate, "22023", r)
        r = self.db.params("UNLOAD ('SELECT id FROM plays') TO 's3://%s/%s' IAM_ROLE '%s' FORMAT PARQUET"
                           % (BUCKET, self.prefix, ROLE))
        self.assertEqual(r.sqlstate, "0A000", r)
        self.assertIn("extended query protocol", r.message)
        self.assertEqual(self.objects(), {})


class TokenizerTest(unittest.TestCase):
    """The tokenizer the refusals and rewrites rely on, without services."""

    def test_literals_comments_and_quotes_are_single_tokens(self):
        import sqltok
        sql = ("SELECT E'it\\'s; on conflict' AS \"a;\"\"b\", $fn$ nextval( ; $fn$, $$;$$, $1 "
               "/* outer /* nested; */ still comment */ -- trailing; comment\n; SELECT 2")
        stmts = sqltok.split_statements(sql)
        self.assertEqual(len(stmts), 2)
        kinds = [(t.kind, t.value) for t in stmts[0].tokens]
        self.assertEqual(kinds, [("ident", "select"), ("string", "it\\'s; on conflict"), ("ident", "as"),
                                 ("qident", 'a;"b'), ("op", ","), ("dollar", " nextval( ; "), ("op", ","),
                                 ("dollar", ";"), ("op", ","), ("param", "1")])
        self.assertRaises(sqltok.SqlSyntaxError, sqltok.tokenize, "SELECT 'open")
        self.assertRaises(sqltok.SqlSyntaxError, sqltok.tokenize, "SELECT $x$ open")

    def test_edits_keep_the_rest_of_the_text(self):
        import rules
        import sqltok
        sql = "create table t (a int encode az64, -- ENCODE in a comment\n b varchar(max) default 'DISTKEY')"
        toks = sqltok.split_statements(sql)[0].tokens
        plan = rules.plan_statement(toks, sql, rules.SessionValues())
        self.assertEqual(plan.text, "create table t (a int , -- ENCODE in a comment\n b varchar(65535) "
                                    "default 'DISTKEY')")


class CancelTest(StandinTest):
    def test_cancel_request_reaches_postgresql(self):
        import threading
        result = {}
        t = threading.Thread(target=lambda: result.update(r=self.db.exec("SELECT pg_sleep(30)")))
        t.start()
        deadline = time.time() + 10
        while time.time() < deadline and self.direct.value(
                "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'") == "0":
            time.sleep(0.05)
        _pq.PQgetCancel.restype = ctypes.c_void_p
        _pq.PQgetCancel.argtypes = [ctypes.c_void_p]
        _pq.PQcancel.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        _pq.PQfreeCancel.argtypes = [ctypes.c_void_p]
        cancel = _pq.PQgetCancel(self.db.conn)
        buf = ctypes.create_string_buffer(256)
        self.assertEqual(_pq.PQcancel(cancel, buf, 256), 1, buf.value)
        _pq.PQfreeCancel(cancel)
        t.join(20)
        self.assertEqual(result["r"].sqlstate, "57014", result.get("r"))


class TlsTest(StandinTest):
    def test_sslmode_require(self):
        c = Conn(SERVICES.conninfo("require"))
        try:
            self.assertEqual(_pq.PQsslInUse(c.conn), 1)
            self.assertEqual(c.value("SELECT version()"), REDSHIFT_VERSION)
            self.assertEqual(c.params("SELECT $1::int * 2", 21).rows, [["42"]])
        finally:
            c.close()
        out = subprocess.run(["psql", "-X", "-At", SERVICES.conninfo("require"), "-c", "\\conninfo", "-c",
                              "SELECT version()"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("SSL connection", out.stdout)
        self.assertIn(REDSHIFT_VERSION, out.stdout)

    def test_plain_client_still_served(self):
        self.assertEqual(_pq.PQsslInUse(self.db.conn), 0)
        self.assertEqual(self.db.value("SELECT 1"), "1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
