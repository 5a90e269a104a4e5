"""COPY table FROM 's3://bucket/manifest' ... MANIFEST CSV ...: what the stand-in loads itself.

The options are parsed from tokens; the manifest and its parts come from the local S3 server;
each value is checked against its column's type as Redshift's loader checks it; bad rows go to
stl_load_errors (on a side connection, in autocommit, so they survive the client's rollback);
good rows are loaded with PostgreSQL's own COPY FROM STDIN on the client's connection, inside its
transaction.
"""

import datetime
import gzip
import json
import re
import zlib
from dataclasses import dataclass, field

from sqltok import IDENT, NUMBER, OP, QIDENT, STRING, matching_paren, quote_ident, quote_literal
import s3client

LOAD_ERROR = "XX000"   # Redshift reports load failures as internal errors
SYNTAX_ERROR = "42601"
NOT_IMPLEMENTED = "0A000"
INVALID_PARAMETER = "22023"

# Redshift COPY options that the stand-in does not implement (a COPY using one is refused with a
# message that says so, not with a syntax error: they are valid Redshift).
NOT_IMPLEMENTED_OPTIONS = {
    "json", "avro", "parquet", "orc", "fixedwidth", "shapefile", "lzop", "bzip2", "zstd", "escape",
    "removequotes", "null", "truncatecolumns", "fillrecord", "trimblanks", "roundec", "explicit_ids",
    "encoding", "access_key_id", "secret_access_key", "session_token", "readratio", "noload",
    "ignoreblanklines", "ignoreallerrors", "ssh", "encrypted", "master_symmetric_key", "serializetojson",
    "simplify", "jsonpaths", "dateformat_auto",
}

ROLE_ARN = re.compile(r"arn:aws[a-zA-Z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+")


class CopyFailure(Exception):
    """Fails the COPY: the client gets an ErrorResponse with this message and SQLSTATE."""

    def __init__(self, message, sqlstate=LOAD_ERROR, detail=None):
        super().__init__(message)
        self.message, self.sqlstate, self.detail = message, sqlstate, detail


@dataclass
class CopyCommand:
    table: str                 # the table name as written (may be qualified and quoted)
    columns: list              # column names (unquoted values) or None
    url: str
    iam_role: str = None
    region: str = None
    manifest: bool = False
    csv: bool = False
    quote: str = '"'
    quote_given: bool = False
    delimiter: str = ","
    gzip: bool = False
    maxerror: int = 0
    timeformat: str = None
    dateformat: str = None
    emptyasnull: bool = False
    blanksasnull: bool = False
    acceptinvchars: str = None
    ignoreheader: int = 0
    options_seen: list = field(default_factory=list)


def _syntax(tok):
    return CopyFailure('syntax error at or near "%s"' % tok.text, SYNTAX_ERROR)


