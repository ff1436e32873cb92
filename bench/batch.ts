// Batch throughput on a queue: `ferkit batch --queue` on a loopback redis-server with one, then two
// `ferkit worker --threads 1` processes (each standing in for a one-core machine) on copies of
// face-api's 1920 px sample photos. Workers load their model before the clock starts; img/s is
// counted from the first job's start to the last job's end as the workers recorded them (the
// submitter's own start-up is not a worker's cost). Rounds alternate 1, 2, 1, 2 ... so load from
// other processes falls on both alike; medians are reported.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { samplePhotos } from '../test/api/fixtures.js';
import { tempDir } from '../test/data/data-fixtures.js';
import { startFerkit } from '../test/helpers/cli.js';
import { startRedis, type RedisServer } from '../test/helpers/redis.js';

type Log = (line: string) => void;

/** img/s between the first job's start and the last job's end, from the results database. */
function workerThroughput(db: string): { perSecond: number; items: number; faces: number } {
  const d = new Database(db, { readonly: true });
  try {
    const rows = d.prepare("SELECT finished_at, seconds, faces FROM items WHERE status = 'done'").all() as { finished_at: string; seconds: number; faces: number }[];
    const ends = rows.map((r) => Date.parse(r.finished_at) / 1000);
    const start = Math.min(...rows.map((r, i) => ends[i] - r.seconds));
    return { perSecond: rows.length / (Math.max(...ends) - start), items: rows.length, faces: rows.reduce((a, r) => a + r.faces, 0) };
  } finally {
    d.close();
  }
}

async function round(redis: RedisServer, photos: string, workers: number, k: number, work: string, log: Log): Promise<number> {
  const queue = ['--queue', redis.url, '--queue-name', `bench-${k}`];
  const procs = Array.from({ length: workers }, () => startFerkit(['worker', ...queue, '--threads', '1']));
  try {
    await Promise.all(procs.map((p) => p.waitFor(/ready: queue/, 300_000)));
    const db = join(work, `round-${k}-${workers}.db`);
    const batch = startFerkit(['--quiet', 'batch', photos, '--out', db, ...queue]);
    const r = await batch.done;
    if (r.code !== 0) throw new Error(`ferkit batch failed:\n${r.stderr}`);
    const t = workerThroughput(db);
    if (t.items === 0) throw new Error('no item was done');
    log(`  round ${k}: ${workers} worker${workers === 1 ? '' : 's'}: ${t.items} photos, ${t.faces} faces, ${t.perSecond.toFixed(2)} img/s`);
    return t.perSecond;
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.done));
  }
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];

export async function benchBatch(o: { log: Log; photos: number; rounds: number }): Promise<void> {
  const work = tempDir('bench-batch');
  const photos = join(work, 'photos');
  mkdirSync(photos);
  for (let i = 0; i < o.photos; i++) copyFileSync(samplePhotos[i % samplePhotos.length], join(photos, `p${String(i).padStart(4, '0')}.jpg`));
  o.log(`${o.photos} copies of face-api's sample photos (1920 px); workers with --threads 1, ${o.rounds} rounds each`);
  const redis = await startRedis();
  const one: number[] = [];
  const two: number[] = [];
  try {
    for (let k = 0; k < o.rounds; k++) {
      one.push(await round(redis, photos, 1, 2 * k, work, o.log));
      two.push(await round(redis, photos, 2, 2 * k + 1, work, o.log));
    }
  } finally {
    await redis.stop();
  }
  const x = median(one);
  const y = median(two);
  o.log(`batch-photos: 1 worker ${x.toFixed(2)} img/s, 2 workers ${y.toFixed(2)} img/s, scaling ${(y / x).toFixed(2)}`);
}
