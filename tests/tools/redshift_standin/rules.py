"""What the stand-in does with one SQL statement: pass it on (possibly rewritten), refuse it the
way Redshift would, or take it over (COPY from S3, TRUNCATE's commit, MERGE's source check).

Every decision is made on tokens (sqltok), never on the raw text, so words inside literals,
quoted identifiers, comments and dollar quotes are never mistaken for SQL.
"""

from dataclasses import dataclass, field

from sqltok import IDENT, NUMBER, OP, PARAM, QIDENT, STRING, apply_edits, depths, matching_paren, quote_literal

REDSHIFT_VERSION = "PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 Redshift 1.0.77467"
REDSHIFT_SERVER_VERSION = "8.0.2"

FEATURE_NOT_SUPPORTED = "0A000"
SYNTAX_ERROR = "42601"

# System tables and views the stand-in serves from its own schema.
STANDIN_SCHEMA = "standin"
SYSTEM_RELATIONS = ("stl_load_errors", "sys_load_error_detail", "stv_slices", "stv_sessions")

SERIAL_TYPES = ("serial", "serial2", "serial4", "serial8", "smallserial", "bigserial")
SEQUENCE_FUNCTIONS = ("nextval", "currval", "setval", "lastval")


@dataclass
class Refusal:
    message: str
    sqlstate: str = FEATURE_NOT_SUPPORTED


@dataclass
class Plan:
    """The outcome for one statement.

    action: "pass" (send `text`), "refuse" (`refusal`), "copy_s3" (the stand-in loads it),
    "unload" (not implemented yet), "truncate" (commit first when inside a transaction block),
    "merge" (check that `merge_source` is a plain table, then send `text`), "lock" (send `text`, in a
    transaction of its own when none is open).
    """
    action: str
    text: str = ""
    refusal: Refusal = None
    merge_source: str = None
    tokens: list = field(default_factory=list)


@dataclass
class SessionValues:
    """What some functions answer in this session."""
    last_copy_count: int = 0
    last_copy_id: int = -1


def _words(tokens, n):
    """The first n tokens' keyword values (None for other tokens and past the end)."""
    w = [t.value if t.kind == IDENT else None for t in tokens[:n]]
    return w + [None] * (n - len(w))


def _followed_by_paren(tokens, i):
    return i + 1 < len(tokens) and tokens[i + 1].is_op("(")


def _not_qualified(tokens, i, allowed_schema="pg_catalog"):
    """True when tokens[i] is not preceded by 'x.' unless x is allowed_schema."""
    if i >= 1 and tokens[i - 1].is_op("."):
        return i >= 2 and tokens[i - 2].is_kw(allowed_schema)
    return True


def _name_start(tokens, i):
    """Where a possibly schema-qualified name ending at tokens[i] begins."""
    while i >= 2 and tokens[i - 1].is_op(".") and tokens[i - 2].kind in (IDENT, QIDENT):
        i -= 2
    return i


def parse_qualified_name(tokens, i):
    """A possibly qualified name starting at tokens[i] -> (index after it) or None."""
    if i >= len(tokens) or tokens[i].kind not in (IDENT, QIDENT):
        return None
    j = i + 1
    while j + 1 < len(tokens) and tokens[j].is_op(".") and tokens[j + 1].kind in (IDENT, QIDENT):
        j += 2
    return j


def main_verb(tokens):
    """The statement's verb, looking past a WITH clause: (verb, index) or (None, None)."""
    if not tokens or tokens[0].kind != IDENT:
        return None, None
    if not tokens[0].is_kw("with"):
        return tokens[0].value, 0
    ds = depths(tokens)
    for i, t in enumerate(tokens[1:], 1):
        if ds[i] == 0 and t.is_kw("select", "insert", "update", "delete", "merge", "values", "table"):
            return t.value, i
    return None, None


def _is_create_table(tokens):
    w = _words(tokens, 5)
    if not w or w[0] != "create":
        return False
    i = 1
    while i < len(w) and w[i] in ("global", "local", "temp", "temporary", "unlogged"):
        i += 1
    return i < len(w) and w[i] == "table"


def _is_alter_table(tokens):
    w = _words(tokens, 2)
    return w[:2] == ["alter", "table"]