def parse_copy(tokens, sql):
    """tokens of 'COPY name [(cols)] FROM 's3://...' options...' -> CopyCommand."""
    i = 1
    j = i + 1
    while j + 1 < len(tokens) and tokens[j].is_op(".") and tokens[j + 1].kind in (IDENT, QIDENT):
        j += 2
    table = sql[tokens[i].start:tokens[j - 1].end]
    columns = None
    if j < len(tokens) and tokens[j].is_op("("):
        close = matching_paren(tokens, j)
        columns = []
        for t in tokens[j + 1:close]:
            if t.kind in (IDENT, QIDENT):
                columns.append(t.value)
            elif not t.is_op(","):
                raise _syntax(t)
        j = close + 1
    # tokens[j] is FROM, tokens[j + 1] the URL (rules.plan_statement checked both)
    cmd = CopyCommand(table=table, columns=columns, url=tokens[j + 1].value)
    i = j + 2
    n = len(tokens)

    def opt_as(k):
        return k + 1 if k < n and tokens[k].is_kw("as") else k

    def need(k, kind, what):
        if k >= n:
            raise CopyFailure("syntax error at end of input (%s expected)" % what, SYNTAX_ERROR)
        if tokens[k].kind != kind:
            raise _syntax(tokens[k])
        return tokens[k]

    while i < n:
        t = tokens[i]
        if t.kind != IDENT:
            raise _syntax(t)
        kw = t.value
        cmd.options_seen.append(kw)
        i += 1
        if kw == "iam_role":
            if i < n and tokens[i].is_kw("default"):
                cmd.iam_role = "default"
                i += 1
            else:
                role = need(i, STRING, "an IAM role ARN").value
                for part in role.split(","):
                    if not ROLE_ARN.fullmatch(part):
                        raise CopyFailure("IAM_ROLE '%s' is not an IAM role ARN "
                                          "(arn:aws:iam::<12-digit account>:role/<name>)" % role, INVALID_PARAMETER)
                cmd.iam_role = role
                i += 1
        elif kw == "credentials":
            i = opt_as(i)
            cred = need(i, STRING, "a credentials string").value
            m = re.fullmatch(r"aws_iam_role=(.+)", cred)
            if not m:
                raise CopyFailure("CREDENTIALS other than 'aws_iam_role=<ARN>' are not implemented by the stand-in",
                                  NOT_IMPLEMENTED)
            if not ROLE_ARN.fullmatch(m.group(1)):
                raise CopyFailure("'%s' is not an IAM role ARN" % m.group(1), INVALID_PARAMETER)
            cmd.iam_role = m.group(1)
            i += 1
        elif kw == "region":
            i = opt_as(i)
            cmd.region = need(i, STRING, "a region name").value
            i += 1
        elif kw == "manifest":
            cmd.manifest = True
        elif kw in ("csv", "format"):
            if kw == "format":
                i = opt_as(i)
                f = need(i, IDENT, "a data format")
                i += 1
                if f.value != "csv":
                    if f.value in NOT_IMPLEMENTED_OPTIONS:
                        raise CopyFailure("COPY FORMAT %s is not implemented by the stand-in" % f.text.upper(),
                                          NOT_IMPLEMENTED)
                    raise _syntax(f)
            cmd.csv = True
            if i < n and tokens[i].is_kw("quote"):
                i = opt_as(i + 1)
                cmd.quote = _one_char(need(i, STRING, "a quote character").value, "QUOTE")
                cmd.quote_given = True
                i += 1
        elif kw == "quote":
            i = opt_as(i)
            cmd.quote = _one_char(need(i, STRING, "a quote character").value, "QUOTE")
            cmd.quote_given = True
            i += 1
        elif kw == "delimiter":
            i = opt_as(i)
            cmd.delimiter = _one_char(_unescape_char(need(i, STRING, "a delimiter").value), "DELIMITER")
            i += 1
        elif kw == "gzip":
            cmd.gzip = True
        elif kw == "maxerror":
            i = opt_as(i)
            v = need(i, NUMBER, "a number").text
            if not v.isdigit() or int(v) > 100000:
                raise CopyFailure("MAXERROR must be an integer from 0 to 100000, not %s" % v, INVALID_PARAMETER)
            cmd.maxerror = int(v)
            i += 1
        elif kw in ("compupdate", "statupdate"):
            if i < n and tokens[i].is_kw("on", "off", "true", "false", "preset"):
                i += 1
        elif kw == "timeformat":
            i = opt_as(i)
            cmd.timeformat = need(i, STRING, "a time format").value
            if cmd.timeformat.lower() not in ("epochmillisecs", "epochsecs", "auto", "yyyy-mm-dd hh:mi:ss"):
                raise CopyFailure("TIMEFORMAT '%s' is not implemented by the stand-in (epochmillisecs, epochsecs, "
                                  "auto and 'YYYY-MM-DD HH:MI:SS' are)" % cmd.timeformat, NOT_IMPLEMENTED)
            i += 1
        elif kw == "dateformat":
            i = opt_as(i)
            cmd.dateformat = need(i, STRING, "a date format").value
            if cmd.dateformat.lower() not in ("auto", "yyyy-mm-dd"):
                raise CopyFailure("DATEFORMAT '%s' is not implemented by the stand-in" % cmd.dateformat,
                                  NOT_IMPLEMENTED)
            i += 1
        elif kw == "emptyasnull":
            cmd.emptyasnull = True
        elif kw == "blanksasnull":
            cmd.blanksasnull = True
        elif kw == "acceptinvchars":
            i = opt_as(i)
            cmd.acceptinvchars = "?"
            if i < n and tokens[i].kind == STRING:
                cmd.acceptinvchars = _one_char(tokens[i].value, "ACCEPTINVCHARS")
                i += 1
        elif kw == "ignoreheader":
            i = opt_as(i)
            cmd.ignoreheader = int(need(i, NUMBER, "a number").text)
            i += 1
        elif kw in NOT_IMPLEMENTED_OPTIONS:
            raise CopyFailure("COPY option %s is not implemented by the stand-in" % t.text.upper(), NOT_IMPLEMENTED)
        else:
            raise _syntax(t)
    if cmd.iam_role is None:
        raise CopyFailure("COPY from Amazon S3 needs authorization: IAM_ROLE 'arn:aws:iam::<account>:role/<name>'",
                          INVALID_PARAMETER)
    if not cmd.manifest:
        raise CopyFailure("COPY from an S3 key prefix (without MANIFEST) is not implemented by the stand-in",
                          NOT_IMPLEMENTED)
    if not cmd.csv:
        if cmd.quote_given:
            raise CopyFailure("QUOTE can be used only with CSV", INVALID_PARAMETER)
        raise CopyFailure("COPY of delimited text without CSV is not implemented by the stand-in", NOT_IMPLEMENTED)
    if cmd.quote == cmd.delimiter:
        raise CopyFailure("QUOTE and DELIMITER must differ", INVALID_PARAMETER)
    return cmd


