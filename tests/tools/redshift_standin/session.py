"""One client connection: the startup phase, then messages relayed by type and length both ways,
with the few that the stand-in must rewrite or take over."""

import os
import select
import socket
import struct
import sys
import threading
import time

import copyload
import pgwire
import rules
import s3client
import sqltok
import unload
from pgwire import Closed, PgError, message

SETUP_SQL = r"""
BEGIN;
SELECT pg_catalog.pg_advisory_xact_lock(7467, 1);
CREATE SCHEMA IF NOT EXISTS standin;
COMMENT ON SCHEMA standin IS 'Objects of the Redshift stand-in (a test tool): refusals, load error tables';
CREATE OR REPLACE FUNCTION standin.refuse(message text, sqlstate text, detail text DEFAULT NULL)
  RETURNS void LANGUAGE plpgsql IMMUTABLE AS $standin$
BEGIN
  IF detail IS NULL THEN
    RAISE EXCEPTION USING MESSAGE = message, ERRCODE = sqlstate;
  END IF;
  RAISE EXCEPTION USING MESSAGE = message, ERRCODE = sqlstate, DETAIL = detail;
END
$standin$;
CREATE OR REPLACE FUNCTION standin.relkind(name text) RETURNS "char" LANGUAGE plpgsql STABLE AS $standin$
BEGIN
  RETURN (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(name));
EXCEPTION WHEN OTHERS THEN
  RETURN NULL;
END
$standin$;
CREATE SEQUENCE IF NOT EXISTS standin.query_id;
CREATE TABLE IF NOT EXISTS standin.stl_load_errors (
  userid integer, slice integer, tbl integer, starttime timestamp without time zone, session integer,
  query integer, filename character(256), line_number bigint, colname character(127), type character(10),
  col_length character(10), position integer, raw_line character(1024), raw_field_value character(1024),
  err_code integer, err_reason character(100), is_partial integer, start_offset bigint);
CREATE OR REPLACE VIEW standin.sys_load_error_detail AS
  SELECT userid AS user_id, query AS query_id, session AS session_id, tbl AS table_id, starttime AS start_time,
         filename AS file_name, line_number, colname AS column_name, type AS column_type,
         col_length AS column_length, position, raw_line, raw_field_value, err_code AS error_code,
         err_reason AS error_message
  FROM standin.stl_load_errors;
-- The connected client sessions, by the process id pg_backend_pid() reports.
CREATE OR REPLACE VIEW standin.stv_sessions AS
  SELECT backend_start::timestamp AS starttime, pid AS process, usename::character(50) AS user_name,
         datname::character(50) AS db_name, 0 AS timeout_sec
  FROM pg_catalog.pg_stat_activity
  WHERE backend_type = 'client backend';
GRANT USAGE ON SCHEMA standin TO PUBLIC;
GRANT SELECT ON standin.stl_load_errors, standin.sys_load_error_detail, standin.stv_sessions TO PUBLIC;
"""

# One compute node with the --slices slices; `type` is for Redshift's internal use ('D' here).
STV_SLICES_SQL = """
CREATE OR REPLACE VIEW standin.stv_slices AS
  SELECT 0 AS node, s AS slice, s AS localslice, 'D'::character(1) AS type
  FROM pg_catalog.generate_series(0, {last}) AS s;
GRANT SELECT ON standin.stv_slices TO PUBLIC;
COMMIT;
"""

# The COMMIT hold (--hold-commit-file) waits at most this long, then lets the COMMIT go on.
HOLD_LIMIT_SECONDS = 300
HOLD_POLL_SECONDS = 0.05
_held_file_lock = threading.Lock()

_setup_lock = threading.Lock()
_set_up_databases = set()


class Config:
    def __init__(self, upstream, s3_endpoint, tls_context=None, slices=2, hold_commit_file=None):
        self.upstream = upstream          # (host, port)
        self.s3_endpoint = s3_endpoint
        self.tls_context = tls_context
        self.slices = slices              # rows of stv_slices
        self.hold_commit_file = hold_commit_file


