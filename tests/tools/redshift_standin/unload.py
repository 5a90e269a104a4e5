"""UNLOAD ('SELECT ...') TO 's3://bucket/prefix' ... FORMAT PARQUET: what the stand-in writes itself.

The options are parsed from tokens and checked as r_UNLOAD states them; the query runs on the
client's own connection (its session, search_path and transaction, so a failure aborts the
client's transaction as Redshift's does); its rows are grouped into Hive-style partition folders
when PARTITION BY is given (the partition columns left out of the files unless INCLUDE, NULL as
__HIVE_DEFAULT_PARTITION__) and written as Parquet by DuckDB (unload_parquet.mjs, @duckdb/node-api
from .tools/), then uploaded to the local S3 server with the stand-in's S3 client, with the
manifest (MANIFEST [VERBOSE]) in Redshift's JSON form. Only Parquet is implemented.
"""

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field

import s3client
import sqltok
from copyload import CopyFailure, INVALID_PARAMETER, NOT_IMPLEMENTED, ROLE_ARN, SYNTAX_ERROR
from sqltok import IDENT, NUMBER, QIDENT, STRING

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERTER = os.path.join(HERE, "unload_parquet.mjs")
DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
MAX_FILE_SIZE = int(6.2 * 1024 ** 3)  # r_UNLOAD: the default and the largest
MIN_FILE_SIZE = 5 * 1024 ** 2

# Options of other formats, which r_UNLOAD says PARQUET cannot be used with.
NOT_WITH_PARQUET = {"delimiter", "fixedwidth", "addquotes", "escape", "null", "header", "gzip", "bzip2", "zstd"}
# Valid Redshift options the stand-in does not implement.
NOT_IMPLEMENTED_OPTIONS = {"encrypted", "kms_key_id", "master_symmetric_key", "rowgroupsize", "extension",
                           "access_key_id", "secret_access_key", "session_token"}
# r_UNLOAD: the types a partition column may have (here with PostgreSQL's names; text stands for
# VARCHAR, which Redshift uses for it).
PARTITION_TYPES = {"int2", "int4", "int8", "numeric", "float4", "bool", "bpchar", "varchar", "text", "date",
                   "timestamp"}
# PostgreSQL type -> the DuckDB type its Parquet column is written as.
DUCKDB_TYPES = {"int2": "SMALLINT", "int4": "INTEGER", "int8": "BIGINT", "float4": "FLOAT", "float8": "DOUBLE",
                "bool": "BOOLEAN", "bpchar": "VARCHAR", "varchar": "VARCHAR", "text": "VARCHAR", "date": "DATE",
                "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMP"}
# The manifest's "base" type names (r_UNLOAD_command_examples, MANIFEST VERBOSE).
REDSHIFT_TYPES = {"int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real",
                  "float8": "double precision", "bool": "boolean", "bpchar": "character", "varchar": "character varying",
                  "text": "character varying", "date": "date", "timestamp": "timestamp without time zone",
                  "timestamptz": "timestamp with time zone", "numeric": "numeric"}
# Characters Hive escapes in a partition folder's value (%XX).
HIVE_ESCAPED = set('"#%\'*/:=?\\[]^{') | {chr(c) for c in range(0x20)} | {"\x7f"}


@dataclass
class UnloadCommand:
    query: str
    url: str
    iam_role: str = None
    region: str = None
    parquet: bool = False
    text_format: str = None      # CSV or JSON, which the stand-in does not write
    partition_by: list = field(default_factory=list)
    include: bool = False
    manifest: bool = False
    verbose: bool = False
    allowoverwrite: bool = False
    cleanpath: bool = False
    parallel: bool = True
    max_file_size: int = MAX_FILE_SIZE
    options_seen: list = field(default_factory=list)


def _syntax(tok):
    return CopyFailure('syntax error at or near "%s"' % tok.text, SYNTAX_ERROR)


