// Cached features of a frozen trunk prefix. When a pretrained trunk's leading parts are frozen (no
// gradient, BatchNorm statistics kept), what they compute for a face never changes: it is computed
// once per face, as seen and mirrored (the one augmentation a cached map can take), and training
// runs only the parts after them and the head, several times faster and with no pixel work on the
// main thread. The trained model is the whole network: its frozen prefix is simply unchanged.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../engine/backend.js';
import { Rng } from '../util/rng.js';
import type { FerModel } from '../models/model.js';
import type { Backbone } from '../models/backbones/backbone.js';
import type { BatchBuilder, BatchSource } from '../data/batches.js';
import { backbonesOf } from './finetune.js';
import { cacheDir } from '../data/sample-store.js';

export class FeatureCache implements BatchSource {
  private readonly per: number;
  constructor(
    /** [size][2 views: as seen, mirrored][h·w·c] */
    readonly maps: Float32Array,
    /** [h, w, c] of one map. */
    readonly mapShape: number[],
    readonly size: number,
    /** Training batches take the mirrored view with probability ½ (when the run augments at all). */
    readonly mirrorTraining = true,
    /** Read from the disk cache rather than computed. */
    readonly fromDisk = false,
  ) {
    this.per = mapShape.reduce((a, b) => a * b, 1);
  }

  /** Training (`seed`): the mirrored view with probability ½ per face (mirrorTraining); else `flip` picks it. */
  build(idx: ArrayLike<number>, seed?: number, flip = false): { x: Float32Array; shape: number[] } {
    const rng = seed === undefined ? undefined : new Rng(seed);
    const x = new Float32Array(idx.length * this.per);
    for (let k = 0; k < idx.length; k++) {
      const view = rng ? (this.mirrorTraining && rng.chance(0.5) ? 1 : 0) : flip ? 1 : 0;
      const at = (idx[k]! * 2 + view) * this.per;
      x.set(this.maps.subarray(at, at + this.per), k * this.per);
    }
    return { x, shape: [idx.length, ...this.mapShape] };
  }
}

/** The model's one backbone, if it can resume at a part (runParts/featuresFrom). */
function cacheableBackbone(model: FerModel): Backbone {
  const found = backbonesOf(model);
  if (found.length !== 1) throw new Error(`feature caching needs a model with one backbone; this ${model.config.method} model has ${found.length}`);
  const b = found[0]!.backbone;
  if (!b.runParts || !b.featuresFrom) throw new Error(`feature caching: backbone ${model.config.backbone} cannot resume at a part`);
  return b;
}

/** The disk cache's key: what the maps depend on, namely the frozen parts' weights and statistics,
 *  where they end, the input spec and every face's pixels. Another run (another method, seed or
 *  learning rate) on the same faces and trunk finds its maps already computed. */
function cacheKey(model: FerModel, b: Backbone, from: number, images: BatchBuilder): string {
  const hash = createHash('sha256').update(`features-v1|${from}|${JSON.stringify(model.config.input)}|`);
  for (const [name, modules] of b.parts!().slice(0, from)) {
    for (const m of modules) {
      for (const [k, v] of [...m.namedParameters(), ...m.namedBuffers()]) {
        const data = v.dataSync() as Float32Array;
        hash.update(`${name}.${k}:`).update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      }
    }
  }
  const store = images.store;
  for (let i = 0; i < store.size; i++) for (let f = 0; f < store.framesOf(i); f++) hash.update(store.frame(i, f).data);
  return hash.digest('hex').slice(0, 24);
}

/** Parts [0, from) of the model's backbone, in eval mode, on every sample of `images` and its
 *  mirror image; kept in the disk cache (FERKIT_CACHE) unless `persist` is false. */
export function buildFeatureCache(model: FerModel, from: number, images: BatchBuilder, mirrorTraining = true, opts: { persist?: boolean; onProgress?: (done: number, total: number) => void } = {}): FeatureCache {
  const b = cacheableBackbone(model);
  model.eval();
  const n = images.size;
  const persist = opts.persist !== false;
  const path = persist ? join(cacheDir(), 'features', `${cacheKey(model, b, from, images)}.bin`) : '';
  if (persist && existsSync(path)) {
    const buf = readFileSync(path);
    const dims = buf.readInt32LE(0);
    const shape = Array.from({ length: dims }, (_, i) => buf.readInt32LE(4 + 4 * i));
    const start = 4 + 4 * dims;
    const maps = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
    if (maps.length === n * 2 * shape.reduce((p, q) => p * q, 1)) return new FeatureCache(maps, shape, n, mirrorTraining, true);
  }
  let maps: Float32Array | undefined;
  let shape: number[] = [];
  const batch = 64;
  for (let a = 0; a < n; a += batch) {
    const idx = Array.from({ length: Math.min(batch, n - a) }, (_, k) => a + k);
    for (const flip of [false, true]) {
      const { x, shape: xs } = images.build(idx, undefined, flip);
      const out = tf.tidy(() => b.runParts!(tf.tensor(x, xs), 0, from));
      shape = out.shape.slice(1);
      const per = shape.reduce((p, q) => p * q, 1);
      maps ??= new Float32Array(n * 2 * per);
      const data = out.dataSync() as Float32Array;
      out.dispose();
      idx.forEach((i, k) => maps!.set(data.subarray(k * per, (k + 1) * per), (i * 2 + (flip ? 1 : 0)) * per));
    }
    opts.onProgress?.(Math.min(n, a + batch), n);
  }
  maps ??= new Float32Array(0);
  // readFile takes at most 2 GiB: bigger maps are recomputed each run.
  if (persist && n > 0 && maps.byteLength < 2 ** 31 - 1024) {
    mkdirSync(join(cacheDir(), 'features'), { recursive: true });
    const header = Buffer.alloc(4 + 4 * shape.length);
    header.writeInt32LE(shape.length, 0);
    shape.forEach((d, i) => header.writeInt32LE(d, 4 + 4 * i));
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, Buffer.concat([header, Buffer.from(maps.buffer, maps.byteOffset, maps.byteLength)]));
    renameSync(tmp, path);
  }
  return new FeatureCache(maps, shape, n, mirrorTraining);
}

/** Makes the model's backbone take cached maps of parts [0, from) instead of images. */
export function startAtPart(model: FerModel, from: number): void {
  const b = cacheableBackbone(model);
  b.features = (map: tf.Tensor) => b.featuresFrom!(map, from);
}
