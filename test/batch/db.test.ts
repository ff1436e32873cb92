// The results database on a real SQLite file: an outcome counts once per try (re-deliveries and
// stale tries are dropped), bounded retries, resume refuses another model or settings, and the
// three export formats read back to the same rows.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { BatchDb } from '../../src/batch/db.js';
import { exportResults } from '../../src/batch/export.js';
import type { FaceRow, ItemOutcome } from '../../src/batch/item.js';
import type { ModelIdentity } from '../../src/batch/model-id.js';
import { tempDir } from '../data/data-fixtures.js';

const model: ModelIdentity = { name: 'm', fingerprint: 'f'.repeat(64), classes: ['calm', 'glad', 'cross'] };
const settings = { detector: 'ssd' as const };

const face = (frame: number, faceId: number, time: number | null, p: [number, number, number]): FaceRow => ({
  frame,
  time,
  face: faceId,
  box: [10.5 + faceId, 20, 30, 40],
  detectionScore: 0.9,
  label: model.classes[p.indexOf(Math.max(...p))],
  confidence: Math.max(...p),
  probabilities: Object.fromEntries(model.classes.map((c, k) => [c, p[k]])),
});

const done = (id: number, attempt: number, faces: FaceRow[], kind: 'image' | 'video' = 'image'): ItemOutcome => ({
  id,
  attempt,
  ok: true,
  kind,
  width: 640,
  height: 480,
  fps: kind === 'video' ? 8 : null,
  frames: kind === 'video' ? 2 : 1,
  faces,
  engine: 'onnxruntime',
  worker: 'host/1',
  seconds: 0.5,
});
const failed = (id: number, attempt: number, error: string): ItemOutcome => ({ id, attempt, ok: false, error, engine: 'onnxruntime', worker: 'host/1', seconds: 0.1 });

