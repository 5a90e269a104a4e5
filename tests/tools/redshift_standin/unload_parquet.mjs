#!/usr/bin/env node
// The Redshift stand-in's Parquet writer for UNLOAD (unload.py): DuckDB (@duckdb/node-api, from
// .tools/ as scripts/setup installs it) turns each CSV part into a Parquet file.
//
//   node unload_parquet.mjs JOBS.json
//
// JOBS.json: {"columns": [{"name", "type": DuckDB type}...], "jobs": [{"csv", "parquet"}...]}.
// Each CSV has no header, every value quoted and NULL as an empty unquoted field; the Parquet file
// gets the columns with those types, Snappy-compressed as Redshift writes it.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.LOADSTAR_TOOLS_DIR || path.join(here, '..', '..', '..', '.tools');
let duckdb;
try {
  duckdb = createRequire(path.join(toolsDir, 'package.json'))('@duckdb/node-api');
} catch (e) {
  process.stderr.write(`cannot load @duckdb/node-api from ${toolsDir} (run scripts/setup): ${e.message}\n`);
  process.exit(2);
}

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const quote = (s) => `'${String(s).replaceAll("'", "''")}'`;
const columns = '{' + spec.columns.map((c) => `${quote(c.name)}: ${quote(c.type)}`).join(', ') + '}';

const instance = await duckdb.DuckDBInstance.create(':memory:');
const connection = await instance.connect();
try {
  for (const job of spec.jobs) {
    await connection.run(
      `COPY (SELECT * FROM read_csv(${quote(job.csv)}, columns = ${columns}, header = false, auto_detect = false,
               delim = ',', quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false,
               timestampformat = '%Y-%m-%d %H:%M:%S.%f', strict_mode = true))
       TO ${quote(job.parquet)} (FORMAT parquet, COMPRESSION snappy)`);
  }
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
