// Inference benchmarks. e2e: what `ferkit predict` does per photo (decode, detect, align,
// classify) on face-api's sample photos. serve: a bounded loopback load test of `ferkit serve`
// (a child process) with N concurrent clients posting a webcam-sized real photo for a fixed time;
// requests still in flight at the end are waited for and counted.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

type Log = (line: string) => void;

function samplePhotos(): string[] {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
  return readdirSync(dir).filter((f) => /^sample\d+\.jpg$/.test(f)).sort().map((f) => join(dir, f));
}

export async function benchE2e(o: { log: Log; engine?: 'auto' | 'tfjs' | 'onnx' }): Promise<void> {
  const { loadRecognizer } = await import('../src/api/recognizer.js');
  const { decodeImageFile } = await import('../src/data/image.js');
  const rec = await loadRecognizer({ engine: o.engine, onNote: o.log });
  const photos = samplePhotos();
  const w0 = performance.now();
  await rec.recognize(photos[0]);
  o.log(`engine ${rec.engine}; warm-up ${(performance.now() - w0).toFixed(0)} ms (detector and model load)`);
  let faces = 0;
  const t0 = performance.now();
  for (const p of photos) {
    const t = performance.now();
    const img = await decodeImageFile(p, { channels: 3 });
    const found = await rec.recognize(img);
    faces += found.length;
    o.log(`  ${p.replace(/.*\//, '')} ${img.width}x${img.height}: ${found.length} faces, ${(performance.now() - t).toFixed(0)} ms`);
  }
  const ms = (performance.now() - t0) / photos.length;
  o.log(`e2e-photos: ${ms.toFixed(0)} ms/photo, ${faces} faces (${photos.length} photos, ${rec.engine})`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

export async function benchServe(o: { log: Log; seconds: number; clients: number; workers: number }): Promise<void> {
  const port = await freePort();
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'ferkit.js');
  const child = spawn(process.execPath, [bin, 'serve', '--port', String(port), '--workers', String(o.workers)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const base = `http://127.0.0.1:${port}`;
  try {
    // Wait for the server (engine, detector and model load).
    const until = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`ferkit serve exited: ${stderr.slice(-2000)}`);
      try {
        if ((await fetch(`${base}/health`)).ok) break;
      } catch {
        /* not up yet */
      }
      if (Date.now() > until) throw new Error('ferkit serve did not come up in 120 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    const health = (await (await fetch(`${base}/health`)).json()) as { engine: string };
    // A webcam-sized frame of a real photo (640 wide, as the web page's webcam sends).
    const body = await sharp(samplePhotos()[0]).resize({ width: 640 }).jpeg({ quality: 85 }).toBuffer();
    const probe = (await (await fetch(`${base}/v1/recognize`, { method: 'POST', body, headers: { 'content-type': 'image/jpeg' } })).json()) as { faces: unknown[]; ms: number };
    o.log(`server up on ${health.engine}; payload ${body.length} bytes, ${probe.faces.length} faces, one request alone ${probe.ms.toFixed(0)} ms`);
    const latencies: number[] = [];
    let errors = 0;
    const statuses = new Map<number, number>();
    const end = performance.now() + o.seconds * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: o.clients }, async () => {
        while (performance.now() < end) {
          const t = performance.now();
          try {
            const r = await fetch(`${base}/v1/recognize`, { method: 'POST', body, headers: { 'content-type': 'image/jpeg' } });
            await r.arrayBuffer();
            statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
            if (r.status !== 200) errors++;
            else latencies.push(performance.now() - t);
          } catch {
            errors++;
          }
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    o.log(`statuses: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ') || 'none'}; ${elapsed.toFixed(1)} s including the last answers`);
    o.log(
      `serve: ${(latencies.length / elapsed).toFixed(2)} req/s, p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms, errors ${errors} (${o.clients} clients, ${o.seconds} s, ${latencies.length} requests, 640px photo, ${health.engine}, ${o.workers} worker${o.workers === 1 ? '' : 's'})`,
    );
  } finally {
    child.kill('SIGTERM');
  }
}
