// Real faces for the inference tests: face-api's sample photos and a small mp4 made from two
// CK+48 sequences side by side (upscaled, on a grey canvas so the detector has context). The video
// is written to a temp folder with video.ts; no image is copied into the repo.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { decodeImageFile, resizeBilinear, type Raster } from '../../src/data/image.js';
import { encodeVideo } from '../../src/data/video.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';

const require = createRequire(import.meta.url);
export const demoDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
export const samplePhotos = readdirSync(demoDir).filter((f) => /^sample\d+\.jpg$/.test(f)).sort().map((f) => join(demoDir, f));

/** Frames of the first CK+48 sequence of a class (sorted: neutral-ish → peak). */
export function ckSequence(cls: string): string[] {
  const dir = sharedData('ckplus48', cls);
  const files = readdirSync(dir).sort();
  const id = files[0].split('_').slice(0, 2).join('_');
  return files.filter((f) => f.startsWith(id)).map((f) => join(dir, f));
}

/** Grey faces placed side by side on a mid-grey W×H RGB canvas, each upscaled to `side`, shifted by dx. */
function compose(faces: readonly Raster[], side: number, width: number, height: number, dx = 0): Raster {
  const data = new Uint8Array(width * height * 3).fill(128);
  faces.forEach((f, k) => {
    const r = resizeBilinear(f, side, side);
    const ox = Math.round((width / faces.length) * (k + 0.5) - side / 2) + dx;
    const oy = Math.round((height - side) / 2);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const v = r.data[(y * side + x) * r.channels];
        data.set([v, v, v], ((oy + y) * width + ox + x) * 3);
      }
    }
  });
  return { width, height, channels: 3, data };
}

export interface CkVideo {
  path: string;
  frames: Raster[];
  fps: number;
}

/** An 8-frame, 8 fps mp4: a happy CK+48 face (left) and a surprised one (right), drifting right. */
export async function ckVideo(): Promise<CkVideo> {
  const left = await Promise.all(ckSequence('happy').map((p) => decodeImageFile(p, { channels: 1 })));
  const right = await Promise.all(ckSequence('surprise').map((p) => decodeImageFile(p, { channels: 1 })));
  const order = [0, 1, 2, 2, 1, 0, 1, 2];
  const frames = order.map((k, i) => compose([left[k % left.length], right[k % right.length]], 96, 480, 240, i * 2));
  const path = join(tempDir('video'), 'ck-two-faces.mp4');
  await encodeVideo(frames, path, 8);
  return { path, frames, fps: 8 };
}
