// `ferkit batch` and `ferkit worker` end to end on real faces: face-api's sample photos (scaled
// down to keep the suite fast), a short mp4 of two CK+48 faces, a photo served over HTTP on
// loopback, and bad inputs (a cut-off JPEG, a text file named .jpg, an mp4 with no video frames, a
// URL on a port nothing listens on, a missing file). One-machine runs, a killed and resumed run,
// and a real redis-server with `ferkit worker` processes (one refusing another model's jobs, one
// SIGKILLed mid-job, a job lost from Redis) must all give the same database, row for row, with
// every item once.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { loadRecognizer } from '../../src/api/recognizer.js';
import { ffmpegPath } from '../../src/data/video.js';
import { bundledModelDir } from '../../src/models/files.js';
import { ckVideo, samplePhotos } from '../api/fixtures.js';
import { tempDir } from '../data/data-fixtures.js';
import { ferkitAsync, startFerkit, type CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { redisSkip, startRedis, type RedisServer } from '../helpers/redis.js';

interface ItemSnap {
  kind: string;
  status: string;
  error: string | null;
  width: number | null;
  height: number | null;
  frames: number | null;
  faces: number | null;
  attempts: number;
  worker: string | null;
  finished_at: string | null;
}
interface Snapshot {
  items: Map<string, ItemSnap>;
  /** Every face row as JSON, ordered by source, frame, face. */
  rows: string[];
}

function snapshot(path: string): Snapshot {
  const db = new Database(path, { readonly: true });
  try {
    const items = db.prepare('SELECT source, kind, status, error, width, height, frames, faces, attempts, worker, finished_at FROM items ORDER BY id').all() as (ItemSnap & { source: string })[];
    const rows = (db.prepare('SELECT * FROM results ORDER BY source, frame, face').all() as object[]).map((r) => JSON.stringify(r));
    return { items: new Map(items.map(({ source, ...rest }) => [source, rest])), rows };
  } finally {
    db.close();
  }
}

/** The outcome columns of each item (not who ran it, when, or how many tries it took). */
const outcomes = (s: Snapshot) => new Map([...s.items].map(([k, v]) => [k, { kind: v.kind, status: v.status, error: v.error, width: v.width, height: v.height, frames: v.frames, faces: v.faces }]));

function finished(path: string): { done: number; total: number } {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return db.prepare("SELECT coalesce(sum(status = 'done'), 0) AS done, count(*) AS total FROM items").get() as { done: number; total: number };
    } finally {
      db.close();
    }
  } catch {
    return { done: 0, total: 0 };
  }
}

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);

