#!/usr/bin/env node
// Reads Parquet with DuckDB (@duckdb/node-api, installed into .tools/ by scripts/setup) and prints
// what it finds as one JSON document on stdout: an independent reader for the tests of loadstar's
// Parquet writer and of `loadstar export`.
//
//   node tests/tools/parquet_read.mjs FILE.parquet
//   node tests/tools/parquet_read.mjs --hive FOLDER      every *.parquet under FOLDER, with
//                                                        hive_partitioning=true
//   node tests/tools/parquet_read.mjs --write FILE.parquet --sql 'SELECT ...'
//                                                        DuckDB writes the SELECT's rows to FILE
//                                                        (for tests that need a file it made)
//
// Output: {"columns": [{"name", "type"}...], "rows": [[...]...]} plus, for one file,
// "schema" (parquet_schema: each element's name, type, repetition_type, converted_type,
// logical_type) and "row_groups" (parquet_metadata: per row group, per column, its num_values
// and statistics as DuckDB reads them). Values keep their exact text: integers as decimal strings,
// doubles as the shortest text that reads back as the same double ("NaN", "Infinity",
// "-Infinity", "-0"), timestamps as microseconds since 1970-01-01 00:00:00 (a decimal string),
// booleans as "true"/"false", strings as they are, NULL as null. Rows come in file order (for a
// folder: by file name, then row), or as ORDER BY says with --order-by 'col, ...'.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.LOADSTAR_TOOLS_DIR || path.join(here, '..', '..', '.tools');
const require = createRequire(path.join(toolsDir, 'package.json'));
let duckdb;
try {
  duckdb = require('@duckdb/node-api');
} catch (e) {
  process.stderr.write(`cannot load @duckdb/node-api from ${toolsDir} (run scripts/setup): ${e.message}\n`);
  process.exit(2);
}

function usage(message) {
  process.stderr.write(`${message}\nusage: parquet_read.mjs [--hive] [--order-by COLS] PATH | --write FILE --sql SELECT\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let hive = false;
let orderBy = '';
let write = '';
let sql = '';
let target = '';
for (let i = 0; i < args.length; ++i) {
  if (args[i] === '--hive') hive = true;
  else if (args[i] === '--order-by') orderBy = args[++i] ?? usage('--order-by needs columns');
  else if (args[i] === '--write') write = args[++i] ?? usage('--write needs a file');
  else if (args[i] === '--sql') sql = args[++i] ?? usage('--sql needs a SELECT');
  else if (target === '') target = args[i];
  else usage(`unexpected argument ${args[i]}`);
}

const quote = (s) => `'${String(s).replaceAll("'", "''")}'`;
const ident = (s) => `"${String(s).replaceAll('"', '""')}"`;

function doubleText(v) {
  if (v === null || v === undefined) return null;
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return String(v);
}

async function rowsOf(connection, query) {
  const reader = await connection.runAndReadAll(query);
  return { names: reader.columnNames(), types: reader.columnTypes().map(String), rows: reader.getRows() };
}

function plain(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return doubleText(v);
  return String(v);
}

const instance = await duckdb.DuckDBInstance.create(':memory:');
const connection = await instance.connect();
try {
  if (write !== '') {
    if (sql === '') usage('--write needs --sql');
    await connection.run(`COPY (${sql}) TO ${quote(write)} (FORMAT parquet)`);
    process.stdout.write('{}\n');
    process.exit(0);
  }
  if (target === '') usage('name a Parquet file or, with --hive, a folder');
  const source = hive
    ? `read_parquet(${quote(path.join(target, '**', '*.parquet'))}, hive_partitioning = true, filename = true)`
    : `read_parquet(${quote(target)}, hive_partitioning = false)`;

  // The columns and their types, then every value as text of its own kind.
  const described = await rowsOf(connection, `DESCRIBE SELECT * FROM ${source}`);
  const columns = described.rows
    .map((r) => ({ name: String(r[0]), type: String(r[1]) }))
    .filter((c) => c.name !== 'filename');
  const select = columns.map((c) => {
    const q = ident(c.name);
    if (c.type.startsWith('TIMESTAMP')) return `CAST(epoch_us(${q}) AS VARCHAR) AS ${q}`;
    if (c.type === 'DOUBLE' || c.type === 'FLOAT') return `${q}`;
    if (c.type === 'BOOLEAN') return `CASE WHEN ${q} THEN 'true' WHEN NOT ${q} THEN 'false' END AS ${q}`;
    return `CAST(${q} AS VARCHAR) AS ${q}`;
  });
  // The order is decided on the columns' own types (a row number), not on their text.
  const order = orderBy !== '' ? orderBy : hive ? 'filename, file_row_number' : 'file_row_number';
  const fileSource = hive
    ? `read_parquet(${quote(path.join(target, '**', '*.parquet'))}, hive_partitioning = true, filename = true, file_row_number = true)`
    : `read_parquet(${quote(target)}, hive_partitioning = false, file_row_number = true)`;
  const data = await rowsOf(connection,
    `SELECT ${select.join(', ')} FROM (SELECT *, row_number() OVER (ORDER BY ${order}) AS parquet_read_order FROM ${fileSource}) ORDER BY parquet_read_order`);
  const out = { columns, rows: data.rows.map((r) => r.map(plain)) };

  if (!hive) {
    const schema = await rowsOf(connection, `SELECT name, type, repetition_type, converted_type, logical_type, num_children FROM parquet_schema(${quote(target)})`);
    out.schema = schema.rows.map((r) => Object.fromEntries(schema.names.map((n, i) => [n, plain(r[i])])));
    const meta = await rowsOf(connection,
      `SELECT row_group_id, row_group_num_rows, path_in_schema, num_values, stats_min_value, stats_max_value, stats_null_count
       FROM parquet_metadata(${quote(target)}) ORDER BY row_group_id, column_id`);
    const groups = [];
    for (const r of meta.rows) {
      const g = Number(r[0]);
      while (groups.length <= g) groups.push({ rows: null, columns: [] });
      groups[g].rows = plain(r[1]);
      groups[g].columns.push({ name: plain(r[2]), num_values: plain(r[3]), min: plain(r[4]), max: plain(r[5]), null_count: plain(r[6]) });
    }
    out.row_groups = groups;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
