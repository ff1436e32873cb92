// Inference benchmarks. e2e: what `ferkit predict` does per photo (decode, detect, align,
// classify) on face-api's sample photos, against face-api.js's own pipeline in alternating rounds. serve: a bounded loopback load test of `ferkit serve`
// (a child process) with N concurrent clients posting a webcam-sized real photo for a fixed time;
// requests still in flight at the end are waited for and counted.
import { spawn } from 'node:child_process';
import { freePort } from '../test/helpers/ports.js';
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { alternate } from './rounds.js';

type Log = (line: string) => void;

export function samplePhotos(): string[] {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
  return readdirSync(dir).filter((f) => /^sample\d+\.jpg$/.test(f)).sort().map((f) => join(dir, f));
}

/** face-api.js's own pipeline (SSD + 68 landmarks + its expression net) on TF.js, as the peer. */
async function faceApiPipeline(): Promise<(file: string) => Promise<number>> {
  const { faceModelDir, loadFaceApi } = await import('../src/detect/face-api.js');
  const { decodeImageFile } = await import('../src/data/image.js');
  const { tf } = await import('../src/engine/backend.js');
  const fa = await loadFaceApi('ssd');
  await fa.nets.faceExpressionNet.loadFromDisk(faceModelDir());
  return async (file) => {
    const img = await decodeImageFile(file, { channels: 3 });
    const t = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
    try {
      const found = await fa.detectAllFaces(t as unknown as Parameters<typeof fa.detectAllFaces>[0], new fa.SsdMobilenetv1Options({ minConfidence: 0.5 })).withFaceLandmarks().withFaceExpressions();
      return found.length;
    } finally {
      t.dispose();
    }
  };
}

/**
 * What `ferkit predict` does per photo (decode, detect, align, classify) over face-api's six
 * sample photos, against face-api.js's SSD + landmarks + expressions pipeline on the same photos
 * (decoded the same way), alternating in `rounds` rounds after one warm-up pass of each.
 */
export async function benchE2e(o: { log: Log; engine?: 'auto' | 'tfjs' | 'onnx'; rounds?: number }): Promise<void> {
  const { loadRecognizer } = await import('../src/api/recognizer.js');
  const { decodeImageFile } = await import('../src/data/image.js');
  const rec = await loadRecognizer({ engine: o.engine, onNote: o.log });
  const faceApi = await faceApiPipeline();
  const photos = samplePhotos();
  const ferkit = async (file: string) => (await rec.recognize(await decodeImageFile(file, { channels: 3 }))).length;
  const pass = async (name: string, run: (file: string) => Promise<number>, verbose: boolean) => {
    let faces = 0;
    const t0 = performance.now();
    for (const p of photos) {
      const t = performance.now();
      const n = await run(p);
      faces += n;
      if (verbose) o.log(`  ${name} ${p.replace(/.*\//, '')}: ${n} faces, ${(performance.now() - t).toFixed(0)} ms`);
    }
    return { ms: (performance.now() - t0) / photos.length, faces };
  };
  const w0 = performance.now();
  const warm = await pass('ferkit', ferkit, true);
  o.log(`ferkit: model on ${rec.engine}, face detector on ${rec.detectorEngine}; warm-up pass ${(performance.now() - w0).toFixed(0)} ms`);
  const w1 = performance.now();
  const warmPeer = await pass('face-api', faceApi, true);
  o.log(`face-api: TF.js ${(await import('../src/engine/backend.js')).tf.getBackend()}; warm-up pass ${(performance.now() - w1).toFixed(0)} ms`);
  const faces = { ours: warm.faces, peer: warmPeer.faces };
  const count = (side: 'ours' | 'peer') => (r: { ms: number; faces: number }) => {
    if (r.faces !== faces[side]) throw new Error(`${side === 'ours' ? 'ferkit' : 'face-api'} found ${r.faces} faces in a round, ${faces[side]} in warm-up`);
    return r.ms;
  };
  const r = await alternate(o.rounds ?? 3, 'lower', async () => count('ours')(await pass('ferkit', ferkit, false)), async () => count('peer')(await pass('face-api', faceApi, false)), o.log, ' ms/photo');
  o.log(`faces: ferkit ${faces.ours}, face-api ${faces.peer} (${photos.length} photos); load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  // What `ferkit predict <folder>` does: the next photo decodes while this one is analysed
  // (throughput over the folder, not one photo's latency as above).
  const { recognizeImages } = await import('../src/cli/predict-run.js');
  const folder: number[] = [];
  for (let round = 0; round < 3; round++) {
    const t = performance.now();
    const { records } = await recognizeImages(rec, photos, { progress: false, stopOnError: true });
    if (records.reduce((n, x) => n + x.faces.length, 0) !== faces.ours) throw new Error('ferkit found other faces in the folder pass');
    folder.push((performance.now() - t) / photos.length);
  }
  const f = folder.sort((a, b) => a - b)[1]!;
  o.log(`folder (ferkit predict on the ${photos.length} photos, next photo decoded during this one's analysis): ${f.toFixed(0)} ms/photo (median of 3: ${folder.map((x) => x.toFixed(0)).join(', ')}), ${(r.median.peer / f).toFixed(2)}x face-api's per-photo time`);
  o.log(`e2e-photos: ferkit ${r.median.ours.toFixed(0)} ms/photo, face-api ${r.median.peer.toFixed(0)} ms/photo, ratio ${r.median.ratio.toFixed(2)}`);
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
