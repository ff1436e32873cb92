// A batch's face rows written out: CSV (one probability column per class, as `ferkit predict
// --csv`), JSON lines (probabilities as an object) or Parquet (hyparquet-writer, row groups
// written as they fill). Rows stream from SQLite, so memory stays bounded however large the batch.
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { BatchDb, ResultRow } from './db.js';
import { probabilitiesOf } from './db.js';

export type ExportFormat = 'csv' | 'jsonl' | 'parquet';

export function checkFormat(f: string): ExportFormat {
  if (!Object.hasOwn(writers, f)) throw new Error(`export format must be ${Object.keys(writers).join(', ')}; got "${f}"`);
  return f as ExportFormat;
}

/** `results.db` → `results.csv` (or .jsonl, .parquet). */
export const defaultExportPath = (dbPath: string, format: ExportFormat): string => dbPath.replace(/\.(db|sqlite3?)$/i, '') + `.${format}`;

const FIXED = ['source', 'kind', 'frame', 'time', 'face', 'x', 'y', 'width', 'height', 'detection_score', 'label', 'confidence'] as const;

const csvCell = (v: string | number | null): string => {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const out: WriteStream = createWriteStream(path);
  const done = new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.once('finish', resolve);
  });
  for (const line of lines) {
    if (!out.write(line + '\n')) await Promise.race([once(out, 'drain'), done]);
  }
  out.end();
  await done;
}

function* csvLines(db: BatchDb, classes: readonly string[]): Generator<string> {
  yield [...FIXED, ...classes].map(csvCell).join(',');
  for (const r of db.rows()) yield [...FIXED.map((k) => r[k]), ...probabilitiesOf(r, classes)].map(csvCell).join(',');
}

function* jsonLines(db: BatchDb): Generator<string> {
  for (const r of db.rows()) {
    const o: Record<string, unknown> = Object.fromEntries(FIXED.map((k) => [k, r[k]]));
    o.probabilities = JSON.parse(r.probabilities);
    yield JSON.stringify(o);
  }
}

async function writeParquet(db: BatchDb, classes: readonly string[], path: string): Promise<void> {
  const { ParquetWriter, fileWriter, schemaFromColumnData } = await import('hyparquet-writer');
  type Col = { name: string; type: 'STRING' | 'INT32' | 'DOUBLE'; nullable: boolean; get: (r: ResultRow, p: number[]) => string | number | null };
  const cols: Col[] = [
    { name: 'source', type: 'STRING', nullable: false, get: (r) => r.source },
    { name: 'kind', type: 'STRING', nullable: false, get: (r) => r.kind },
    { name: 'frame', type: 'INT32', nullable: false, get: (r) => r.frame },
    { name: 'time', type: 'DOUBLE', nullable: true, get: (r) => r.time },
    { name: 'face', type: 'INT32', nullable: false, get: (r) => r.face },
    ...(['x', 'y', 'width', 'height', 'detection_score'] as const).map((k): Col => ({ name: k, type: 'DOUBLE', nullable: false, get: (r) => r[k] })),
    { name: 'label', type: 'STRING', nullable: false, get: (r) => r.label },
    { name: 'confidence', type: 'DOUBLE', nullable: false, get: (r) => r.confidence },
    ...classes.map((c, k): Col => ({ name: `p_${c}`, type: 'DOUBLE', nullable: false, get: (_r, p) => p[k] })),
  ];
  const empty = cols.map((c) => ({ name: c.name, data: [] as (string | number | null)[], type: c.type, nullable: c.nullable }));
  const writer = new ParquetWriter({ writer: fileWriter(path), schema: schemaFromColumnData({ columnData: empty }), createdBy: 'ferkit batch export' });
  const rowGroup = 50_000;
  let chunk = cols.map(() => [] as (string | number | null)[]);
  const flush = async () => {
    if (chunk[0].length === 0) return;
    await writer.write({ columnData: cols.map((c, k) => ({ name: c.name, data: chunk[k], type: c.type, nullable: c.nullable })), rowGroupSize: rowGroup });
    chunk = cols.map(() => []);
  };
  for (const r of db.rows()) {
    const p = probabilitiesOf(r, classes);
    cols.forEach((c, k) => chunk[k].push(c.get(r, p)));
    if (chunk[0].length >= rowGroup) await flush();
  }
  await flush();
  await writer.finish();
}

const writers: Record<ExportFormat, (db: BatchDb, classes: readonly string[], path: string) => Promise<void>> = {
  csv: (db, classes, path) => writeLines(path, csvLines(db, classes)),
  jsonl: (db, _classes, path) => writeLines(path, jsonLines(db)),
  parquet: writeParquet,
};

/** Writes every face row of the database to `path`; returns the row count. */
export async function exportResults(db: BatchDb, format: ExportFormat, path: string): Promise<number> {
  await writers[format](db, db.meta.model.classes, path);
  return db.rowCount();
}
