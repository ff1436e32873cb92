// U×V sampling reaches the batches: a config's input.framesPerSegment makes BatchBuilder (used by
// the trainer, eval and report) draw NR-DFERNet's U8×V2 pairs instead of IAL's U16×V1; --sampling
// sets it; configs with a V that does not divide the frames are refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IAL_SAMPLING, NR_DFERNET_SAMPLING, parseClipSampling, testFrameIndices } from '../../src/data/clip-sampling.js';
import { inputFrom, type TrainingFlags } from '../../src/cli/train-setup.js';
import { methods } from '../../src/models/all-methods.js';
import { checkConfig } from '../../src/models/io.js';
import type { InputSpec } from '../../src/models/model.js';
import { BatchBuilder } from '../../src/data/batches.js';
import type { SampleStore } from '../../src/data/sample-store.js';

/** One 1x1 grey clip of n frames whose pixel value is the frame index. */
function indexStore(n: number): SampleStore {
  return {
    size: 1,
    width: 1,
    height: 1,
    channels: 1,
    framesOf: () => n,
    frame: (_i, f) => ({ width: 1, height: 1, channels: 1, data: Uint8Array.of(f) }),
  };
}

const clipInput = (framesPerSegment?: number): InputSpec => ({ kind: 'clip', size: [1, 1], channels: 1, frames: 16, mean: [0], std: [1 / 255], ...(framesPerSegment ? { framesPerSegment } : {}) });
const frames = (b: BatchBuilder, seed?: number) => Array.from(b.build([0], seed).x, Math.round);

describe('U×V sampling in the batches', () => {
  it('test batches follow the golden U16×V1 and U8×V2 indices (n = 50)', () => {
    assert.deepEqual(frames(new BatchBuilder(indexStore(50), clipInput())), testFrameIndices(50, IAL_SAMPLING));
    assert.deepEqual(frames(new BatchBuilder(indexStore(50), clipInput(2))), [3, 4, 9, 10, 15, 16, 21, 22, 27, 28, 33, 34, 39, 40, 45, 46]);
  });
  it('training batches with V = 2 are 8 pairs of consecutive frames, one per segment of 6', () => {
    const b = new BatchBuilder(indexStore(50), clipInput(2));
    for (const seed of [1, 2, 3]) {
      const f = frames(b, seed);
      for (let k = 0; k < 8; k++) {
        assert.equal(f[2 * k + 1], f[2 * k] + 1);
        assert.ok(f[2 * k] >= 6 * k && f[2 * k] < 6 * k + 6, `segment ${k}: ${f[2 * k]}`);
      }
    }
  });
  it('--sampling names and <U>x<V> grids set frames and framesPerSegment', async () => {
    assert.deepEqual(parseClipSampling('u8v2'), NR_DFERNET_SAMPLING);
    assert.deepEqual(parseClipSampling('ial'), IAL_SAMPLING);
    assert.deepEqual(parseClipSampling('2x2'), { segments: 2, framesPerSegment: 2, shortClips: 'first-frame' });
    assert.throws(() => parseClipSampling('8by2'), /clip sampling "8by2" is neither u16v1, u8v2 nor <U>x<V>/);
    const d = methods.get('ial').create.defaults;
    const flags = { method: 'ial', sampling: 'u8v2' } as TrainingFlags;
    const input = await inputFrom(flags, d);
    assert.equal(input.frames, 16);
    assert.equal(input.framesPerSegment, 2);
    assert.equal((await inputFrom({ ...flags, sampling: '2x2', size: '48', channels: '1' }, d)).frames, 4);
    await assert.rejects(inputFrom({ ...flags, frames: '3' }, d), /--sampling u8v2 gives 16 frames, but --frames is 3/);
    await assert.rejects(inputFrom({ ...flags, method: 'ce' }, methods.get('ce').create.defaults), /method ce takes images/);
  });
  it('a config whose framesPerSegment does not divide the frames is refused, naming the file', () => {
    const config = { format: 'ferkit-model', version: 1, method: 'ial', backbone: 'ial-resnet', classes: ['happy', 'sad'], input: { ...clipInput(3) } };
    assert.throws(() => checkConfig(config, 'm/config.json'), /m\/config\.json: not a ferkit model config \(input\.framesPerSegment 3 must be a positive integer dividing input\.frames \(16\)\)/);
    assert.equal(checkConfig({ ...config, input: clipInput(2) }, 'm/config.json').input.framesPerSegment, 2);
    assert.throws(() => new BatchBuilder(indexStore(20), clipInput(3)), /16 frames cannot be cut into segments of 3 frames/);
  });
});