describe('ferkit batch and ferkit worker on real faces', { timeout: 900_000 }, () => {
  let root: string;
  let list: string;
  let photos: string[];
  let clip: string;
  let url: string;
  let deadUrl: string;
  let server: Server;
  let ref: Snapshot;
  const out = (name: string) => join(root, '..', `${name}.db`);

  before(async () => {
    const work = tempDir('batch');
    root = join(work, 'archive');
    mkdirSync(join(root, 'photos'), { recursive: true });
    mkdirSync(join(root, 'clips', 'day1'), { recursive: true });
    mkdirSync(join(root, 'bad'), { recursive: true });
    // Three real group photos at 640 px wide: enough faces, a fraction of the detector's time.
    photos = [];
    for (const [k, p] of [samplePhotos[0], samplePhotos[1], samplePhotos[4]].entries()) {
      const dst = join(root, 'photos', `group${k + 1}.jpg`);
      await sharp(p).resize({ width: 640 }).jpeg({ quality: 90 }).toFile(dst);
      photos.push(dst);
    }
    clip = join(root, 'clips', 'day1', 'two-faces.mp4');
    copyFileSync((await ckVideo()).path, clip);
    const whole = readFileSync(photos[0]);
    writeFileSync(join(root, 'bad', 'cut-off.jpg'), whole.subarray(0, Math.floor(whole.length / 3)));
    writeFileSync(join(root, 'bad', 'notes.jpg'), 'this is a text file, not a picture\n');
    const audioOnly = spawnSync(ffmpegPath(), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '0.5', '-c:a', 'aac', join(root, 'bad', 'no-frames.mp4')]);
    assert.equal(audioOnly.status, 0, audioOnly.stderr?.toString());
    // A photo over HTTP on loopback (the same bytes as photos[0]) and a port nobody listens on.
    server = createServer((req, res) => {
      if (req.url === '/shared/face.jpg') res.writeHead(200, { 'content-type': 'image/jpeg' }).end(whole);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/shared/face.jpg`;
    deadUrl = `http://127.0.0.1:${await freePort()}/gone.jpg`;
    list = join(work, 'more.txt');
    writeFileSync(list, ['# photos elsewhere', url, deadUrl, 'archive/photos/group1.jpg', 'archive/missing.jpg'].join('\n') + '\n');
  });

  after(async () => {
    await new Promise((r) => server?.close(r));
  });

  it('runs a folder (recursively) and a list on this machine: one row per face per photo and per video frame, bad inputs recorded as failed', async () => {
    const r = await ferkitAsync(['batch', root, list, '--out', out('one'), '--threads', '2', '--export', 'csv']);
    ok(r, 'ferkit batch');
    ref = snapshot(out('one'));
    const item = (s: string) => ref.items.get(s)!;
    assert.equal(ref.items.size, 10, [...ref.items.keys()].join('\n'));
    for (const p of photos) {
      assert.equal(item(p).status, 'done', `${p}: ${item(p).error}`);
      assert.ok(item(p).faces! >= 2, `${p}: ${item(p).faces} faces`);
      assert.deepEqual([item(p).width, item(p).frames], [640, 1]);
    }
    // The URL serves the bytes of the first photo.
    assert.deepEqual(outcomes(ref).get(url), outcomes(ref).get(photos[0]));
    const v = item(clip);
    assert.deepEqual([v.status, v.kind, v.frames, v.faces, v.width, v.height], ['done', 'video', 8, 16, 480, 240], 'two faces in each of 8 frames');
    const rowsOf = (s: string) => ref.rows.map((x) => JSON.parse(x) as Record<string, unknown>).filter((x) => x.source === s);
    assert.deepEqual(rowsOf(clip).map((x) => x.time), [0, 0, 0.125, 0.125, 0.25, 0.25, 0.375, 0.375, 0.5, 0.5, 0.625, 0.625, 0.75, 0.75, 0.875, 0.875]);
    assert.equal(rowsOf(photos[0]).length, item(photos[0]).faces);
    assert.deepEqual(rowsOf(url).map((x) => ({ ...x, source: '' })), rowsOf(photos[0]).map((x) => ({ ...x, source: '' })));
    const failed = (s: string, re: RegExp) => {
      assert.equal(item(s).status, 'failed', s);
      assert.match(item(s).error!, re);
      assert.equal(item(s).attempts, 1);
    };
    failed(join(root, 'bad', 'cut-off.jpg'), /cut-off\.jpg: cannot decode image: .*premature end/i);
    failed(join(root, 'bad', 'notes.jpg'), /notes\.jpg: not an image/);
    failed(join(root, 'bad', 'no-frames.mp4'), /no-frames\.mp4: no video stream/);
    failed(deadUrl, /gone\.jpg: cannot fetch \(ECONNREFUSED\)/);
    failed(join(root, 'missing.jpg'), /missing\.jpg: file not found/);
    assert.match(r.stderr, /10 items: 5 done \(0 without a face\), 5 failed \(re-run the same command to retry them\)/);
    // Progress without a terminal: a line every 15 s and at the end, with the rate and ETA.
    assert.match(r.stderr, /batch: 10\/10 items, \d+\.\d\d items\/s, ETA 0s, 5 failed/);
    const csv = readFileSync(out('one').replace(/\.db$/, '.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, ref.rows.length + 1);
  });

  it('gives the rows the recognition API gives for the same photo and video', async () => {
    // As in the batch threads: one BLAS thread for the native conv kernels (the thread count
    // changes float sums in the detector) and one ONNX Runtime thread per session.
    process.env.FERKIT_NATIVE_THREADS = '1';
    process.env.FERKIT_ORT_THREADS = '1';
    const rec = await loadRecognizer();
    try {
      const rows = ref.rows.map((x) => JSON.parse(x) as Record<string, number | string | null>);
      const faces = await rec.recognize(photos[1]);
      assert.deepEqual(
        rows.filter((x) => x.source === photos[1]).map((x) => [x.face, x.x, x.label, x.confidence, JSON.parse(x.probabilities as string)]),
        faces.map((f) => [f.faceId, f.box[0], f.label, f.confidence, f.probabilities]),
      );
      const video = await rec.recognizeVideo(clip);
      assert.deepEqual(
        rows.filter((x) => x.source === clip).map((x) => [x.frame, x.time, x.face, x.y, x.label, JSON.parse(x.probabilities as string)]),
        video.frames.flatMap((fr) => [...fr.faces].sort((a, b) => a.faceId - b.faceId).map((f) => [fr.index, fr.time, f.faceId, f.box[1], f.label, f.probabilities])),
      );
    } finally {
      await rec.dispose();
    }
  });

  it('re-runs: finished items are skipped, failed ones retried until --max-attempts, then reported and left', async () => {
    const r = await ferkitAsync(['batch', root, list, '--out', out('one'), '--threads', '1', '--max-attempts', '2']);
    ok(r, 're-run');
    assert.match(r.stderr, /10 items \(0 new\), 5 done, 5 failed, 5 to run \(resuming\)/);
    const again = snapshot(out('one'));
    assert.deepEqual(again.rows, ref.rows);
    for (const [source, v] of again.items) {
      const before = ref.items.get(source)!;
      if (before.status === 'done') assert.deepEqual(v, before, `${source} was not run again`);
      else assert.deepEqual([v.status, v.attempts, v.error], ['failed', 2, before.error], source);
    }
    const third = await ferkitAsync(['batch', root, list, '--out', out('one'), '--max-attempts', '2']);
    ok(third, 'third run');
    assert.match(third.stderr, /0 to run/);
    assert.match(third.stderr, /5 failed \(5 after 2 tries: not retried\)/);
    assert.match(third.stderr, /failed \(2 tries\): .*cut-off\.jpg: cannot decode image/);
  });

  it('resumes after being killed mid-run and ends with the database an uninterrupted run gives', async () => {
    const db = out('killed');
    const run = startFerkit(['batch', root, list, '--out', db, '--threads', '1']);
    // Kill it once the first photo is in: bad inputs come first (sorted), photos next.
    while (finished(db).done < 1) {
      if (run.child.exitCode !== null) assert.fail(`the batch finished before it could be killed:\n${run.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    run.child.kill('SIGKILL');
    await run.done;
    const partial = finished(db);
    assert.ok(partial.done >= 1 && partial.done < 5, `killed mid-run: ${partial.done} of 5 done`);
    const r = await ferkitAsync(['batch', root, list, '--out', db, '--threads', '2']);
    ok(r, 'resumed run');
    assert.match(r.stderr, /\(resuming\)/);
    const resumed = snapshot(db);
    assert.deepEqual(resumed.rows, ref.rows);
    assert.deepEqual(outcomes(resumed), outcomes(ref));
  });

  describe('on a Redis queue with ferkit worker processes', { skip: redisSkip }, () => {
    let redis: RedisServer;
    let workers: ReturnType<typeof startFerkit>[] = [];
    const queue = () => ['--queue', redis.url, '--queue-name', 'test-batch'];
    const worker = (...extra: string[]) => startFerkit(['worker', ...queue(), '--threads', '1', '--stall-seconds', '3', ...extra]);

    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.done));
      await redis?.stop();
    });

    it('a worker with another model refuses the jobs and leaves them on the queue; two workers then give the one-machine results row for row', async () => {
      const db = out('queued');
      const submitted = await ferkitAsync(['batch', root, list, '--out', db, ...queue(), '--no-wait']);
      ok(submitted, 'submit');
      assert.match(submitted.stderr, /queued 10 jobs on test-batch/);

      const other = await worker('--model', bundledModelDir('ial-ckplus48')).done;
      assert.equal(other.code, 1, other.stderr);
      assert.match(other.stderr, /was submitted for model fer2013-cnn \(weights [0-9a-f]{12}\), but this worker runs ial-ckplus48 \(weights [0-9a-f]{12}\): the job is back on the queue/);

      // Redis loses a job (a restart without persistence): the collector enqueues it again.
      const q = new Queue('test-batch', { connection: { url: redis.url } });
      try {
        const c = await q.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
        assert.deepEqual([c.waiting + c.delayed, c.active, c.completed, c.failed], [10, 0, 0, 0], 'every job still on the queue, none run');
        const [lost] = await q.getJobs(['waiting'], 0, 0);
        await lost.remove();
      } finally {
        await q.close();
      }
      workers = [worker(), worker()];
      const collected = await ferkitAsync(['batch', 'collect', db]);
      ok(collected, 'collect');
      assert.match(collected.stderr, /1 outstanding job was missing from Redis: enqueued again/);
      const snap = snapshot(db);
      assert.deepEqual(snap.rows, ref.rows);
      const missing = join(root, 'missing.jpg');
      const want = outcomes(ref);
      want.get(missing)!.error = null;
      const got = outcomes(snap);
      assert.match(got.get(missing)!.error!, /missing\.jpg: file not found on worker .*; queue workers read every input themselves, so inputs must be at the same path on every worker \(a shared folder\) or http\(s\) URLs/);
      got.get(missing)!.error = null;
      assert.deepEqual(got, want);
      assert.ok([...snap.items.values()].every((v) => v.attempts === 1), 'each item ran once');
      const by = new Set([...snap.items.values()].map((v) => v.worker));
      assert.equal(by.size, 2, `both workers took jobs: ${[...by].join(', ')}`);
    });

    it('a worker SIGKILLed mid-job: its job goes to the other worker, every item is written exactly once', async () => {
      const [victim] = workers;
      const db = out('killed-worker');
      // A window of 2 jobs in Redis at once: the rest go as results come in.
      const batch = startFerkit(['batch', join(root, 'photos'), join(root, 'clips'), '--out', db, ...queue(), '--queue-window', '2']);
      const line = await victim.waitFor(new RegExp(`${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(photos|clips)/.*: started`));
      victim.child.kill('SIGKILL');
      const taken = line.replace(/^ferkit worker: /, '').replace(/: started$/, '');
      const r = await batch.done;
      ok(r, 'ferkit batch on the queue');
      assert.match(r.stderr, /queued 2 of 4 jobs on test-batch .*\(the rest as results come in\)/);
      const s = snapshot(db);
      assert.equal(s.items.size, 4);
      assert.deepEqual(s.rows, ref.rows.filter((x) => [...s.items.keys()].includes(JSON.parse(x).source as string)));
      for (const [source, v] of s.items) {
        assert.deepEqual(outcomes(s).get(source), outcomes(ref).get(source), source);
        assert.equal(v.attempts, 1, `${source} written once`);
      }
      assert.notEqual(s.items.get(taken)!.worker, `${hostname()}/${victim.child.pid}`, 'the killed job was finished by the other worker');
    });
  });
});