class Session:
    def __init__(self, sock, cfg, sid):
        self.client = sock
        self.cfg = cfg
        self.sid = sid
        self.creader = pgwire.Reader(sock)
        self.upstream = None
        self.ureader = None
        self.side = None
        self.values = rules.SessionValues()
        self.tx_status = "I"
        self.outstanding = 0     # Query/Sync messages sent upstream whose ReadyForQuery has not come
        self.unsynced = 0        # extended-protocol messages sent upstream since the last Sync
        self.backend_pid = 0
        self.tx_copied = False          # the open transaction ran a COPY from S3
        self.autocommit_pending = False  # a LOCK outside a block runs in a BEGIN of ours: COMMIT at its end
        self.user = self.database = None
        self.userid = 0

    def log(self, text):
        sys.stderr.write("standin[%d]: %s\n" % (self.sid, text))
        sys.stderr.flush()

    # --- lifetime ---------------------------------------------------------------------------

    def run(self):
        try:
            if self._startup():
                self._relay()
        except Closed:
            pass
        except (OSError, pgwire.ProtocolError) as e:
            self.log("connection ends: %s" % e)
        except Exception as e:  # a bug in the stand-in: say so, end this connection only
            self.log("internal error: %r" % e)
            import traceback
            traceback.print_exc()
            try:
                self.client.sendall(pgwire.error_response("stand-in internal error: %r" % e, "XX000", "FATAL"))
            except OSError:
                pass
        finally:
            for s in (self.client, self.upstream):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass
            if self.side is not None:
                self.side.close()
            self.log("closed")

    def _startup(self):
        while True:
            code, body, raw = self.creader.read_startup()
            if code == pgwire.SSL_REQUEST:
                if self.cfg.tls_context is None:
                    self.client.sendall(b"N")
                    continue
                if self.creader.buf:
                    raise pgwire.ProtocolError("data received before the TLS handshake")
                self.client.sendall(b"S")
                self.client = self.cfg.tls_context.wrap_socket(self.client, server_side=True)
                self.creader = pgwire.Reader(self.client)
                self.log("TLS: %s" % self.client.version())
                continue
            if code == pgwire.GSSENC_REQUEST:
                self.client.sendall(b"N")
                continue
            if code == pgwire.CANCEL_REQUEST:
                with socket.create_connection(self.cfg.upstream, timeout=10) as up:
                    up.sendall(raw)
                self.log("cancel request relayed")
                return False
            if code != pgwire.PROTOCOL_3_0:
                self.client.sendall(pgwire.error_response("unsupported frontend protocol %d.%d"
                                                          % (code >> 16, code & 0xFFFF), "0A000", "FATAL"))
                return False
            break
        params = pgwire.parse_startup(body)
        self.user = params.get("user", "")
        self.database = params.get("database") or self.user
        self.log("startup: user=%s database=%s" % (self.user, self.database))
        try:
            self._open_side()
        except PgError as e:
            self.client.sendall(e.raw)
            return False
        except pgwire.ProtocolError as e:
            self.client.sendall(pgwire.error_response(str(e), "28000", "FATAL"))
            return False
        self.upstream = socket.create_connection(self.cfg.upstream, timeout=None)
        self.upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.ureader = pgwire.Reader(self.upstream)
        self.upstream.sendall(raw)
        return True

    def _open_side(self):
        host, port = self.cfg.upstream
        self.side = pgwire.Client(host, port, self.user, self.database, "redshift-standin side connection")
        with _setup_lock:
            if self.database not in _set_up_databases:
                self.side.query(SETUP_SQL + STV_SLICES_SQL.format(last=self.cfg.slices - 1))
                _set_up_databases.add(self.database)
                self.log("set up schema standin in database %s" % self.database)
        r = self.side.query("SELECT usesysid FROM pg_catalog.pg_user WHERE usename = current_user")
        self.userid = int(r.rows[0][0]) if r.rows else 0

    # --- relaying ----------------------------------------------------------------------------

    def _relay(self):
        while True:
            m = self.creader.try_message()
            if m is not None:
                self._on_client(*m)
                continue
            m = self.ureader.try_message()
            if m is not None:
                self._on_upstream(*m)
                continue
            if self.creader.pending():
                self.creader.fill()
                continue
            readable, _, _ = select.select([self.client, self.upstream], [], [])
            if self.client in readable:
                self.creader.fill()
            if self.upstream in readable:
                self.ureader.fill()

    def _to_client(self, data):
        self.client.sendall(data)

    def _to_upstream(self, data):
        self.upstream.sendall(data)

    def _filter_upstream(self, kind, body, raw):
        """An upstream message as the client must see it (or None to drop it)."""
        if kind == b"S":
            name, value = body.split(b"\0")[:2]
            if name == b"server_version":
                return message(b"S", b"server_version\0" + rules.REDSHIFT_SERVER_VERSION.encode() + b"\0")
        elif kind == b"E":
            fields = pgwire.parse_fields(body)
            if "standin.refuse" in fields.get("W", "") or "standin.refuse" in fields.get("q", ""):
                for k in ("W", "F", "L", "R"):
                    fields.pop(k, None)
                return pgwire.build_fields(b"E", fields)
        elif kind == b"K":
            self.backend_pid = struct.unpack_from("!i", body, 0)[0]
        elif kind == b"Z":
            self.tx_status = chr(body[0])
            if self.tx_status == "I":
                self.tx_copied = False
        return raw

    def _on_upstream(self, kind, body, raw):
        if kind == b"Z":
            self.outstanding = max(0, self.outstanding - 1)
            if self.autocommit_pending:
                self._filter_upstream(kind, body, raw)
                self.autocommit_pending = False
                if self.tx_status != "I":
                    self.internal_query("COMMIT")
                self._ready()
                return
        out = self._filter_upstream(kind, body, raw)
        if out is not None:
            self._to_client(out)

    def _on_client(self, kind, body, raw):
        if kind == b"Q":
            self._on_query(body[:-1].decode("utf-8", "surrogateescape"), raw)
        elif kind == b"P":
            self._on_parse(body, raw)
        elif kind == b"S":
            self.unsynced = 0
            self.outstanding += 1
            self._to_upstream(raw)
            if self.autocommit_pending:
                self._wait_idle()
        elif kind == b"X":
            self._to_upstream(raw)
            raise Closed()
        else:
            if kind in (b"B", b"D", b"E", b"C", b"H", b"F"):
                self.unsynced += 1
            self._to_upstream(raw)

    # --- internal exchanges on the client's own connection ---------------------------------

    def _wait_idle(self):
        while self.outstanding > 0:
            self._on_upstream(*self.ureader.read_message())

    def _can_interpose(self):
        return self.unsynced == 0

    def internal_query(self, sql):
        """Runs sql on the client's upstream connection (in its session and transaction); returns the
        Result or raises PgError. Notices and parameter changes go on to the client."""
        self._wait_idle()
        self._to_upstream(pgwire.query_message(sql))
        res, err = pgwire.Result(), None
        while True:
            kind, body, raw = self.ureader.read_message()
            if kind == b"T":
                res = pgwire.Result()
                res.description = pgwire.decode_row_description(body)
            elif kind == b"D":
                res.rows.append(pgwire.decode_data_row(body))
            elif kind == b"C":
                res.tag = body[:-1].decode()
            elif kind == b"E":
                err = self._internal_error(body)
            elif kind == b"Z":
                self._filter_upstream(kind, body, raw)
                if err:
                    raise err
                return res
            elif kind in (b"N", b"S", b"A"):
                out = self._filter_upstream(kind, body, raw)
                if out is not None:
                    self._to_client(out)

    def _internal_error(self, body):
        """An error of the stand-in's own statement, as the client must see it: without the
        position and context that point into a statement the client never sent."""
        fields = pgwire.parse_fields(body)
        for k in ("P", "p", "q", "W", "F", "L", "R"):
            fields.pop(k, None)
        return PgError(fields, pgwire.build_fields(b"E", fields))

    def internal_copy_in(self, sql, rows):
        """COPY ... FROM STDIN on the client's connection, fed `rows` (encoded lines). -> tag."""
        self._wait_idle()
        self._to_upstream(pgwire.query_message(sql))
        tag, err = None, None
        while True:
            kind, body, raw = self.ureader.read_message()
            if kind == b"G":
                batch, size = [], 0
                for r in rows:
                    b = r.encode("utf-8")
                    batch.append(b)
                    size += len(b)
                    if size >= 65536:
                        self._to_upstream(message(b"d", b"".join(batch)))
                        batch, size = [], 0
                if batch:
                    self._to_upstream(message(b"d", b"".join(batch)))
                self._to_upstream(message(b"c"))
            elif kind == b"C":
                tag = body[:-1].decode()
            elif kind == b"E":
                err = self._internal_error(body)
            elif kind == b"Z":
                self._filter_upstream(kind, body, raw)
                if err:
                    raise err
                return tag
            elif kind in (b"N", b"S", b"A"):
                out = self._filter_upstream(kind, body, raw)
                if out is not None:
                    self._to_client(out)

    def _fail_in_session(self, msg, sqlstate, detail=None):
        """Makes the client's statement fail upstream with msg and sqlstate (so that PostgreSQL puts
        the session in the state a failed statement leaves), and relays the error."""
        args = "%s, %s" % (sqltok.quote_literal(msg), sqltok.quote_literal(sqlstate))
        if detail:
            args += ", " + sqltok.quote_literal(detail)
        try:
            self.internal_query("SELECT standin.refuse(%s)" % args)
            raise RuntimeError("standin.refuse() did not fail")
        except PgError as e:
            self._to_client(e.raw)
        self._ready()

    def _ready(self):
        self._to_client(message(b"Z", self.tx_status.encode()))

    def _commit_first(self):
        """TRUNCATE inside a transaction block: Redshift commits the open transaction first."""
        self.log("TRUNCATE inside a transaction block: COMMIT first, as Redshift's TRUNCATE does")
        self.internal_query("COMMIT")

    def _lock_in_own_transaction(self):
        """LOCK outside a transaction block: PostgreSQL refuses it, Redshift (whose LOCK is "only
        meaningful" inside one) runs it and releases the lock at the statement's end. The stand-in
        opens a transaction for it and commits that at the ReadyForQuery that follows."""
        self.log("LOCK outside a transaction block: run in a transaction of its own")
        self.internal_query("BEGIN")
        self.autocommit_pending = True

    def _hold_commit(self):
        """--hold-commit-file (a test facility, not a Redshift behaviour): while the file exists, the
        COMMIT of a transaction that ran a COPY from S3 waits, so that a test can end the client
        meanwhile. If the client's connection ends during the hold, the COMMIT is not relayed: the
        upstream connection is closed, and PostgreSQL rolls the transaction back."""
        path = self.cfg.hold_commit_file
        if not path or not os.path.exists(path):
            return
        with _held_file_lock:
            with open(path + ".held", "a") as f:
                f.write("%d\n" % self.backend_pid)
        self.log("COMMIT held for backend %d while %s exists (at most %d s)" % (self.backend_pid, path,
                                                                                 HOLD_LIMIT_SECONDS))
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        gone = None
        while os.path.exists(path):
            if time.monotonic() >= deadline:
                self.log("COMMIT hold: %s still exists after %d s: going on" % (path, HOLD_LIMIT_SECONDS))
                break
            if gone is None:
                gone = self._client_gone(HOLD_POLL_SECONDS)
                if gone:
                    self.log("COMMIT hold: the client's connection ended (%s)" % gone)
            else:
                time.sleep(HOLD_POLL_SECONDS)
        if gone is None:
            gone = self._client_gone(0)
        if gone:
            self.log("COMMIT hold over: the client is gone, so the COMMIT is not relayed; upstream connection "
                     "closed (PostgreSQL rolls the transaction back)")
            try:
                self.upstream.close()
            except OSError:
                pass
            raise Closed()
        self.log("COMMIT hold over: relaying the COMMIT")

    def _client_gone(self, timeout):
        """Why the client's connection has ended (EOF or an error), or None. Bytes that arrive are
        kept for the relay."""
        try:
            readable, _, _ = select.select([self.client], [], [], timeout)
            if readable or self.creader.pending():
                self.creader.fill()
        except Closed:
            return "end of file"
        except OSError as e:
            return str(e) or type(e).__name__
        return None

    def _merge_source_is_view(self, source):
        if source is None or self.tx_status == "E" or not self._can_interpose():
            return False
        r = self.internal_query("SELECT standin.relkind(%s)" % sqltok.quote_literal(source))
        kind = r.rows[0][0] if r.rows else None
        return kind in ("v", "m")

    # --- simple query protocol --------------------------------------------------------------

    def _on_query(self, sql, raw):
        try:
            stmts = sqltok.split_statements(sql)
        except sqltok.SqlSyntaxError:
            stmts = []
        if not stmts:
            self.outstanding += 1
            self._to_upstream(raw)
            return
        plans = [rules.plan_statement(s.tokens, sql, self.values) for s in stmts]
        if len(plans) == 1 and plans[0].action == "copy_s3":
            self._run_copy(plans[0], sql)
            return
        if len(plans) == 1 and plans[0].action == "unload":
            self._run_unload(plans[0])
            return
        if self.tx_copied and any(rules.is_commit(st.tokens) for st in stmts):
            self._hold_commit()
        if len(plans) == 1 and plans[0].action == "lock" and self.tx_status == "I":
            self._lock_in_own_transaction()
            self.outstanding += 1
            self._to_upstream(pgwire.query_message(plans[0].text))
            self._wait_idle()
            return
        edits, in_block = [], self.tx_status == "T"
        try:
            for idx, (st, plan) in enumerate(zip(stmts, plans)):
                text = plan.text
                if plan.action == "refuse":
                    self.log("refused: %s" % plan.refusal.message)
                    text = rules.refusal_sql(plan.refusal)
                elif plan.action in ("copy_s3", "unload"):
                    text = rules.refusal_sql(rules.Refusal(
                        "the stand-in runs %s only as a statement of its own, not in a multi-statement query"
                        % ("COPY from Amazon S3" if plan.action == "copy_s3" else "UNLOAD")))
                elif plan.action == "truncate":
                    if in_block:
                        if idx == 0:
                            self._commit_first()
                        else:
                            text = "COMMIT; " + text
                    in_block = False
                elif plan.action == "merge" and self._merge_source_is_view(plan.merge_source):
                    text = rules.refusal_sql(rules.Refusal("MERGE source must be a table, not a view"))
                if rules.is_transaction_start(st.tokens):
                    in_block = True
                elif rules.is_transaction_end(st.tokens):
                    in_block = False
                if text != sql[st.start:st.end]:
                    edits.append((st.start, st.end, text))
        except PgError as e:  # the COMMIT before a TRUNCATE failed: the client sees why
            self._to_client(e.raw)
            self._ready()
            return
        new_sql = sqltok.apply_edits(sql, edits) if edits else sql
        if edits:
            self.log("rewritten: %s" % new_sql[:500])
        self.outstanding += 1
        self._to_upstream(pgwire.query_message(new_sql) if edits else raw)

    # --- extended query protocol ------------------------------------------------------------

    def _on_parse(self, body, raw):
        i = body.index(b"\0")
        name = body[:i]
        j = body.index(b"\0", i + 1)
        sql = body[i + 1:j].decode("utf-8", "surrogateescape")
        rest = body[j + 1:]
        (declared,) = struct.unpack_from("!h", rest, 0) if len(rest) >= 2 else (0,)
        self.unsynced += 1
        try:
            stmts = sqltok.split_statements(sql)
        except sqltok.SqlSyntaxError:
            stmts = []
        if len(stmts) != 1:
            self._to_upstream(raw)
            return
        tokens = stmts[0].tokens
        plan = rules.plan_statement(tokens, sql, self.values)
        nparams = max(sqltok.max_param(tokens), declared)
        text = plan.text
        if plan.action == "refuse":
            self.log("refused (extended protocol): %s" % plan.refusal.message)
            text = rules.refusal_sql(plan.refusal, nparams)
        elif plan.action == "copy_s3":
            text = rules.refusal_sql(rules.Refusal("COPY from Amazon S3 through the extended query protocol is not "
                                                   "implemented by the stand-in (send it as a simple query)"), nparams)
        elif plan.action == "unload":
            text = rules.refusal_sql(rules.Refusal("UNLOAD through the extended query protocol is not implemented by "
                                                   "the stand-in (send it as a simple query)"), nparams)
        elif plan.action == "truncate" and self.tx_status == "T" and self.unsynced == 1:
            self.unsynced = 0
            try:
                self._commit_first()
            finally:
                self.unsynced = 1
        elif plan.action == "lock" and self.tx_status == "I" and self.unsynced == 1:
            self.unsynced = 0
            try:
                self._lock_in_own_transaction()
            finally:
                self.unsynced = 1
        elif plan.action == "merge" and self.unsynced == 1:
            self.unsynced = 0
            try:
                if self._merge_source_is_view(plan.merge_source):
                    text = rules.refusal_sql(rules.Refusal("MERGE source must be a table, not a view"), nparams)
            finally:
                self.unsynced = 1
        original = sql[stmts[0].start:stmts[0].end]
        if text == original:
            self._to_upstream(raw)
            return
        self.log("rewritten (extended protocol): %s" % text[:500])
        new_body = name + b"\0" + text.encode("utf-8", "surrogateescape") + b"\0" + rest
        self._to_upstream(message(b"P", new_body))

    # --- COPY from S3 and UNLOAD ------------------------------------------------------------

    def send_notice(self, text):
        """An INFO notice to the client, as Redshift sends when a load or an unload completes."""
        self._to_client(pgwire.notice_response(text))

    def _run_unload(self, plan):
        try:
            tag = unload.run_unload(plan, self)
        except copyload.CopyFailure as f:
            self.log("UNLOAD failed: %s" % f.message)
            self._fail_in_session(f.message, f.sqlstate, f.detail)
            return
        except PgError as e:
            self.log("UNLOAD failed upstream: %s" % e)
            self._to_client(e.raw)
            self._ready()
            return
        self._to_client(message(b"C", tag.encode() + b"\0"))
        self._ready()

    def _run_copy(self, plan, sql):
        try:
            self._copy(plan, sql)
        finally:
            if self.tx_status != "I":
                self.tx_copied = True

    def _copy(self, plan, sql):
        self.log("COPY from S3: %s" % plan.text[:300])
        try:
            cmd = copyload.parse_copy(plan.tokens, sql)
            catalog = self.internal_query(copyload.catalog_sql(cmd))
            if not catalog.rows:
                raise copyload.CopyFailure("table %s has no columns" % cmd.table, "42P01")
            relname, oid, columns = copyload.resolve_columns(cmd, catalog.rows)
            region = cmd.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
            try:
                s3 = s3client.S3Client(self.cfg.s3_endpoint, region)
            except ValueError as e:
                raise copyload.CopyFailure(str(e))
            entries = copyload.read_manifest(s3, cmd)
            parts = copyload.fetch_parts(s3, cmd, entries, self.log)
            errors = []
            rows = copyload.prepare_rows(cmd, columns, parts, errors, self.log)
            qid = int(self.side.query("SELECT nextval('standin.query_id')").rows[0][0])
            self.values.last_copy_id = qid
            if errors:
                self._record_errors(errors, oid, qid)
            self.log("COPY into %s: %d good rows, %d rejected (MAXERROR %d)"
                     % (relname, len(rows), len(errors), cmd.maxerror))
            if len(errors) > cmd.maxerror:
                raise copyload.CopyFailure(copyload.failed_message(relname))
            tag = self.internal_copy_in(copyload.copy_from_stdin_sql(cmd, columns), rows)
        except copyload.CopyFailure as f:
            self.values.last_copy_count = 0
            self.log("COPY failed: %s" % f.message)
            self._fail_in_session(f.message, f.sqlstate, f.detail)
            return
        except PgError as e:
            self.values.last_copy_count = 0
            self.log("COPY failed upstream: %s" % e)
            self._to_client(e.raw)
            self._ready()
            return
        self.values.last_copy_count = len(rows)
        self._to_client(pgwire.notice_response("Load into table '%s' completed, %d record(s) loaded successfully."
                                               % (relname, len(rows))))
        if errors:
            self._to_client(pgwire.notice_response(
                "Load into table '%s' completed, %d record(s) could not be loaded.  Check 'stl_load_errors' "
                "system table for details." % (relname, len(errors))))
        self._to_client(message(b"C", (tag or "COPY %d" % len(rows)).encode() + b"\0"))
        self._ready()

    def _record_errors(self, errors, oid, qid):
        """Writes the rejected rows to stl_load_errors on the side connection (autocommit): like
        Redshift's system log they outlive the client's transaction."""
        def lit(s, width):
            return sqltok.quote_literal(s.replace("\0", "")[:width])
        values = []
        for e in errors[:100000]:
            values.append("(%d, 0, %d, now()::timestamp, %d, %d, %s, %d, %s, %s, %s, %d, %s, %s, %d, %s, 0, 0)" % (
                self.userid, oid, self.backend_pid, qid, lit(e.filename, 256), e.line_number, lit(e.colname, 127),
                lit(e.type, 10), lit(e.col_length, 10), e.position, lit(e.raw_line, 1024),
                lit(e.raw_field_value, 1024), e.err_code, lit(e.err_reason, 100)))
        for k in range(0, len(values), 1000):
            self.side.query("INSERT INTO standin.stl_load_errors VALUES " + ", ".join(values[k:k + 1000]))