def check_refusals(tokens):
    """The first Redshift refusal that applies to the statement, or None."""
    verb, vi = main_verb(tokens)
    w = _words(tokens, 4)
    for i, t in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t.is_kw("on") and nxt is not None and nxt.is_kw("conflict") and i + 2 < len(tokens) and (
                tokens[i + 2].is_op("(") or tokens[i + 2].is_kw("do", "on")):
            return Refusal("INSERT ... ON CONFLICT is not supported")
        if t.is_kw("distinct") and nxt is not None and nxt.is_kw("on") and _followed_by_paren(tokens, i + 1):
            return Refusal("SELECT DISTINCT ON is not supported")
        if t.kind == IDENT and _followed_by_paren(tokens, i) and _not_qualified(tokens, i):
            if t.value in SEQUENCE_FUNCTIONS:
                return Refusal("sequences are not supported: function %s() is not available" % t.value)
            if t.value.startswith("pg_advisory_") or t.value.startswith("pg_try_advisory_"):
                return Refusal("advisory locks are not supported: function %s() is not available" % t.value)
    if w and w[0] in ("create", "alter", "drop"):
        j = 1
        while j < len(w) and w[j] in ("or", "replace", "temp", "temporary", "unlogged"):
            j += 1
        if j < len(w) and w[j] == "sequence":
            return Refusal("%s SEQUENCE is not supported (use an IDENTITY column)" % w[0].upper())
    if _is_create_table(tokens) or _is_alter_table(tokens):
        for i, t in enumerate(tokens):
            if t.kind == IDENT and t.value in SERIAL_TYPES and i >= 1 and (
                    tokens[i - 1].kind in (IDENT, QIDENT)) and not tokens[i - 1].is_kw("table"):
                return Refusal('column type "%s" is not supported (use IDENTITY(seed, step))' % t.value)
    if verb == "merge":
        return _check_merge(tokens, vi)
    return None


def _check_merge(tokens, vi):
    if vi != 0:
        return Refusal("MERGE with a WITH clause is not supported")
    if len(tokens) < 2 or not tokens[1].is_kw("into"):
        return None  # let PostgreSQL report the syntax error
    j = parse_qualified_name(tokens, 2)
    if j is None or j >= len(tokens):
        return None
    if not tokens[j].is_kw("using"):
        return Refusal("MERGE target table cannot have an alias")
    k = j + 1
    if k < len(tokens) and tokens[k].is_op("("):
        return Refusal("MERGE source must be a table, not a subquery")
    ds = depths(tokens)
    matched = not_matched = 0
    for i, t in enumerate(tokens):
        if ds[i] != 0 or not t.is_kw("when"):
            continue
        if i + 1 < len(tokens) and tokens[i + 1].is_kw("matched"):
            matched += 1
            if i + 2 < len(tokens) and tokens[i + 2].is_kw("and"):
                return Refusal("MERGE WHEN MATCHED AND <condition> is not supported")
        elif i + 2 < len(tokens) and tokens[i + 1].is_kw("not") and tokens[i + 2].is_kw("matched"):
            not_matched += 1
            if i + 3 < len(tokens) and tokens[i + 3].is_kw("and"):
                return Refusal("MERGE WHEN NOT MATCHED AND <condition> is not supported")
    if any(t.is_kw("remove") for t in tokens) and matched == 0:
        return Refusal("MERGE ... REMOVE DUPLICATES is not implemented by the stand-in")
    if matched != 1 or not_matched != 1:
        return Refusal("MERGE needs exactly one WHEN MATCHED and one WHEN NOT MATCHED clause")
    return None


def merge_source(tokens, sql):
    """The text of a MERGE's source table name (as written), or None."""
    j = parse_qualified_name(tokens, 2)
    if j is None or j + 1 >= len(tokens):
        return None
    k = parse_qualified_name(tokens, j + 1)
    if k is None:
        return None
    return sql[tokens[j + 1].start:tokens[k - 1].end]


# --- rewrites that keep the statement -------------------------------------------------------