def parse_unload(tokens):
    """tokens of "UNLOAD ('select') TO 's3://...' options..." -> UnloadCommand."""
    n = len(tokens)
    if n < 6 or not tokens[1].is_op("(") or tokens[2].kind != STRING or not tokens[3].is_op(")"):
        raise CopyFailure("UNLOAD needs its query as a quoted string in parentheses: UNLOAD ('select ...')",
                          SYNTAX_ERROR)
    if not tokens[4].is_kw("to"):
        raise _syntax(tokens[4])
    if tokens[5].kind != STRING:
        raise _syntax(tokens[5])
    cmd = UnloadCommand(query=tokens[2].value, url=tokens[5].value)
    i = 6

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
            if not m or not ROLE_ARN.fullmatch(m.group(1)):
                raise CopyFailure("CREDENTIALS other than 'aws_iam_role=<ARN>' are not implemented by the stand-in",
                                  NOT_IMPLEMENTED)
            cmd.iam_role = m.group(1)
            i += 1
        elif kw == "region":
            i = opt_as(i)
            cmd.region = need(i, STRING, "a region name").value
            i += 1
        elif kw in ("format", "parquet", "csv", "json"):
            if kw == "format":
                i = opt_as(i)
                f = need(i, IDENT, "a format")
                i += 1
                kw = f.value
                if kw not in ("parquet", "csv", "json"):
                    raise _syntax(f)
            if kw == "parquet":
                cmd.parquet = True
            else:
                cmd.text_format = kw.upper()
        elif kw == "partition":
            if i >= n or not tokens[i].is_kw("by"):
                raise _syntax(tokens[i] if i < n else t)
            i += 1
            if i >= n or not tokens[i].is_op("("):
                raise CopyFailure("PARTITION BY needs a list of columns in parentheses", SYNTAX_ERROR)
            close = sqltok.matching_paren(tokens, i)
            for p in tokens[i + 1:close]:
                if p.kind in (IDENT, QIDENT):
                    cmd.partition_by.append(p.value)
                elif p.kind == STRING:
                    raise CopyFailure("string literals are not supported in PARTITION BY", INVALID_PARAMETER)
                elif not p.is_op(","):
                    raise _syntax(p)
            if not cmd.partition_by:
                raise CopyFailure("PARTITION BY needs at least one column", SYNTAX_ERROR)
            i = close + 1
            if i < n and tokens[i].is_kw("include"):
                cmd.include = True
                i += 1
        elif kw == "manifest":
            cmd.manifest = True
            if i < n and tokens[i].is_kw("verbose"):
                cmd.verbose = True
                i += 1
        elif kw == "verbose":
            raise CopyFailure("VERBOSE can only follow MANIFEST", SYNTAX_ERROR)
        elif kw == "allowoverwrite":
            cmd.allowoverwrite = True
        elif kw == "cleanpath":
            cmd.cleanpath = True
        elif kw == "parallel":
            if i < n and tokens[i].is_kw("on", "true"):
                i += 1
            elif i < n and tokens[i].is_kw("off", "false"):
                cmd.parallel = False
                i += 1
        elif kw == "maxfilesize":
            i = opt_as(i)
            v = need(i, NUMBER, "a size").text
            i += 1
            unit = "mb"
            if i < n and tokens[i].is_kw("mb", "gb"):
                unit = tokens[i].value
                i += 1
            size = float(v) * (1024 ** 3 if unit == "gb" else 1024 ** 2)
            if size < MIN_FILE_SIZE or size > MAX_FILE_SIZE:
                raise CopyFailure("MAXFILESIZE must be between 5 MB and 6.2 GB, not %s %s" % (v, unit.upper()),
                                  INVALID_PARAMETER)
            cmd.max_file_size = int(size)
        elif kw in NOT_WITH_PARQUET:
            # The text formats' options: valid Redshift, but not with PARQUET, the only format here.
            if kw == "null":
                i = opt_as(i)
                if i < n and tokens[i].kind == STRING:
                    i += 1
            elif kw in ("delimiter", "fixedwidth"):
                i = opt_as(i)
                if i < n and tokens[i].kind == STRING:
                    i += 1
        elif kw in NOT_IMPLEMENTED_OPTIONS:
            raise CopyFailure("UNLOAD option %s is not implemented by the stand-in" % t.text.upper(), NOT_IMPLEMENTED)
        else:
            raise _syntax(t)

    if cmd.iam_role is None:
        raise CopyFailure("UNLOAD to Amazon S3 needs authorization: IAM_ROLE 'arn:aws:iam::<account>:role/<name>'",
                          INVALID_PARAMETER)
    if cmd.allowoverwrite and cmd.cleanpath:
        raise CopyFailure("CLEANPATH cannot be used with ALLOWOVERWRITE", INVALID_PARAMETER)
    if cmd.parquet:
        bad = [o.upper() for o in cmd.options_seen if o in NOT_WITH_PARQUET]
        if bad:
            raise CopyFailure("PARQUET cannot be used with %s" % ", ".join(bad), INVALID_PARAMETER)
        if cmd.text_format:
            raise CopyFailure("only one format can be given", INVALID_PARAMETER)
    else:
        raise CopyFailure("UNLOAD to %s is not implemented by the stand-in (only FORMAT PARQUET is)"
                          % (cmd.text_format or "delimited text"), NOT_IMPLEMENTED)
    if not s3client.parse_s3_url(cmd.url):
        raise CopyFailure("UNLOAD destination must be an Amazon S3 path, s3://bucket/prefix, not '%s'" % cmd.url,
                          INVALID_PARAMETER)
    _check_query(cmd.query)
    return cmd


