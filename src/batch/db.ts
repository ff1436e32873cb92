// The results database of a batch: one SQLite file (better-sqlite3, WAL) with the items (one per
// input, with status, tries and error), the faces (one row per face per image or analysed frame)
// and the batch's settings. An item's rows and its status change in one transaction, and an
// outcome counts only for the try it was made for, so a re-run, a re-delivered queue job or two
// collectors at once never write an item twice.
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { BatchSettings, ItemOutcome, ItemTask } from './item.js';
import type { Source } from './inputs.js';
import { describeModel, type ModelIdentity } from './model-id.js';

const SCHEMA_VERSION = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  width INTEGER,
  height INTEGER,
  fps REAL,
  frames INTEGER,
  faces INTEGER,
  engine TEXT,
  worker TEXT,
  seconds REAL,
  finished_at TEXT,
  job TEXT
);
CREATE TABLE IF NOT EXISTS faces (
  item_id INTEGER NOT NULL REFERENCES items(id),
  frame INTEGER NOT NULL,
  time REAL,
  face INTEGER NOT NULL,
  x REAL NOT NULL,
  y REAL NOT NULL,
  width REAL NOT NULL,
  height REAL NOT NULL,
  detection_score REAL NOT NULL,
  label TEXT NOT NULL,
  confidence REAL NOT NULL,
  probabilities TEXT NOT NULL,
  PRIMARY KEY (item_id, frame, face)
) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS results AS
  SELECT i.source, i.kind, f.frame, f.time, f.face, f.x, f.y, f.width, f.height, f.detection_score, f.label, f.confidence, f.probabilities
  FROM faces f JOIN items i ON i.id = f.item_id;