def _ddl_edits(tokens, sql):
    """Redshift table attributes dropped, IDENTITY(seed, step) made PostgreSQL's."""
    edits = []
    ds = depths(tokens)
    end = len(tokens)
    for i, t in enumerate(tokens):  # CREATE TABLE ... AS SELECT: only before the AS
        if ds[i] == 0 and t.is_kw("as") and i + 1 < len(tokens) and (
                tokens[i + 1].is_kw("select", "with", "values", "table") or tokens[i + 1].is_op("(")):
            end = i
            break
    i = 0
    while i < end:
        t = tokens[i]
        if ds[i] > 1 or t.kind != IDENT:
            i += 1
            continue
        v = t.value
        nxt = tokens[i + 1] if i + 1 < end else None
        if v == "identity" and nxt is not None and nxt.is_op("(") and not (i >= 1 and tokens[i - 1].is_kw("as")):
            close = matching_paren(tokens, i + 1)
            args = _two_numbers(tokens, i + 1, close, sql)
            if args:
                edits.append((t.start, tokens[close].end, "GENERATED BY DEFAULT AS IDENTITY " + _sequence_options(*args)))
                i = close + 1
                continue
        if v == "identity" and nxt is not None and nxt.is_op("(") and i >= 1 and tokens[i - 1].is_kw("as"):
            close = matching_paren(tokens, i + 1)
            args = _two_numbers(tokens, i + 1, close, sql)
            if args:  # Redshift's GENERATED BY DEFAULT AS IDENTITY(seed, step)
                edits.append((nxt.start, tokens[close].end, _sequence_options(*args)))
                i = close + 1
                continue
        if v in ("distkey", "sortkey"):
            start = t.start
            if v == "sortkey" and i >= 1 and tokens[i - 1].is_kw("compound", "interleaved"):
                start = tokens[i - 1].start
            if nxt is not None and nxt.is_op("("):
                close = matching_paren(tokens, i + 1)
                if close is not None:
                    edits.append((start, tokens[close].end, ""))
                    i = close + 1
                    continue
            if v == "sortkey" and nxt is not None and nxt.is_kw("auto"):
                edits.append((start, nxt.end, ""))
                i += 2
                continue
            edits.append((start, t.end, ""))
            i += 1
            continue
        if v == "diststyle" and nxt is not None and nxt.is_kw("all", "even", "key", "auto"):
            edits.append((t.start, nxt.end, ""))
            i += 2
            continue
        if v == "encode" and nxt is not None and nxt.kind == IDENT:
            edits.append((t.start, nxt.end, ""))
            i += 2
            continue
        if v == "backup" and nxt is not None and nxt.is_kw("yes", "no"):
            edits.append((t.start, nxt.end, ""))
            i += 2
            continue
        i += 1
    return edits


def _sequence_options(seed, step):
    """PostgreSQL's identity options for Redshift's (seed, step): the bound on the seed's side is
    the seed itself, so that IDENTITY(0, 1) and IDENTITY(0, -1) are valid as they are in Redshift."""
    bound = "MAXVALUE" if step.startswith("-") else "MINVALUE"
    return "(START WITH %s INCREMENT BY %s %s %s)" % (seed, step, bound, seed)


def _two_numbers(tokens, open_i, close_i, sql):
    if close_i is None:
        return None
    inner = tokens[open_i + 1:close_i]
    parts, cur = [], []
    for t in inner:
        if t.is_op(","):
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    parts.append(cur)
    if len(parts) != 2:
        return None
    out = []
    for p in parts:
        if len(p) == 1 and p[0].kind == NUMBER:
            out.append(p[0].text)
        elif len(p) == 2 and p[0].is_op("-", "+") and p[1].kind == NUMBER:
            out.append(p[0].text + p[1].text)
        else:
            return None
    return tuple(out)


def _value_edits(tokens, values):
    """varchar(max), version(), pg_last_copy_count(), pg_last_copy_id(), system tables."""
    edits = []
    n = len(tokens)
    for i, t in enumerate(tokens):
        if t.kind == IDENT and t.value in ("varchar",) or (
                t.is_kw("varying") and i >= 1 and tokens[i - 1].is_kw("character")):
            if i + 3 < n and tokens[i + 1].is_op("(") and tokens[i + 2].is_kw("max") and tokens[i + 3].is_op(")"):
                edits.append((tokens[i + 1].start, tokens[i + 3].end, "(65535)"))
        if t.kind == IDENT and i + 2 < n and tokens[i + 1].is_op("(") and tokens[i + 2].is_op(")") and \
                _not_qualified(tokens, i):
            start = tokens[i - 2].start if i >= 2 and tokens[i - 1].is_op(".") else t.start
            if t.value == "version":
                edits.append((start, tokens[i + 2].end, "(%s::text)" % quote_literal(REDSHIFT_VERSION)))
            elif t.value == "pg_last_copy_count":
                edits.append((start, tokens[i + 2].end, "(%d::bigint)" % values.last_copy_count))
            elif t.value == "pg_last_copy_id":
                edits.append((start, tokens[i + 2].end, "(%d::integer)" % values.last_copy_id))
        if (t.kind == IDENT or t.kind == QIDENT) and t.value in SYSTEM_RELATIONS and \
                not (i + 1 < n and tokens[i + 1].is_op("(")):
            if i >= 1 and tokens[i - 1].is_op("."):
                if i >= 2 and tokens[i - 2].is_kw("pg_catalog"):
                    edits.append((tokens[i - 2].start, t.end, "%s.%s" % (STANDIN_SCHEMA, t.value)))
            else:
                edits.append((t.start, t.end, "%s.%s" % (STANDIN_SCHEMA, t.value)))
    return edits


_EXACT_CALLS = {"version": "version", "pg_last_copy_count": "pg_last_copy_count",
                "pg_last_copy_id": "pg_last_copy_id"}