def _one_char(v, what):
    if len(v) != 1 or ord(v) > 127 or v in "\n\r\0":
        raise CopyFailure("%s must be a single ASCII character, not '%s'" % (what, v), INVALID_PARAMETER)
    return v


def _unescape_char(v):
    if v == "\\t":
        return "\t"
    m = re.fullmatch(r"\\([0-7]{3})", v)
    return chr(int(m.group(1), 8)) if m else v


# --- the target table ---------------------------------------------------------------------

CATALOG_SQL = """SELECT a.attname, t.typname, a.atttypmod, a.attnotnull, c.relname, c.oid
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = {table}::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"""


@dataclass
class Column:
    name: str
    typname: str
    typmod: int
    notnull: bool

    @property
    def is_char(self):
        return self.typname in ("varchar", "bpchar", "text")

    @property
    def length(self):
        return self.typmod - 4 if self.typname in ("varchar", "bpchar") and self.typmod >= 4 else 0


# --- checking one value -------------------------------------------------------------------

INT_RANGES = {"int2": (-32768, 32767, "Short"), "int4": (-2147483648, 2147483647, "Integer"),
              "int8": (-9223372036854775808, 9223372036854775807, "Long")}
FLOAT_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf|infinity)", re.I)
NUMERIC_RE = re.compile(r"[+-]?(\d*)(\.(\d*))?")
BOOL_VALUES = {"t": "t", "true": "t", "1": "t", "y": "t", "yes": "t",
               "f": "f", "false": "f", "0": "f", "n": "f", "no": "f"}
TS_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?")
TS_AUTO_TZ_RE = re.compile(r"(.*?)(?:\s*(Z|[+-]\d{2}(?::?\d{2})?))?")
DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
EPOCH_RE = re.compile(r"[+-]?\d+(\.\d+)?")
EPOCH = datetime.datetime(1970, 1, 1)


class ValueError_(Exception):
    def __init__(self, code, reason):
        super().__init__(reason)
        self.code, self.reason = code, reason


