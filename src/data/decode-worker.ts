// Decode + augment worker: reads image files, applies a named augmentation preset with the RNG
// state it is sent, and returns the rasters with their buffers transferred (no copy).
import { moved, taskHandler } from '../util/workers.js';
import { augmentations } from './augment.js';
import { DataError } from './errors.js';
import { decodeImageFile, type Raster } from './image.js';
import { Rng } from '../util/rng.js';
import type { DecodeJob, DecodeReply } from './decode-pool.js';

export default taskHandler(async (job: DecodeJob): Promise<DecodeReply> => {
  try {
    const t = job.augment ? augmentations.get(job.augment).create({ size: job.size }) : undefined;
    const rng = new Rng(job.rngState);
    const out: Raster[][] = [];
    for (const group of job.groups) {
      const frames = await Promise.all(group.map((p) => decodeImageFile(p, { channels: job.channels })));
      out.push(t ? (job.clip ? t.applyClip(frames, rng) : frames.map((f) => t.applyImage(f, rng))) : frames);
    }
    return moved({ groups: out }, out.flat().map((r) => r.data.buffer as ArrayBuffer));
  } catch (e) {
    if (e instanceof DataError) return { file: e.file, problem: e.problem };
    throw e;
  }
});