def _check_query(query):
    """r_UNLOAD: a SELECT (or WITH ... SELECT) with no LIMIT in its outer query."""
    try:
        toks = [t for t in sqltok.tokenize(query) if t.kind not in ("comment", "space")]
    except sqltok.SqlSyntaxError as e:
        raise CopyFailure("the UNLOAD query does not parse: %s" % e, SYNTAX_ERROR)
    toks = [t for t in toks if not t.is_op(";")]
    if not toks or not toks[0].is_kw("select", "with"):
        raise CopyFailure("UNLOAD needs a SELECT query", SYNTAX_ERROR)
    for t, d in zip(toks, sqltok.depths(toks)):
        if d == 0 and t.is_kw("limit"):
            raise CopyFailure("LIMIT is not supported in the outer SELECT of an UNLOAD", NOT_IMPLEMENTED)


def hive_value(value):
    """A partition folder's value: NULL (and '') is the default partition, Hive's characters %XX."""
    if value is None or value == "":
        return DEFAULT_PARTITION
    return "".join("%%%02X" % ord(c) if c in HIVE_ESCAPED else c for c in value)


def _type_names(session, oids):
    rows = session.internal_query("SELECT oid::int4, typname FROM pg_catalog.pg_type WHERE oid IN (%s)"
                                  % ", ".join(str(o) for o in sorted(set(oids)))).rows
    return {int(r[0]): r[1] for r in rows}


def _decimal(typmod):
    if typmod < 4:
        return 18, 0  # Redshift's default NUMERIC
    return ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF


def run_unload(plan, session):
    """Runs the UNLOAD of `plan` for `session`; returns the CommandComplete tag."""
    session.log("UNLOAD: %s" % plan.text[:300])
    cmd = parse_unload(plan.tokens)
    region = cmd.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    try:
        s3 = s3client.S3Client(session.cfg.s3_endpoint, region)
    except ValueError as e:
        raise CopyFailure(str(e))
    bucket, key_prefix = s3client.parse_s3_url(cmd.url) or (None, None)
    if cmd.partition_by and not key_prefix.endswith("/"):
        key_prefix += "/"  # r_UNLOAD: with PARTITION BY the name prefix is a folder

    # The query's columns and types, on the client's connection (its search_path and transaction).
    probe = session.internal_query("SELECT * FROM (%s) AS standin_unload LIMIT 0" % cmd.query)
    names = [d[0] for d in probe.description]
    if len(set(names)) != len(names):
        raise CopyFailure("the UNLOAD query returns two columns of one name", INVALID_PARAMETER)
    typenames = _type_names(session, [d[1] for d in probe.description]) if names else {}
    columns = [(name, typenames.get(oid, "?"), typmod) for name, oid, typmod in probe.description]
    for p in cmd.partition_by:
        if p not in names:
            raise CopyFailure("partition column %s is not in the UNLOAD query's columns" % p, INVALID_PARAMETER)
        typ = dict((c[0], c[1]) for c in columns)[p]
        if typ not in PARTITION_TYPES:
            raise CopyFailure("partition column %s is of type %s, which cannot be a partition key" % (p, typ),
                              INVALID_PARAMETER)
    in_files = [c for c in columns if cmd.include or c[0] not in cmd.partition_by]
    if not in_files:
        raise CopyFailure("an UNLOAD with PARTITION BY needs at least one column that is not a partition column",
                          INVALID_PARAMETER)
    for name, typ, typmod in in_files:
        if typ not in DUCKDB_TYPES and typ != "numeric":
            raise CopyFailure("UNLOAD of a %s column (%s) is not implemented by the stand-in" % (typ, name),
                              NOT_IMPLEMENTED)

    # The rows as text: timestamps in one fixed form, whatever the session's DateStyle.
    def expr(name, typ):
        q = sqltok.quote_ident(name)
        if typ == "timestamp":
            return "to_char(%s, 'YYYY-MM-DD HH24:MI:SS.US')" % q
        if typ == "timestamptz":
            return "to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')" % q
        return "%s::text" % q
    select = "SELECT %s FROM (%s) AS standin_unload" % (", ".join(expr(c[0], c[1]) for c in columns), cmd.query)
    rows = session.internal_query(select).rows if names else []

    # What is there already: refused unless ALLOWOVERWRITE; removed first with CLEANPATH.
    try:
        existing = s3.list(bucket, key_prefix)
    except s3client.S3Error as e:
        raise CopyFailure("S3ServiceException:%s" % e.message)

    part_index = [names.index(p) for p in cmd.partition_by]
    file_index = [names.index(c[0]) for c in in_files]
    groups = {}  # partition folder -> rows, in the query's order
    for r in rows:
        folder = "".join("%s=%s/" % (p, hive_value(r[k])) for p, k in zip(cmd.partition_by, part_index))
        groups.setdefault(folder, []).append([r[k] for k in file_index])

    if existing and not cmd.allowoverwrite:
        if cmd.cleanpath:
            # r_UNLOAD: with PARTITION BY, only the partition folders that receive new files.
            doomed = [k for k in existing
                      if not cmd.partition_by or any(k.startswith(key_prefix + f) for f in groups)]
            for k in doomed:
                s3.delete(bucket, k)
            session.log("UNLOAD CLEANPATH: removed %d object(s) under s3://%s/%s" % (len(doomed), bucket, key_prefix))
        else:
            raise CopyFailure("Specified unload destination on S3 is not empty. Consider using a different bucket / "
                              "prefix, manually removing the target files in S3, or using the ALLOWOVERWRITE option.",
                              detail="s3://%s/%s holds %s" % (bucket, key_prefix, existing[0]))

    # Parts: a file per partition, split where its rows' text passes MAXFILESIZE (Redshift
    # approximates the size too); all from slice 0.
    jobs, entries = [], []
    with tempfile.TemporaryDirectory(prefix="standin-unload-") as tmp:
        for folder in sorted(groups):
            part, size, lines, count = 0, 0, [], 0

            def flush():
                nonlocal part, size, lines, count
                if count == 0:
                    return
                name = ("%03d.parquet" % part) if not cmd.parallel else ("0000_part_%02d.parquet" % part)
                base = os.path.join(tmp, "%d.csv" % len(jobs))
                with open(base, "w", encoding="utf-8", newline="") as f:
                    f.write("".join(lines))
                jobs.append({"csv": base, "parquet": base[:-4] + ".parquet", "key": key_prefix + folder + name,
                             "rows": count})
                part, size, lines, count = part + 1, 0, [], 0

            for values in groups[folder]:
                # CSV for DuckDB: NULL an empty field without quotes, every value quoted (so '' is "").
                lines.append(",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in values) + "\n")
                size += sum(len(v) for v in values if v)
                count += 1
                if size >= cmd.max_file_size:
                    flush()
            flush()

        if jobs:
            spec = {"columns": [{"name": c[0], "type": _duckdb_type(c[1], c[2])} for c in in_files], "jobs": jobs}
            spec_path = os.path.join(tmp, "jobs.json")
            with open(spec_path, "w", encoding="utf-8") as f:
                json.dump(spec, f)
            try:
                done = subprocess.run(["node", CONVERTER, spec_path], capture_output=True, text=True, timeout=300)
            except (OSError, subprocess.TimeoutExpired) as e:
                raise CopyFailure("the stand-in could not run DuckDB (node %s): %s" % (CONVERTER, e))
            if done.returncode != 0:
                raise CopyFailure("the stand-in's Parquet writer failed: %s" % done.stderr.strip()[-1000:])
        try:
            for job in jobs:
                with open(job["parquet"], "rb") as f:
                    body = f.read()
                s3.put(bucket, job["key"], body)
                entries.append({"url": "s3://%s/%s" % (bucket, job["key"]),
                                "meta": {"content_length": len(body), "record_count": job["rows"]}})
            if cmd.manifest:
                s3.put(bucket, key_prefix + "manifest", json.dumps(_manifest(cmd, entries, in_files)).encode())
        except s3client.S3Error as e:
            raise CopyFailure("S3ServiceException:%s" % e.message)

    session.log("UNLOAD to s3://%s/%s: %d row(s) in %d file(s)%s" % (
        bucket, key_prefix, len(rows), len(entries), ", with a manifest" if cmd.manifest else ""))
    session.send_notice("UNLOAD completed, %d record(s) unloaded successfully." % len(rows))
    return "UNLOAD"


def _duckdb_type(typ, typmod):
    if typ == "numeric":
        precision, scale = _decimal(typmod)
        return "DECIMAL(%d,%d)" % (min(max(precision, 1), 38), scale)
    return DUCKDB_TYPES[typ]


def _manifest(cmd, entries, columns):
    """r_UNLOAD_command_examples: entries with url (and, VERBOSE, meta), schema, meta, author."""
    if not cmd.verbose:
        return {"entries": [{"url": e["url"]} for e in entries]}
    elements = []
    for name, typ, typmod in columns:
        t = {"base": REDSHIFT_TYPES.get(typ, typ)}
        if typ in ("varchar", "bpchar") and typmod >= 4:
            t["length"] = typmod - 4
        if typ == "numeric":
            t["precision"], t["scale"] = _decimal(typmod)
        elements.append({"name": name, "type": t})
    return {
        "entries": entries,
        "schema": {"elements": elements},
        "meta": {"content_length": sum(e["meta"]["content_length"] for e in entries),
                 "record_count": sum(e["meta"]["record_count"] for e in entries)},
        "author": {"name": "Amazon Redshift", "version": "1.0.0"},
    }