def check_value(col, v, cmd):
    """v (text, not NULL) for column col -> the text PostgreSQL gets, or raises ValueError_."""
    t = col.typname
    if t in INT_RANGES:
        lo, hi, tname = INT_RANGES[t]
        s = v.strip()
        m = re.fullmatch(r"[+-]?\d+", s)
        if not m:
            pos = next((k for k, ch in enumerate(s) if not (ch.isdigit() or (k == 0 and ch in "+-"))), 0)
            raise ValueError_(1207, "Invalid digit, Value '%s', Pos %d, Type: %s" % (s[pos:pos + 1], pos, tname))
        if not lo <= int(s) <= hi:
            raise ValueError_(1204, "Overflow, Value '%s', Pos 0, Type: %s" % (s, tname))
        return str(int(s))
    if t in ("float4", "float8"):
        s = v.strip()
        if not FLOAT_RE.fullmatch(s):
            raise ValueError_(1207, "Invalid digit, Value '%s', Pos 0, Type: %s" % (s, "Float" if t == "float4"
                                                                                     else "Double"))
        f = float(s)
        if t == "float4" and f == f and abs(f) != float("inf") and abs(f) > 3.4028235e38:
            raise ValueError_(1204, "Overflow, Value '%s', Pos 0, Type: Float" % s)
        return s
    if t == "numeric":
        s = v.strip()
        m = NUMERIC_RE.fullmatch(s)
        if not m or not (m.group(1) or m.group(3)):
            raise ValueError_(1207, "Invalid digit, Value '%s', Pos 0, Type: Decimal" % s)
        if col.typmod >= 4:
            p, sc = ((col.typmod - 4) >> 16) & 0xFFFF, (col.typmod - 4) & 0xFFFF
            if len(m.group(1).lstrip("0")) > p - sc:
                raise ValueError_(1204, "Overflow for NUMERIC(%d,%d), Value '%s'" % (p, sc, s))
        return s
    if t == "bool":
        b = BOOL_VALUES.get(v.strip().lower())
        if b is None:
            raise ValueError_(1210, "Invalid boolean format, Value '%s'" % v)
        return b
    if t in ("timestamp", "timestamptz"):
        return _check_timestamp(v.strip(), t == "timestamptz", cmd)
    if t == "date":
        m = DATE_RE.fullmatch(v.strip())
        if not m or not _valid_date(*map(int, m.groups())):
            raise ValueError_(1205, "Invalid Date Format - length must be 10 or more, Value '%s'" % v
                              if len(v.strip()) < 10 else "Invalid date format, Value '%s'" % v)
        return v.strip()
    if t in ("varchar", "bpchar") and col.length:
        if len(v.encode("utf-8")) > col.length:
            raise ValueError_(1204, "String length exceeds DDL length")
    return v


def _valid_date(y, m, d):
    try:
        datetime.date(y, m, d)
        return True
    except ValueError:
        return False


def _check_timestamp(s, with_tz, cmd):
    fmt = (cmd.timeformat or "").lower()
    if fmt in ("epochmillisecs", "epochsecs"):
        if not EPOCH_RE.fullmatch(s):
            raise ValueError_(1206, "Invalid timestamp format or value [%s], Value '%s'" % (fmt, s))
        scale = 1000.0 if fmt == "epochmillisecs" else 1.0
        try:
            ts = EPOCH + datetime.timedelta(seconds=float(s) / scale)
        except OverflowError:
            raise ValueError_(1206, "Invalid timestamp format or value [%s], Value '%s'" % (fmt, s))
        return ts.isoformat(sep=" ") + ("+00" if with_tz else "")
    tz = ""
    if fmt == "auto" or with_tz:
        m = TS_AUTO_TZ_RE.fullmatch(s)
        s, tz = m.group(1), m.group(2) or ""
    m = TS_RE.fullmatch(s)
    if not m or (" " not in s and "T" in s and fmt != "auto"):
        raise ValueError_(1206, "Invalid timestamp format or value [YYYY-MM-DD HH24:MI:SS], Value '%s'" % s)
    y, mo, d, h, mi, sec, frac = m.groups()
    try:
        datetime.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0))
    except ValueError:
        raise ValueError_(1206, "Invalid timestamp format or value [YYYY-MM-DD HH24:MI:SS], Value '%s'" % s)
    return s.replace("T", " ") + (tz if with_tz else "")


# --- CSV ----------------------------------------------------------------------------------

class RecordError(Exception):
    def __init__(self, code, reason, position=0):
        super().__init__(reason)
        self.code, self.reason, self.position = code, reason, position


