// Data-pipeline throughput on real files: FER2013 48x48 grey images (decode + augment + float batch)
// and 16-frame 112x112 RGB clips (decode 16 frames + one clip augmentation + float batch).
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initEngine, tf } from '../src/engine/backend.js';
import { augmentations } from '../src/data/augment.js';
import { decodeImageFile, rastersToFloat, type Raster } from '../src/data/image.js';
import { Rng } from '../src/util/rng.js';
import { DecodePool } from '../src/data/decode-pool.js';

export interface DataBenchOptions {
  seconds: number;
  /** Decode workers for the second measurement of each (0: main thread only). */
  workers?: number;
  /** Images per batch (clips per batch is batch/8, at least 1). */
  batch: number;
  log?: (line: string) => void;
  /** FER2013 root (default ../shared/data/fer2013 beside the checkout). */
  ferRoot?: string;
}

function ferFiles(root: string): string[] {
  const train = join(root, 'train');
  let classes: string[];
  try {
    classes = readdirSync(train).sort();
  } catch {
    throw new Error(`${train}: FER2013 training images not found (the data benchmark reads ../shared/data/fer2013/train)`);
  }
  // Interleave classes so a short run sees every class, as a shuffled epoch would.
  const lists = classes.map((c) => readdirSync(join(train, c)).sort().map((f) => join(train, c, f)));
  const out: string[] = [];
  for (let i = 0; out.length < 20000 && lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

async function timed(seconds: number, step: () => Promise<number>): Promise<number> {
  await step(); // warm-up
  let items = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) items += await step();
  return (items * 1000) / (performance.now() - t0);
}

/** Measures on the main thread and with a decode-worker pool; the summary lines give the better
 *  of the two: `data-fer2013: <n> img/s`, then last `data-clips: <n> clips/s`. */
export async function benchData(o: DataBenchOptions): Promise<{ imgPerS: number; clipsPerS: number }> {
  const log = o.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const engine = await initEngine();
  const root = o.ferRoot ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/data/fer2013');
  const files = ferFiles(root);
  log(`data: backend ${engine.backend}, ${files.length} FER2013 files, batch ${o.batch}, ${o.seconds}s per measurement`);

  const ferAug = augmentations.get('fer-train').create({ size: 48 });
  const rng = new Rng(1);
  let next = 0;
  const take = () => files[next++ % files.length];
  const imgPerS = await timed(o.seconds, async () => {
    const paths = Array.from({ length: o.batch }, take);
    // sharp decodes on libuv's thread pool, so a batch is decoded concurrently.
    const rasters = await Promise.all(paths.map((p) => decodeImageFile(p, { channels: 1 })));
    const aug = rasters.map((r) => ferAug.applyImage(r, rng));
    rastersToFloat(aug);
    return aug.length;
  });
  log(`data-fer2013 (main thread): ${imgPerS.toFixed(0)} img/s`);

  const ialAug = augmentations.get('ial-train').create({ size: 112 });
  const clipsPerBatch = Math.max(1, Math.floor(o.batch / 8));
  const clipsPerS = await timed(o.seconds, async () => {
    const clips: Raster[][] = [];
    for (let c = 0; c < clipsPerBatch; c++) {
      const frames = await Promise.all(Array.from({ length: 16 }, () => decodeImageFile(take(), { channels: 3 })));
      clips.push(ialAug.applyClip(frames, rng));
    }
    rastersToFloat(clips.flat());
    return clips.length;
  });
  log(`data-clips (main thread): ${clipsPerS.toFixed(1)} clips/s`);

  let poolImg: number | undefined;
  let poolClips: number | undefined;
  const workers = o.workers ?? 2;
  if (workers > 0) {
    const pool = new DecodePool(workers);
    try {
      // Split each batch across the workers and keep the next batch in flight while this one
      // becomes a float batch.
      const split = <T>(xs: T[]) => Array.from({ length: pool.size }, (_, k) => xs.filter((_, i) => i % pool.size === k)).filter((g) => g.length > 0);
      const imgBatch = () =>
        Promise.all(split(Array.from({ length: o.batch }, () => [take()])).map((groups) => pool.run({ groups, channels: 1, augment: 'fer-train', size: 48 }, rng)));
      let ahead = imgBatch();
      poolImg = await timed(o.seconds, async () => {
        const parts = await ahead;
        ahead = imgBatch();
        rastersToFloat(parts.flat(2));
        return o.batch;
      });
      await ahead;
      log(`data-fer2013 (${pool.size} decode workers): ${poolImg.toFixed(0)} img/s`);
      const clipBatch = () =>
        Promise.all(
          split(Array.from({ length: clipsPerBatch * pool.size }, () => Array.from({ length: 16 }, take))).map((groups) =>
            pool.run({ groups, channels: 3, augment: 'ial-train', size: 112, clip: true }, rng),
          ),
        );
      let aheadClips = clipBatch();
      poolClips = await timed(o.seconds, async () => {
        const parts = await aheadClips;
        aheadClips = clipBatch();
        const clips = parts.flat();
        rastersToFloat(clips.flat());
        return clips.length;
      });
      await aheadClips;
      log(`data-clips (${pool.size} decode workers): ${poolClips.toFixed(1)} clips/s`);
    } finally {
      await pool.close();
    }
  }
  log(`data: ${tf.memory().numTensors} tensors alive after the run`);
  const bestImg = Math.max(imgPerS, poolImg ?? 0);
  const bestClips = Math.max(clipsPerS, poolClips ?? 0);
  log(`data-fer2013: ${bestImg.toFixed(0)} img/s`);
  log(`data-clips: ${bestClips.toFixed(1)} clips/s`);
  return { imgPerS: bestImg, clipsPerS: bestClips };
}