describe('batch results database', () => {
  let dir: string;
  let db: BatchDb;
  before(() => {
    dir = tempDir('batch-db');
    db = BatchDb.openOrCreate(join(dir, 'r.db'), model, settings);
  });
  after(() => db.close());

  it('adds sources once, in order', () => {
    assert.equal(db.addSources([{ source: '/p/a,"odd".jpg', kind: 'image' }, { source: '/p/b.mp4', kind: 'video' }, { source: 'http://h/c.jpg', kind: 'image' }]), 3);
    assert.equal(db.addSources([{ source: '/p/b.mp4', kind: 'video' }, { source: '/p/d.jpg', kind: 'image' }]), 1);
    assert.deepEqual(db.todo(3).map((r) => [r.id, r.source, r.attempts]), [[1, '/p/a,"odd".jpg', 0], [2, '/p/b.mp4', 0], [3, 'http://h/c.jpg', 0], [4, '/p/d.jpg', 0]]);
  });

  it('writes an item and its face rows once: a re-delivered or stale outcome is dropped', () => {
    const a = done(1, 0, [face(0, 0, null, [0.2, 0.7, 0.1]), face(0, 1, null, [0.5, 0.25, 0.25])]);
    assert.equal(db.record(a), true);
    assert.equal(db.record(a), false, 'same outcome twice');
    assert.equal(db.record(done(1, 1, [])), false, 'an outcome for a later try of a done item');
    const v = done(2, 0, [face(0, 3, 0, [0.1, 0.1, 0.8]), face(1, 3, 0.125, [0.1, 0.2, 0.7]), face(1, 4, 0.125, [0.6, 0.3, 0.1])], 'video');
    assert.equal(db.record(v), true);
    assert.equal(db.rowCount(), 5);
    const rows = [...db.rows()];
    assert.deepEqual(
      rows.map((r) => [r.source, r.frame, r.face, r.time, r.label]),
      [['/p/a,"odd".jpg', 0, 0, null, 'glad'], ['/p/a,"odd".jpg', 0, 1, null, 'calm'], ['/p/b.mp4', 0, 3, 0, 'cross'], ['/p/b.mp4', 1, 3, 0.125, 'cross'], ['/p/b.mp4', 1, 4, 0.125, 'calm']],
    );
    assert.equal(rows[0].x, 10.5);
    assert.deepEqual(JSON.parse(rows[0].probabilities), { calm: 0.2, glad: 0.7, cross: 0.1 });
  });

  it('retries failures up to --max-attempts, counting tries; a later success clears the error', () => {
    assert.equal(db.record(failed(3, 0, 'http://h/c.jpg: cannot fetch (ECONNREFUSED)')), true);
    assert.equal(db.record(failed(3, 0, 'again')), false, 'a second outcome of the same try');
    assert.equal(db.record(failed(4, 0, '/p/d.jpg: file not found')), true);
    assert.deepEqual(db.todo(3).map((r) => [r.id, r.attempts]), [[3, 1], [4, 1]]);
    assert.deepEqual(db.todo(1), []);
    assert.equal(db.record(failed(4, 1, '/p/d.jpg: file not found')), true);
    assert.equal(db.record(done(3, 1, [face(0, 0, null, [0.3, 0.3, 0.4])])), true);
    assert.deepEqual(db.counts(2), { total: 4, done: 3, failed: 1, pending: 0, noFace: 0, exhausted: 1 });
    assert.deepEqual(db.failures().map((f) => [f.source, f.attempts, f.error]), [['/p/d.jpg', 2, '/p/d.jpg: file not found']]);
    assert.deepEqual(db.todo(2), []);
    assert.deepEqual(db.todo(3).map((r) => r.id), [4]);
  });

  it('resumes only with the same model and settings, naming the difference', () => {
    const path = join(dir, 'r.db');
    const again = BatchDb.openOrCreate(path, model, { detector: 'ssd' });
    assert.equal(again.meta.batch, db.meta.batch);
    again.close();
    assert.throws(() => BatchDb.openOrCreate(path, { ...model, fingerprint: 'e'.repeat(64) }, settings), /holds results of model m \(weights ffffffffffff\); this run uses m \(weights eeeeeeeeeeee\)/);
    assert.throws(() => BatchDb.openOrCreate(path, model, { detector: 'tiny' }), /was made with settings \{"detector":"ssd"\}; this run asks for \{"detector":"tiny"\}/);
    const other = join(dir, 'other.db');
    new Database(other).exec('CREATE TABLE t (x)');
    assert.throws(() => BatchDb.open(other), /not a ferkit batch database/);
    assert.throws(() => BatchDb.open(join(dir, 'none.db')), /none\.db: cannot open the results database/);
  });

  it('exports the same rows as CSV, JSON lines and Parquet', async () => {
    const want = [...db.rows()].map((r) => ({ ...r, probabilities: JSON.parse(r.probabilities) as Record<string, number> }));
    assert.equal(await exportResults(db, 'csv', join(dir, 'r.csv')), want.length);
    const csv = parse(readFileSync(join(dir, 'r.csv')), { columns: true }) as Record<string, string>[];
    assert.deepEqual(Object.keys(csv[0]), ['source', 'kind', 'frame', 'time', 'face', 'x', 'y', 'width', 'height', 'detection_score', 'label', 'confidence', 'calm', 'glad', 'cross']);
    assert.deepEqual(
      csv.map((r) => [r.source, Number(r.frame), r.time === '' ? null : Number(r.time), Number(r.face), Number(r.x), r.label, Number(r.glad)]),
      want.map((r) => [r.source, r.frame, r.time, r.face, r.x, r.label, r.probabilities.glad]),
    );

    await exportResults(db, 'jsonl', join(dir, 'r.jsonl'));
    const jsonl = readFileSync(join(dir, 'r.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(jsonl, want);

    await exportResults(db, 'parquet', join(dir, 'r.parquet'));
    const pq = await parquetReadObjects({ file: await asyncBufferFromFile(join(dir, 'r.parquet')) });
    assert.deepEqual(
      pq.map((r) => ({ ...r })),
      want.map((r) => {
        const { probabilities, ...rest } = r;
        return { ...rest, ...Object.fromEntries(model.classes.map((c) => [`p_${c}`, probabilities[c]])) };
      }),
    );
  });
});
