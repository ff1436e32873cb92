// GCA scale golden values (methods.md §1.16 item 4).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { gcaScale } from '../../src/models/ial/gca-scale.js';

const clip = (frames: number[]) => tf.tensor3d(frames, [1, frames.length, 1]);
const close = (got: number, want: number) => assert.ok(Math.abs(got - want) < 1e-5, `got ${got}, want ${want}`);

before(async () => {
  await initEngine('wasm');
});

describe('GCA scale', () => {
  it('constant sigmoid outputs 0.5, 1, 0 give 1.000005, 2.0000025, 0.0031623', () => {
    close(gcaScale(clip(new Array(16).fill(0.5))).dataSync()[0], 1.000005);
    close(gcaScale(clip(new Array(16).fill(1))).dataSync()[0], 2.0000025);
    close(gcaScale(clip(new Array(16).fill(0))).dataSync()[0], 0.0031623);
  });
  it('mixed frames: 0.9 x8 / 0.1 x8 → 1.3416445 / 0.4472248; [0.2,0.4,0.6,0.8] repeated', () => {
    const s = gcaScale(clip([...new Array(8).fill(0.9), ...new Array(8).fill(0.1)])).dataSync();
    close(s[0], 1.3416445);
    close(s[15], 0.4472248);
    const r = gcaScale(clip(Array.from({ length: 16 }, (_, i) => [0.2, 0.4, 0.6, 0.8][i % 4]))).dataSync();
    [0.6324634, 0.8944328, 1.0954497, 1.264915].forEach((want, i) => close(r[i], want));
  });
  it('stays in (0, 2.0000025] per clip and channel, with clips independent', () => {
    const s = tf.randomUniform([3, 16, 5], 0, 1, 'float32', 3) as tf.Tensor3D;
    const v = gcaScale(s).dataSync();
    assert.ok(v.every((x) => x > 0 && x <= 2.0000025 + 1e-6));
    const alone = gcaScale(tf.slice(s, [1, 0, 0], [1, 16, 5]) as tf.Tensor3D).dataSync();
    alone.forEach((x, i) => close(v[80 + i], x));
  });
});