`;

export interface BatchMeta {
  /** Random id of the batch (jobs on a shared queue carry it). */
  batch: string;
  model: ModelIdentity;
  settings: BatchSettings;
  created: string;
  /** Where its jobs went, when it ran on a queue. */
  queue?: { url: string; name: string };
}

export interface ItemRow {
  id: number;
  source: string;
  kind: ItemTask['kind'];
  status: 'pending' | 'done' | 'failed';
  attempts: number;
  error: string | null;
  faces: number | null;
  job: string | null;
}

export interface Counts {
  total: number;
  done: number;
  failed: number;
  pending: number;
  /** Done items in which no face was found. */
  noFace: number;
  /** Failed items that used up their tries. */
  exhausted: number;
}

/** A results row as exported: the face joined with its item's source and kind. */
export interface ResultRow {
  source: string;
  kind: string;
  frame: number;
  time: number | null;
  face: number;
  x: number;
  y: number;
  width: number;
  height: number;
  detection_score: number;
  label: string;
  confidence: number;
  probabilities: string;
}

/** Keys in a fixed order and defaults left out, so equal settings compare equal as JSON. */
function normaliseSettings(s: BatchSettings): BatchSettings {
  const out: BatchSettings = { detector: s.detector };
  if (s.minScore !== undefined) out.minScore = s.minScore;
  if (s.fps !== undefined) out.fps = s.fps;
  if (s.tau !== undefined) out.tau = s.tau;
  return out;
}

export class BatchDb {
  private readonly recordTx: Database.Transaction<(o: ItemOutcome) => boolean>;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
    readonly meta: BatchMeta,
  ) {
    this.recordTx = db.transaction((o: ItemOutcome) => this.write(o));
  }

  /** Opens an existing results database (export, collect). */
  static open(path: string): BatchDb {
    const db = BatchDb.connect(path, true);
    const meta = BatchDb.readMeta(db, path);
    if (!meta) {
      db.close();
      throw new Error(`${path}: not a ferkit batch database (no batch settings in it)`);
    }
    return new BatchDb(path, db, meta);
  }

  /** Creates the database, or opens it to resume when it was made with the same model and
   *  settings; refuses otherwise, naming the difference. */
  static openOrCreate(path: string, model: ModelIdentity, settings: BatchSettings): BatchDb {
    const db = BatchDb.connect(path, false);
    try {
      db.exec(SCHEMA);
      const wanted = normaliseSettings(settings);
      let meta = BatchDb.readMeta(db, path);
      if (!meta) {
        meta = { batch: randomUUID(), model, settings: wanted, created: new Date().toISOString() };
        const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        db.transaction(() => {
          put.run('schema', SCHEMA_VERSION);
          put.run('batch', meta!.batch);
          put.run('model', JSON.stringify(model));
          put.run('settings', JSON.stringify(wanted));
          put.run('created', meta!.created);
        })();
      } else {
        if (meta.model.fingerprint !== model.fingerprint) {
          throw new Error(`${path} holds results of model ${describeModel(meta.model)}; this run uses ${describeModel(model)}. Give another --out, or the model it was made with`);
        }
        if (JSON.stringify(meta.settings) !== JSON.stringify(wanted)) {
          throw new Error(`${path} was made with settings ${JSON.stringify(meta.settings)}; this run asks for ${JSON.stringify(wanted)}. Give another --out, or the same options`);
        }
      }
      return new BatchDb(path, db, meta);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  private static connect(path: string, mustExist: boolean): Database.Database {
    let db: Database.Database;
    try {
      db = new Database(path, { fileMustExist: mustExist });
    } catch (e) {
      throw new Error(`${path}: cannot open the results database (${(e as Error).message})`);
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 10000');
      db.pragma('foreign_keys = ON');
    } catch (e) {
      db.close();
      throw new Error(`${path}: not an SQLite database (${(e as Error).message})`);
    }
    return db;
  }

  private static readMeta(db: Database.Database, path: string): BatchMeta | undefined {
    const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
    if (!hasMeta) return undefined;
    const kv = new Map((db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    if (!kv.has('batch')) return undefined;
    if (kv.get('schema') !== SCHEMA_VERSION) throw new Error(`${path}: results schema version ${kv.get('schema')}; this ferkit reads version ${SCHEMA_VERSION}`);
    return {
      batch: kv.get('batch')!,
      model: JSON.parse(kv.get('model')!) as ModelIdentity,
      settings: JSON.parse(kv.get('settings')!) as BatchSettings,
      created: kv.get('created')!,
      queue: kv.has('queue') ? (JSON.parse(kv.get('queue')!) as BatchMeta['queue']) : undefined,
    };
  }

  setQueue(queue: { url: string; name: string }): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run('queue', JSON.stringify(queue));
    this.meta.queue = queue;
  }

  /** Adds sources not seen before (in order); returns how many were new. */
  addSources(sources: readonly Source[]): number {
    const insert = this.db.prepare('INSERT OR IGNORE INTO items (source, kind) VALUES (?, ?)');
    return this.db.transaction(() => sources.reduce((n, s) => n + insert.run(s.source, s.kind).changes, 0))();
  }

  /** Items still to run: never finished, or failed fewer than `maxAttempts` times. */
  todo(maxAttempts: number): ItemRow[] {
    return this.db.prepare("SELECT id, source, kind, status, attempts, error, faces, job FROM items WHERE status = 'pending' OR (status = 'failed' AND attempts < ?) ORDER BY id").all(maxAttempts) as ItemRow[];
  }

  task(row: Pick<ItemRow, 'id' | 'source' | 'kind' | 'attempts'>): ItemTask {
    return { id: row.id, source: row.source, kind: row.kind, attempt: row.attempts, settings: this.meta.settings };
  }

  counts(maxAttempts: number): Counts {
    const r = this.db
      .prepare(
        `SELECT count(*) AS total,
          coalesce(sum(status = 'done'), 0) AS done,
          coalesce(sum(status = 'failed'), 0) AS failed,
          coalesce(sum(status = 'pending'), 0) AS pending,
          coalesce(sum(status = 'done' AND faces = 0), 0) AS noFace,
          coalesce(sum(status = 'failed' AND attempts >= ?), 0) AS exhausted
        FROM items`,
      )
      .get(maxAttempts) as Counts;
    return r;
  }

  failures(): ItemRow[] {
    return this.db.prepare("SELECT id, source, kind, status, attempts, error, faces, job FROM items WHERE status = 'failed' ORDER BY id").all() as ItemRow[];
  }

  /** Writes an outcome if it is the first for the item's current try; false when it was a
   *  duplicate (the item is done, or the outcome belongs to an earlier try). */
  record(o: ItemOutcome): boolean {
    return this.recordTx.immediate(o);
  }

  private write(o: ItemOutcome): boolean {
    const cur = this.db.prepare('SELECT status, attempts FROM items WHERE id = ?').get(o.id) as { status: string; attempts: number } | undefined;
    if (!cur || cur.status === 'done' || cur.attempts !== o.attempt) return false;
    const now = new Date().toISOString();
    if (o.ok) {
      this.db.prepare('DELETE FROM faces WHERE item_id = ?').run(o.id);
      const insert = this.db.prepare(
        'INSERT INTO faces (item_id, frame, time, face, x, y, width, height, detection_score, label, confidence, probabilities) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const f of o.faces) insert.run(o.id, f.frame, f.time, f.face, ...f.box, f.detectionScore, f.label, f.confidence, JSON.stringify(f.probabilities));
      this.db
        .prepare(
          "UPDATE items SET status = 'done', attempts = attempts + 1, error = NULL, kind = ?, width = ?, height = ?, fps = ?, frames = ?, faces = ?, engine = ?, worker = ?, seconds = ?, finished_at = ?, job = NULL WHERE id = ?",
        )
        .run(o.kind, o.width, o.height, o.fps, o.frames, o.faces.length, o.engine, o.worker, o.seconds, now, o.id);
    } else {
      this.db
        .prepare("UPDATE items SET status = 'failed', attempts = attempts + 1, error = ?, engine = ?, worker = ?, seconds = ?, finished_at = ?, job = NULL WHERE id = ?")
        .run(o.error, o.engine, o.worker, o.seconds, now, o.id);
    }
    return true;
  }

  /** Marks items as sent to the queue under these job ids. */
  setJobs(jobs: readonly { id: number; job: string }[]): void {
    const set = this.db.prepare('UPDATE items SET job = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const j of jobs) set.run(j.job, j.id);
    })();
  }

  /** How many items were sent to the queue and their outcome is not in yet. */
  outstandingCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM items WHERE job IS NOT NULL').get() as { n: number }).n;
  }

  /** Items sent to the queue whose outcome is not in yet. */
  outstanding(): ItemRow[] {
    return this.db.prepare('SELECT id, source, kind, status, attempts, error, faces, job FROM items WHERE job IS NOT NULL ORDER BY id').all() as ItemRow[];
  }

  /** Every face row with its source, in item, frame, face order. */
  rows(): IterableIterator<ResultRow> {
    return this.db.prepare('SELECT * FROM results ORDER BY source, frame, face').iterate() as IterableIterator<ResultRow>;
  }

  rowCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM faces').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}

/** A face row's probabilities in the model's class order. */
export const probabilitiesOf = (r: Pick<ResultRow, 'probabilities'>, classes: readonly string[]): number[] => {
  const p = JSON.parse(r.probabilities) as Record<string, number>;
  return classes.map((c) => p[c]);
};
