#!/usr/bin/env node
// The benchmark's DuckDB case: the data set's local files read with read_json into a fresh DuckDB
// database file and the five star tables built from them, with the SQL in sql/bench/duckdb_*.sql.
// DuckDB is @duckdb/node-api, installed into .tools/ by scripts/setup (a prebuilt engine). It
// reads local files only; bench/run times this process end to end.
//
//   node bench/duckdb_load.mjs --sql SQL_DIR --data DATA_DIR --db FILE [--threads N]
//       loads DATA_DIR/song_data/**/*.json and DATA_DIR/log_data/**/*.json into FILE (which must
//       not exist yet) and closes it (DuckDB writes its log into the file on close); prints
//       {"phases": [[name, seconds]...], "threads": n, "version": "..."} on stdout
//   node bench/duckdb_load.mjs --sql SQL_DIR --db FILE --counts
//       prints the star tables' row counts (sql/bench/star_rows.sql) as {"counts": {figure: n}}
//
// SQL_DIR is the sql/ folder (the harness passes its copy). Exit code 0 on success, 1 when DuckDB
// fails (its message on stderr), 2 on a usage error.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.LOADSTAR_TOOLS_DIR || path.join(here, '..', '.tools');
const require = createRequire(path.join(toolsDir, 'package.json'));
let duckdb;
try {
  duckdb = require('@duckdb/node-api');
} catch (e) {
  process.stderr.write(`cannot load @duckdb/node-api from ${toolsDir} (run scripts/setup): ${e.message}\n`);
  process.exit(2);
}

function usage(message) {
  process.stderr.write(`${message}\nusage: duckdb_load.mjs --sql DIR --data DIR --db FILE [--threads N] | ` +
                       '--sql DIR --db FILE --counts\n');
  process.exit(2);
}

const opts = { sql: '', data: '', db: '', threads: '', counts: false };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; ++i) {
  const a = args[i];
  if (a === '--counts') opts.counts = true;
  else if (['--sql', '--data', '--db', '--threads'].includes(a)) {
    const v = args[++i];
    if (v === undefined || v === '') usage(`${a} needs a value`);
    opts[a.slice(2)] = v;
  } else usage(`unexpected argument ${a}`);
}
if (!opts.sql || !opts.db) usage('--sql and --db are needed');
if (!opts.counts && !opts.data) usage('--data is needed to load');
if (opts.threads && !/^[1-9][0-9]*$/.test(opts.threads)) usage('--threads takes a whole number');

const literal = (s) => `'${String(s).replaceAll("'", "''")}'`;

// sql/bench/NAME.sql with its {{key}} placeholders substituted; a placeholder left is an error.
function render(name, values = {}) {
  let text = fs.readFileSync(path.join(opts.sql, 'bench', `${name}.sql`), 'utf8');
  for (const [key, value] of Object.entries(values)) text = text.replaceAll(`{{${key}}}`, value);
  const left = text.match(/\{\{(\w+)\}\}/);
  if (left) throw new Error(`sql/bench/${name}.sql: no value for {{${left[1]}}}`);
  return text;
}

async function main() {
  if (!opts.counts && fs.existsSync(opts.db)) usage(`${opts.db} exists: the load starts from an empty database`);
  if (opts.counts && !fs.existsSync(opts.db)) usage(`${opts.db} does not exist: load it first`);
  const config = opts.threads ? { threads: opts.threads } : {};
  const instance = await duckdb.DuckDBInstance.create(opts.db, config);
  const conn = await instance.connect();
  try {
    if (opts.counts) {
      const reader = await conn.runAndReadAll(render('star_rows'));
      const counts = {};
      for (const [figure, n] of reader.getRowsJson()) counts[figure] = Number(n);
      process.stdout.write(JSON.stringify({ counts }) + '\n');
      return;
    }
    const data = path.resolve(opts.data);
    const values = {
      songs_glob: literal(path.join(data, 'song_data', '**', '*.json')),
      events_glob: literal(path.join(data, 'log_data', '**', '*.json')),
    };
    const phases = [];
    const timed = async (name, fn) => {
      const start = process.hrtime.bigint();
      await fn();
      phases.push([name, Number(process.hrtime.bigint() - start) / 1e9]);
    };
    await timed('read_json into staging tables', () => conn.run(render('duckdb_stage', values)));
    await timed('star tables (CREATE TABLE AS SELECT DISTINCT ON)', () => conn.run(render('duckdb_star')));
    const settings = await conn.runAndReadAll("SELECT current_setting('threads')::VARCHAR, version()");
    const [threads, version] = settings.getRowsJson()[0];
    await timed('close (checkpoint into the database file)', async () => {
      conn.closeSync();
      instance.closeSync();
    });
    process.stdout.write(JSON.stringify({ phases, threads: Number(threads), version }) + '\n');
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

main().catch((e) => {
  process.stderr.write(`duckdb_load: ${e.message}\n`);
  process.exit(1);
});