def _exact_function_query(tokens):
    """'SELECT f()' or 'SELECT pg_catalog.f()' -> f, else None."""
    vals = [(t.kind, t.value) for t in tokens]
    if len(vals) == 4 and vals[0] == (IDENT, "select") and vals[2] == (OP, "(") and vals[3] == (OP, ")"):
        name = vals[1][1] if vals[1][0] == IDENT else None
    elif len(vals) == 6 and vals[0] == (IDENT, "select") and vals[1] == (IDENT, "pg_catalog") and \
            vals[2] == (OP, ".") and vals[4] == (OP, "(") and vals[5] == (OP, ")"):
        name = vals[3][1] if vals[3][0] == IDENT else None
    else:
        return None
    return name if name in _EXACT_CALLS else None


def refusal_sql(refusal, nparams=0):
    """A statement PostgreSQL fails with the refusal's message and SQLSTATE. Its parameters
    $1..$n are referenced so that a Bind with n values stays valid."""
    params = "".join(", $%d::text" % k for k in range(1, nparams + 1))
    return "SELECT %s.refuse(%s, %s)%s" % (STANDIN_SCHEMA, quote_literal(refusal.message),
                                            quote_literal(refusal.sqlstate), params)


def plan_statement(tokens, sql, values):
    """Decides what to do with one statement (tokens from sqltok, sql the text they index)."""
    text = sql[tokens[0].start:tokens[-1].end]
    w = _words(tokens, 2)
    if w[0] == "unload":
        return Plan("unload", text, tokens=tokens)
    if w[0] == "copy":
        return _plan_copy(tokens, text)
    refusal = check_refusals(tokens)
    if refusal:
        return Plan("refuse", refusal=refusal)
    exact = _exact_function_query(tokens)
    if exact == "version":
        return Plan("pass", "SELECT %s::text AS version" % quote_literal(REDSHIFT_VERSION))
    if exact == "pg_last_copy_count":
        return Plan("pass", "SELECT %d::bigint AS pg_last_copy_count" % values.last_copy_count)
    if exact == "pg_last_copy_id":
        return Plan("pass", "SELECT %d::integer AS pg_last_copy_id" % values.last_copy_id)
    edits = _value_edits(tokens, values)
    if _is_create_table(tokens):
        edits += _ddl_edits(tokens, sql)
    lo = tokens[0].start
    new_text = apply_edits(text, [(s - lo, e - lo, r) for s, e, r in edits])
    verb, _ = main_verb(tokens)
    if w[0] == "truncate":
        return Plan("truncate", new_text, tokens=tokens)
    if verb == "merge":
        return Plan("merge", new_text, merge_source=merge_source(tokens, sql), tokens=tokens)
    if w[0] == "lock":
        return Plan("lock", new_text, tokens=tokens)
    return Plan("pass", new_text, tokens=tokens)


def _plan_copy(tokens, text):
    if len(tokens) > 1 and tokens[1].is_op("("):  # COPY (query) TO ...
        return Plan("refuse", refusal=Refusal("COPY ... TO is not supported (use UNLOAD)"))
    j = parse_qualified_name(tokens, 1)
    if j is not None and j < len(tokens) and tokens[j].is_op("("):
        close = matching_paren(tokens, j)
        j = None if close is None else close + 1
    if j is None or j >= len(tokens):
        return Plan("pass", text)  # PostgreSQL reports the syntax error
    if tokens[j].is_kw("to"):
        return Plan("refuse", refusal=Refusal("COPY ... TO is not supported (use UNLOAD)"))
    if not tokens[j].is_kw("from") or j + 1 >= len(tokens):
        return Plan("pass", text)
    src = tokens[j + 1]
    if src.kind == IDENT:  # STDIN, PROGRAM, ... : Redshift's grammar has none of them
        return Plan("refuse", refusal=Refusal('syntax error at or near "%s"' % src.text, SYNTAX_ERROR))
    if src.kind == STRING and src.value.startswith("s3://"):
        return Plan("copy_s3", text, tokens=tokens)
    if src.kind == STRING:
        return Plan("refuse", refusal=Refusal("COPY from %s is not implemented by the stand-in "
                                              "(only COPY from Amazon S3 with a manifest)" % src.text))
    return Plan("pass", text)


def is_transaction_start(tokens):
    w = _words(tokens, 2)
    return w[0] == "begin" or w[:2] == ["start", "transaction"]


def is_commit(tokens):
    """COMMIT or END (with WORK/TRANSACTION), not COMMIT PREPARED."""
    w = _words(tokens, 2)
    return w[0] in ("commit", "end") and w[1] != "prepared"


def is_transaction_end(tokens):
    w = _words(tokens, 2)
    if w[0] in ("commit", "end", "abort"):
        return True
    return w[0] == "rollback" and w[1] != "to"
