// The decode-worker pool gives the same augmented rasters as the main thread for the same seed,
// and passes file errors back as DataErrors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { augmentations } from '../../src/data/augment.js';
import { DecodePool } from '../../src/data/decode-pool.js';
import { DataError } from '../../src/data/errors.js';
import { decodeImageFile } from '../../src/data/image.js';
import { Rng } from '../../src/util/rng.js';
import { sharedData } from './data-fixtures.js';

describe('DecodePool', () => {
  it('matches main-thread decode + augment draw for draw, and reports bad files', async () => {
    const dir = sharedData('fer2013', 'train', 'fear');
    const files = readdirSync(dir).sort().slice(0, 32).map((f) => join(dir, f));
    const pool = new DecodePool(2);
    try {
      const rng = new Rng(99);
      const clips = [files.slice(0, 16), files.slice(16, 32)];
      const fromPool = await pool.run({ groups: clips, channels: 3, augment: 'ial-train', size: 112, clip: true }, rng);
      // Main thread: the pool drew one seed from rng and gave it to the worker as its RNG state.
      const seed = Math.floor(new Rng(99).next() * 4294967296) >>> 0;
      const local = new Rng(seed);
      const t = augmentations.get('ial-train').create({ size: 112 });
      for (const [k, clip] of clips.entries()) {
        const frames = await Promise.all(clip.map((f) => decodeImageFile(f, { channels: 3 })));
        const expected = t.applyClip(frames, local);
        assert.equal(fromPool[k].length, 16);
        fromPool[k].forEach((r, i) => assert.deepEqual({ ...r, data: Buffer.from(r.data) }, { ...expected[i], data: Buffer.from(expected[i].data) }));
      }
      await assert.rejects(pool.run({ groups: [[join(dir, 'no-such.jpg')]], channels: 1 }, rng), (e: unknown) => {
        assert.ok(e instanceof DataError);
        assert.match(e.message, /no-such\.jpg: file not found/);
        return true;
      });
    } finally {
      await pool.close();
    }
  });
});