def parse_csv(data, delim, quote):
    """Yields (line_number, raw_bytes, fields or RecordError) for each record of data (bytes).
    A field is (value_bytes, quoted, byte_offset_in_record)."""
    d, q = delim.encode(), quote.encode()
    n, p, line = len(data), 0, 1
    while p < n:
        start, start_line = p, line
        eol = data.find(b"\n", p)
        eol = n if eol < 0 else eol
        if data.find(q, p, eol) < 0:  # the common case: no quoting in this line
            rec = data[p:eol]
            raw = rec[:-1] if rec.endswith(b"\r") else rec
            fields, off = [], 0
            for part in raw.split(d):
                fields.append((part, False, off))
                off += len(part) + 1
            yield line, raw, fields
            p, line = eol + 1, line + 1
            continue
        fields, err = [], None
        while True:
            fstart = p
            k = p
            while k < n and data[k:k + 1] in (b" ", b"\t") and data[k:k + 1] != d:
                k += 1
            if k < n and data[k:k + 1] == q:
                k += 1
                buf = bytearray()
                while True:
                    j = data.find(q, k)
                    if j < 0:
                        err = RecordError(1214, "Unterminated quoted field", fstart - start)
                        line += data.count(b"\n", k, n)
                        p = n
                        break
                    buf += data[k:j]
                    line += data.count(b"\n", k, j)
                    if data[j + 1:j + 2] == q:
                        buf += q
                        k = j + 2
                        continue
                    k = j + 1
                    break
                if err:
                    break
                while k < n and data[k:k + 1] in (b" ", b"\t") and data[k:k + 1] != d:
                    k += 1
                fields.append((bytes(buf), True, fstart - start))
                nxt = data[k:k + 1]
                if nxt == d:
                    p = k + 1
                    continue
                if nxt == b"\r" and data[k + 1:k + 2] == b"\n":
                    k += 1
                    nxt = b"\n"
                if nxt in (b"\n", b""):
                    p = k + 1
                    line += 1 if nxt == b"\n" else 0
                    break
                err = RecordError(1216, "Invalid quote formatting for CSV", k - start)
                e = data.find(b"\n", k)
                p = n if e < 0 else e + 1
                line += 1
                break
            j = p
            while j < n and data[j:j + 1] not in (d, b"\n"):
                j += 1
            val = data[p:j]
            if j >= n or data[j:j + 1] == b"\n":
                if val.endswith(b"\r"):
                    val = val[:-1]
                fields.append((val, False, fstart - start))
                p = j + 1
                line += 1
                break
            fields.append((val, False, fstart - start))
            p = j + 1
        raw = data[start:p]
        raw = raw[:-1] if raw.endswith(b"\n") else raw
        yield start_line, raw, (err if err else fields)


# --- the load ----------------------------------------------------------------------------

@dataclass
class LoadError:
    filename: str
    line_number: int
    colname: str
    type: str
    col_length: str
    position: int
    raw_line: str
    raw_field_value: str
    err_code: int
    err_reason: str


@dataclass
class LoadOutcome:
    table: str
    loaded: int
    errors: list
    query_id: int
    tag: str


def failed_message(table):
    return "Load into table '%s' failed.  Check 'stl_load_errors' system table for details." % table


def _decode(b, cmd):
    try:
        return b.decode("utf-8"), None
    except UnicodeDecodeError as e:
        if cmd.acceptinvchars is None:
            return None, e
        s = b.decode("utf-8", "surrogateescape")
        return "".join(cmd.acceptinvchars if 0xDC80 <= ord(ch) <= 0xDCFF else ch for ch in s), None


def read_manifest(s3, cmd):
    loc = s3client.parse_s3_url(cmd.url)
    if not loc:
        raise CopyFailure("Manifest URL '%s' must be s3://bucket/key" % cmd.url, INVALID_PARAMETER)
    try:
        body = s3.get(*loc)
    except s3client.S3Error as e:
        raise CopyFailure("Problem reading manifest file - S3ServiceException:%s,Status %s,Error %s"
                          % (e.message, e.status, e.code))
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CopyFailure("Manifest file is not in correct json format", detail=str(e))
    entries = doc.get("entries") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise CopyFailure("Manifest file is not valid: it has no \"entries\" list")
    out = []
    for k, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("url"), str) or not s3client.parse_s3_url(e["url"]):
            raise CopyFailure("Manifest file is not valid: entry %d has no \"url\" of the form s3://bucket/key" % k)
        mandatory = e.get("mandatory", False)
        if not isinstance(mandatory, bool):
            raise CopyFailure("Manifest file is not valid: \"mandatory\" of %s is not true or false" % e["url"])
        length = None
        meta = e.get("meta")
        if meta is not None:
            if not isinstance(meta, dict) or ("content_length" in meta and (
                    not isinstance(meta["content_length"], int) or isinstance(meta["content_length"], bool))):
                raise CopyFailure("Manifest file is not valid: \"meta\" of %s needs an integer content_length"
                                  % e["url"])
            length = meta.get("content_length")
        out.append((e["url"], mandatory, length))
    return out


