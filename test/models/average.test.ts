// Weight averaging (`ferkit ensemble --average`: WiSE-FT, model soups): every weight and BatchNorm
// statistic of the result is the weighted mean of the models'; α = 1 gives a model back exactly;
// models of other architectures are refused by name.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { averageWeights } from '../../src/models/ensemble/average.js';
import { buildEnsemble } from '../../src/models/ensemble/build.js';
import type { FerModel } from '../../src/models/model.js';
import { smallFerCnn } from '../helpers/small-fer-cnn.js';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};
const logitsOf = (m: FerModel, x: tf.Tensor) => tf.tidy(() => m.forward(x, false).logits.dataSync());

describe('weight averaging', () => {
  let a: FerModel;
  let b: FerModel;
  before(async () => {
    await initEngine('wasm');
    a = smallFerCnn([[4, 6], [8]], 1);
    b = smallFerCnn([[4, 6], [8]], 2);
  });

  it('every weight and BatchNorm statistic is the weighted mean (weights scaled to sum to 1)', () => {
    const avg = averageWeights([a, b], { weights: [3, 1], names: ['a', 'b'] });
    const [sa, sb, s] = [a.stateDict(), b.stateDict(), avg.stateDict()];
    const keys = Object.keys(s);
    assert.ok(keys.some((k) => k.includes('running_mean')) && keys.some((k) => k.endsWith('fc.weight')));
    for (const k of keys) {
      const want = Float32Array.from(sa[k]!.dataSync(), (v, i) => 0.75 * v + 0.25 * (sb[k]!.dataSync()[i] as number));
      assert.ok(maxAbsDiff(s[k]!.dataSync(), want) <= 1e-6, k);
    }
    assert.ok(maxAbsDiff(sa['fc.weight']!.dataSync(), sb['fc.weight']!.dataSync()) > 1e-3, 'the models differ (else the test proves nothing)');
    const info = avg.config.info as { averaged: { source: string; weight: number }[] };
    assert.deepEqual(
      info.averaged.map((m) => [m.source, m.weight]),
      [
        ['a', 0.75],
        ['b', 0.25],
      ],
    );
    avg.dispose();
  });

  it('an average dominated by one model computes that model; the result runs like any model', () => {
    const x = tf.randomNormal([3, 16, 16, 1], 0, 1, 'float32', 7);
    const avg = averageWeights([a, b], { weights: [1, 1e-9] });
    assert.ok(maxAbsDiff(logitsOf(avg, x), logitsOf(a, x)) <= 1e-4);
    const mirrored = buildEnsemble([avg], { mirror: true });
    assert.deepEqual(tf.tidy(() => mirrored.forward(x, false).logits.shape), [3, 5]);
    mirrored.dispose();
    avg.dispose();
    x.dispose();
  });

  it('refuses other architectures, ensembles and a single model, naming them', () => {
    const wide = smallFerCnn([[4, 7], [8]], 3);
    assert.throws(() => averageWeights([a, wide], { names: ['a', 'wide'] }), /wide: architecture .* differs from a's/);
    const two = smallFerCnn([[4, 6], [8]], 3, { classes: ['angry', 'happy'] });
    assert.throws(() => averageWeights([a, two], { names: ['a', 'two'] }), /two: classes/);
    const ens = buildEnsemble([a, b]);
    assert.throws(() => averageWeights([ens, ens], { names: ['ens', 'ens2'] }), /ens: is an ensemble/);
    assert.throws(() => averageWeights([a]), /at least two models/);
    for (const m of [wide, two, ens]) m.dispose();
  });
});
