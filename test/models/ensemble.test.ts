// EnsembleModel: the weighted mean of its members' logits (each also on the mirrored face when
// mirror is on), saved and loaded as one folder no bigger than its members, and refusals that
// name the member or the file.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { buildEnsemble } from '../../src/models/ensemble/build.js';
import { methods } from '../../src/models/all-methods.js';
import type { FerModel } from '../../src/models/model.js';
import { initWeights } from '../../src/train/method-replica.js';
import { smallFerCnn } from '../helpers/small-fer-cnn.js';
import { tempDir } from '../data/data-fixtures.js';
import { adaptInput, resizeMatrix } from '../../src/models/ensemble/adapt.js';
import { imagesToInput } from '../../src/models/preprocess.js';
import { bilinearMatrix, resizeBilinear, type Raster } from '../../src/data/raster.js';
import { Rng } from '../../src/util/rng.js';
import type { InputSpec } from '../../src/data/types.js';

const RGB24: InputSpec = { kind: 'image', size: [24, 24], channels: 3, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] };


const logitsOf = (m: FerModel, x: tf.Tensor) => tf.tidy(() => m.forward(x, false).logits.arraySync() as number[][]);
const maxAbsDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, n) => row.map((v, k) => Math.abs(v - b[n][k]))));

describe('EnsembleModel', () => {
  let a: FerModel;
  let b: FerModel;
  before(async () => {
    await initEngine('wasm');
    a = smallFerCnn([[4, 6], [8]], 1);
    b = smallFerCnn([[3, 5], [7], [9]], 2);
  });

  it('gives the weighted mean of the members’ logits (weights scaled to sum to 1)', () => {
    const ens = buildEnsemble([a, b], { weights: [3, 1], names: ['a', 'b'] });
    assert.deepEqual((ens.config.methodOptions as { weights: number[] }).weights, [0.75, 0.25]);
    const x = tf.randomNormal([5, 16, 16, 1], 0, 1, 'float32', 3);
    const [za, zb] = [logitsOf(a, x), logitsOf(b, x)];
    const want = za.map((row, n) => row.map((v, k) => 0.75 * v + 0.25 * zb[n][k]));
    assert.ok(maxAbsDiff(logitsOf(ens, x), want) < 1e-5);
    assert.ok(maxAbsDiff(za, zb) > 1e-3, 'the members disagree (else the test proves nothing)');
    const emb = tf.tidy(() => ens.forward(x, false).embedding!.shape);
    assert.deepEqual(emb, [5, 8 + 9]);
    x.dispose();
    ens.dispose();
  });

  it('mirror averages each member over the face and its mirror image; one member may be mirrored alone', () => {
    const ens = buildEnsemble([a, b], { weights: [1, 1], mirror: true });
    const x = tf.randomNormal([4, 16, 16, 1], 0, 1, 'float32', 4);
    const flipped = tf.reverse(x, 2);
    const parts = [a, b].flatMap((m) => [logitsOf(m, x), logitsOf(m, flipped)]);
    const want = parts[0].map((row, n) => row.map((_, k) => parts.reduce((s, p) => s + p[n][k] / 4, 0)));
    assert.ok(maxAbsDiff(logitsOf(ens, x), want) < 1e-5);
    // The mirrored model answers a face and its mirror image alike; a member alone does not.
    assert.ok(maxAbsDiff(logitsOf(ens, x), logitsOf(ens, flipped)) < 1e-5);
    assert.ok(maxAbsDiff(logitsOf(a, x), logitsOf(a, flipped)) > 1e-3);
    const alone = buildEnsemble([a], { mirror: true });
    assert.ok(maxAbsDiff(logitsOf(alone, x), logitsOf(alone, flipped)) < 1e-5);
    tf.dispose([x, flipped]);
    ens.dispose();
    alone.dispose();
  });

  it('saves and loads as one folder holding just the members’ weights', async () => {
    const dir = tempDir('ensemble-model');
    const ens = buildEnsemble([a, b], { weights: [1, 2], mirror: true, names: ['a', 'b'] });
    await saveModel(dir, ens);
    const loaded = await loadModel(dir);
    const x = tf.randomNormal([3, 16, 16, 1], 0, 1, 'float32', 5);
    assert.ok(maxAbsDiff(logitsOf(loaded, x), logitsOf(ens, x)) < 1e-6);
    assert.equal(loaded.numParameters(), a.numParameters() + b.numParameters());
    const bytes = statSync(join(dir, 'model.safetensors')).size;
    assert.ok(bytes < 4 * (a.numParameters() + b.numParameters()) + 64 * 1024, `${bytes} bytes for the members' weights`);
    const info = loaded.config.info as { ensemble: { source: string; weight: number }[] };
    assert.deepEqual(info.ensemble.map((e) => e.source), ['a', 'b']);
    x.dispose();
    ens.dispose();
    loaded.dispose();
  });

  it('DIR#N names member N: loaded alone, or as initial weights for fine-tuning', async () => {
    const dir = tempDir('ensemble-members');
    const ens = buildEnsemble([a, b], { weights: [1, 2], mirror: true, names: ['a', 'b'] });
    await saveModel(dir, ens);
    const x = tf.randomNormal([3, 16, 16, 1], 0, 1, 'float32', 6);
    const second = await loadModel(`${dir}#2`);
    assert.deepEqual(second.config.backboneOptions, b.config.backboneOptions);
    assert.ok(maxAbsDiff(logitsOf(second, x), logitsOf(b, x)) < 1e-6);
    const fresh = smallFerCnn([[3, 5], [7], [9]], 99);
    assert.ok(maxAbsDiff(logitsOf(fresh, x), logitsOf(b, x)) > 1e-3);
    initWeights(fresh, `${dir}#2`);
    assert.ok(maxAbsDiff(logitsOf(fresh.eval(), x), logitsOf(b, x)) < 1e-6);
    assert.throws(() => initWeights(fresh, dir), /it is an ensemble, give .*#N for its member N/);
    await assert.rejects(loadModel(`${dir}#3`), /#3: the ensemble has members 1 to 2/);
    const plain = tempDir('ensemble-plain');
    await saveModel(plain, a);
    await assert.rejects(loadModel(`${plain}#1`), /is a ce model, not an ensemble/);
    x.dispose();
    for (const m of [ens, second, fresh]) m.dispose();
  });

  it('a member that knows more classes (8-class FER+ beside 7-class models) has the ensemble’s picked by name', async () => {
    // a's classes and one more, in another order: the ensemble keeps the first member's classes.
    const more = ['contempt', ...[...(a.config.classes)].reverse()];
    const c = smallFerCnn([[3, 5], [7]], 5, { classes: more });
    const ens = buildEnsemble([a, c], { weights: [1, 3], names: ['a', 'c'] });
    assert.deepEqual(ens.config.classes, a.config.classes);
    const x = tf.randomNormal([4, 16, 16, 1], 0, 1, 'float32', 8);
    const [za, zc] = [logitsOf(a, x), logitsOf(c, x)];
    const want = za.map((row, n) => row.map((v, k) => 0.25 * v + 0.75 * zc[n][more.indexOf(a.config.classes[k]!)]!));
    assert.ok(maxAbsDiff(logitsOf(ens, x), want) < 1e-5);
    // Saved and loaded, the picks come back from the members' configs.
    const dir = tempDir('ensemble-picked');
    await saveModel(dir, ens);
    const loaded = await loadModel(dir);
    assert.ok(maxAbsDiff(logitsOf(loaded, x), want) < 1e-5);
    // The first member sets the classes: one that lacks a class of it is refused by name.
    assert.throws(() => buildEnsemble([c, a], { names: ['c', 'a'] }), /a: classes .* lack contempt, which c's .* has/);
    x.dispose();
    for (const m of [c, ens, loaded]) m.dispose();
  });

  it('refuses what cannot be averaged, naming the member or the file', async () => {
    assert.throws(() => buildEnsemble([a]), /at least two models/);
    assert.throws(() => buildEnsemble([a, b], { weights: [1, 0] }), /positive numbers/);
    const two = smallFerCnn([[4]], 3, { classes: ['angry', 'happy'] });
    assert.throws(() => buildEnsemble([a, two], { names: ['a', 'two'] }), /two: classes/);
    const ens = buildEnsemble([a, b]);
    assert.throws(() => buildEnsemble([ens, a], { names: ['ens', 'a'] }), /ens: is an ensemble already/);
    assert.throws(() => ens.forward(tf.zeros([1, 16, 16, 1]), true), /not trained as a whole/);
    assert.throws(() => methods.get('ensemble').create.createObjective(ens, {}), /train its members/);
    // A hand-edited config without members is named with its file.
    const dir = tempDir('ensemble-bad');
    await saveModel(dir, ens);
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ ...ens.config, methodOptions: { weights: [1] } }));
    await assert.rejects(loadModel(dir), /methodOptions\.members must list the member models/);
    // A colour member cannot be fed from a grey ensemble input (hand-edited config).
    const colour = smallFerCnn([[4]], 3, { input: RGB24 });
    const rawGrey = { kind: 'image', size: [24, 24], channels: 1, mean: [0], std: [1] };
    writeFileSync(file, JSON.stringify({ ...ens.config, input: rawGrey, methodOptions: { members: [a.config, colour.config] } }));
    await assert.rejects(loadModel(dir), /member 2's input .* cannot be made from the ensemble's .*: a colour member cannot be fed a grey ensemble input/);
    ens.dispose();
    two.dispose();
    colour.dispose();
  });

  it('shrinking inside the model inverts the pipeline filter\'s upsampling (48 → 112 → 48 is the identity)', () => {
    const up = bilinearMatrix(48, 112); // [112 × 48]
    const down = resizeMatrix(112, 48); // [48 × 112]
    let err = 0;
    for (let i = 0; i < 48; i++) for (let j = 0; j < 48; j++) {
      let v = 0;
      for (let k = 0; k < 112; k++) v += down[i * 112 + k]! * up[k * 48 + j]!;
      err = Math.max(err, Math.abs(v - (i === j ? 1 : 0)));
    }
    assert.ok(err < 1e-4, `down · up differs from the identity by ${err}`);
    assert.deepEqual(resizeMatrix(48, 112), up, 'growing is the pipeline filter itself');
  });

  it('members with different inputs (16 px grey, 24 px RGB) share one raw-pixel input, adapted to each inside the model', () => {
    const colour = smallFerCnn([[4, 6], [8]], 4, { input: RGB24 });
    const ens = buildEnsemble([a, colour], { weights: [1, 3], mirror: true, names: ['grey', 'colour'] });
    assert.deepEqual(ens.config.input, { kind: 'image', size: [24, 24], channels: 3, mean: [0, 0, 0], std: [1, 1, 1] });
    // Colour faces of 16 px, upsampled by the pipeline to the shared 24 px: the grey 16 px member
    // gets its own faces back (601 luma; shrinking inverts the pipeline's upsample), the 24 px
    // member what the pipeline gives it, up to the pipeline's 8-bit rounding.
    const rng = new Rng(8);
    const small: Raster[] = Array.from({ length: 3 }, () => ({ width: 16, height: 16, channels: 3, data: Uint8Array.from({ length: 16 * 16 * 3 }, () => Math.floor(rng.next() * 256)) }));
    const faces = small.map((f) => resizeBilinear(f, 24, 24));
    const x = imagesToInput(faces, ens.config.input);
    for (const [i, m] of [a, colour].entries()) {
      const plan = ens.adapters[i];
      const own = imagesToInput(i === 0 ? small : faces, m.config.input);
      const adapted = plan ? adaptInput(x, plan) : x;
      const [p, q] = [adapted.dataSync(), own.dataSync()];
      assert.equal(p.length, q.length);
      const d = Math.max(...Array.from(p, (v, j) => Math.abs(v - q[j]!)));
      assert.ok(d <= 2 / 255 / Math.min(...m.config.input.std), `member ${i + 1}: adapter vs pipeline ${d}`);
      tf.dispose([own, adapted]);
    }
    assert.ok(ens.adapters[0] && ens.adapters[1], 'both members adapt (resize + luma; normalisation)');
    // Logits: the weighted mean of each member on its adapted input and its mirror image.
    const flipped = tf.reverse(x, 2);
    const parts = [a, colour].flatMap((m, i) => [x, flipped].map((v) => tf.tidy(() => m.forward(adaptInput(v, ens.adapters[i]!), false).logits.arraySync() as number[][])));
    const w = [0.25, 0.25, 0.75, 0.75];
    const want = parts[0].map((row, n) => row.map((_, k) => parts.reduce((acc, p, j) => acc + (w[j] * p[n][k]) / 2, 0)));
    assert.ok(maxAbsDiff(logitsOf(ens, x), want) < 1e-5);
    tf.dispose([x, flipped]);
    ens.dispose();
    colour.dispose();
  });
});
