// `ferkit ensemble` as a user runs it: two saved models become one model folder (with a verified
// model.onnx) whose logits on real faces are the weighted mean of theirs, kept as members by
// default or merged into one fer-cnn with --fold; bad flags fail with exit 1 and say what is wrong.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { decodeImageFile } from '../../src/data/image.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import type { FerModel } from '../../src/models/model.js';
import { imagesToInput } from '../../src/models/preprocess.js';
import { ferImages, tempDir } from '../data/data-fixtures.js';
import { ferkit } from '../helpers/cli.js';
import { smallFerCnn } from '../helpers/small-fer-cnn.js';

const FER = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const input = { kind: 'image' as const, size: [48, 48] as [number, number], channels: 1 as const, mean: [0.5], std: [0.25] };

describe('ferkit ensemble', () => {
  let dirA = '';
  let dirB = '';
  let x: tf.Tensor4D;
  const logits = (m: FerModel, t: tf.Tensor) => tf.tidy(() => Array.from(m.forward(t, false).logits.dataSync()));
  const maxAbsDiff = (p: number[], q: number[]) => Math.max(...p.map((v, i) => Math.abs(v - q[i])));

  before(async () => {
    await initEngine();
    const root = tempDir('ensemble');
    [dirA, dirB] = [join(root, 'a'), join(root, 'b')];
    await saveModel(dirA, smallFerCnn([[6], [8], [10]], 1, { classes: FER, input }));
    await saveModel(dirB, smallFerCnn([[4], [6], [12]], 2, { classes: FER, input }));
    const files = ['happy', 'sad', 'surprise', 'angry'].flatMap((c) => ferImages(c, 2));
    x = imagesToInput(await Promise.all(files.map((f) => decodeImageFile(f, { channels: 1 }))), input);
  });

  it('keeps the members: logits on real faces are the weighted mean over members and mirror images', async () => {
    const out = join(tempDir('ensemble'), 'members');
    const r = ferkit(['ensemble', '--model', dirA, '--model', dirB, '--weights', '1,3', '--mirror', '--out', out]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.equal(r.stdout.trim(), out);
    assert.match(r.stderr, /onnxruntime vs TF\.js max abs diff/);
    assert.deepEqual(readdirSync(out).sort(), ['config.json', 'model.onnx', 'model.safetensors']);
    const [a, b, ens] = await Promise.all([loadModel(dirA), loadModel(dirB), loadModel(out)]);
    assert.equal(ens.config.method, 'ensemble');
    const flipped = tf.reverse(x, 2);
    const [za, zaf, zb, zbf] = [logits(a, x), logits(a, flipped), logits(b, x), logits(b, flipped)];
    const want = za.map((_, i) => 0.25 * (za[i] + zaf[i]) / 2 + 0.75 * (zb[i] + zbf[i]) / 2);
    assert.ok(maxAbsDiff(logits(ens, x), want) < 1e-4);
    flipped.dispose();
    for (const m of [a, b, ens]) m.dispose();
  });

  it('--fold merges fer-cnn members into one fer-cnn as wide as both', async () => {
    const out = join(tempDir('ensemble'), 'folded');
    const r = ferkit(['ensemble', '--fold', '--model', dirA, '--model', dirB, '--out', out]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const [a, b, folded] = await Promise.all([loadModel(dirA), loadModel(dirB), loadModel(out)]);
    assert.equal(folded.config.backbone, 'fer-cnn');
    assert.deepEqual(folded.config.backboneOptions, { stages: [[10], [14], [22]], widthMultiplier: 1 });
    const [za, zb] = [logits(a, x), logits(b, x)];
    assert.ok(maxAbsDiff(logits(folded, x), za.map((v, i) => (v + zb[i]) / 2)) < 1e-4);
    for (const m of [a, b, folded]) m.dispose();
  });

  it('bad flags fail with exit 1 and say what is wrong', () => {
    const out = join(tempDir('ensemble'), 'bad');
    const one = ferkit(['ensemble', '--model', dirA, '--out', out]);
    assert.equal(one.code, 1);
    assert.match(one.stderr, /at least two models/);
    const w = ferkit(['ensemble', '--model', dirA, '--model', dirB, '--weights', '1', '--out', out]);
    assert.equal(w.code, 1);
    assert.match(w.stderr, /--weights gives 1 numbers for 2 models/);
    const clip = join('models', 'ial-ckplus48');
    const kept = ferkit(['ensemble', '--model', dirA, '--model', clip, '--out', out]);
    assert.equal(kept.code, 1);
    assert.match(kept.stderr, /models\/ial-ckplus48: only image models form an ensemble/);
    const folded = ferkit(['ensemble', '--fold', '--model', dirA, '--model', clip, '--out', out]);
    assert.equal(folded.code, 1);
    assert.match(folded.stderr, /models\/ial-ckplus48: only cross-entropy models on the fer-cnn backbone/);
    assert.ok(!existsSync(out));
  });
});