def prepare_rows(cmd, columns, parts, errors, log):
    """Checks every record of every part; returns the good rows, CSV-encoded for PostgreSQL."""
    good = []
    ncol = len(columns)
    for url, data in parts:
        skip = cmd.ignoreheader
        for line_no, raw, fields in parse_csv(data, cmd.delimiter, cmd.quote):
            if skip:
                skip -= 1
                continue
            raw_text = raw.decode("utf-8", "replace")

            def fail(code, reason, col=None, position=0, value=""):
                errors.append(LoadError(url, line_no, col.name if col else "", col.typname if col else "",
                                        str(col.length) if col else "0", position, raw_text, value, code, reason))

            if isinstance(fields, RecordError):
                fail(fields.code, fields.reason, position=fields.position)
                continue
            if len(fields) < ncol:
                fail(1214, "Delimiter not found", columns[len(fields)], len(raw))
                continue
            if len(fields) > ncol:
                fail(1202, "Extra column(s) found", position=fields[ncol][2])
                continue
            out, ok = [], True
            for col, (b, quoted, off) in zip(columns, fields):
                v, derr = _decode(b, cmd)
                if derr is not None:
                    fail(1220, "String contains invalid or unsupported UTF8 codepoints. Bad UTF8 hex sequence: %s"
                         % b[derr.start:derr.start + 1].hex(), col, off + derr.start, b.decode("utf-8", "replace"))
                    ok = False
                    break
                if "\0" in v:
                    fail(1220, "String contains invalid or unsupported UTF8 codepoints (NUL)", col, off, v)
                    ok = False
                    break
                if col.is_char:
                    if not quoted and v == "" and cmd.emptyasnull:
                        v = None
                    elif not quoted and v != "" and v.strip() == "" and cmd.blanksasnull:
                        v = None
                elif v.strip() == "":
                    v = None
                if v is None:
                    if col.notnull:
                        fail(1213, "Missing data for not-null field", col, off, "")
                        ok = False
                        break
                    out.append(None)
                    continue
                try:
                    out.append(check_value(col, v, cmd))
                except ValueError_ as e:
                    fail(e.code, e.reason, col, off, v)
                    ok = False
                    break
            if ok:
                good.append(",".join("" if x is None else '"' + x.replace('"', '""') + '"' for x in out) + "\n")
    return good


def fetch_parts(s3, cmd, entries, log):
    """[(url, data)] of the entries that exist, gunzipped when GZIP."""
    parts = []
    for url, mandatory, length in entries:
        try:
            data = s3.get(*s3client.parse_s3_url(url))
        except s3client.S3Error as e:
            if e.status == 404:
                if mandatory:
                    raise CopyFailure("Mandatory url is not present in manifest file.",
                                      detail="The manifest lists %s as mandatory and it does not exist." % url)
                log("manifest entry %s does not exist and is not mandatory: skipped" % url)
                continue
            raise CopyFailure("S3ServiceException:%s,Status %s,Error %s" % (e.message, e.status, e.code),
                              detail="reading %s" % url)
        if length is not None and length != len(data):
            raise CopyFailure("Manifest entry %s has content_length %d but the object has %d bytes"
                              % (url, length, len(data)))
        if cmd.gzip:
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as e:
                raise CopyFailure("gzip: %s is not a valid gzip file (%s)" % (url, e))
        parts.append((url, data))
    if not parts:
        raise CopyFailure("The manifest %s lists no file that exists" % cmd.url)
    return parts


def resolve_columns(cmd, catalog_rows):
    """Catalog rows -> (relname, oid, [Column] in load order)."""
    relname, oid = catalog_rows[0][4], int(catalog_rows[0][5])
    all_cols = [Column(r[0], r[1], int(r[2]), r[3] == "t") for r in catalog_rows]
    if cmd.columns is None:
        return relname, oid, all_cols
    by_name = {c.name: c for c in all_cols}
    out = []
    for name in cmd.columns:
        if name not in by_name:
            raise CopyFailure('column "%s" of relation "%s" does not exist' % (name, relname), "42703")
        out.append(by_name[name])
    return relname, oid, out


def copy_from_stdin_sql(cmd, columns):
    return "COPY %s (%s) FROM STDIN WITH (FORMAT csv)" % (cmd.table, ", ".join(quote_ident(c.name) for c in columns))


def catalog_sql(cmd):
    return CATALOG_SQL.format(table=quote_literal(cmd.table))
