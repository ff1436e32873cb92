// The generic trainer on real FER2013 faces: a short run learns (loss falls, val accuracy beats
// chance), an interrupted-and-resumed run reproduces the uninterrupted one exactly, and the best
// model folder loads and scores as the log says.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { loadModel } from '../../src/models/io.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { train } from '../../src/train/trainer.js';
import { loadSafetensors } from '../../src/nn/checkpoint.js';
import { tempDir } from '../data/data-fixtures.js';
import { config, options, subset } from './trainer-fixtures.js';

describe('trainer', () => {
  it('learns happy vs surprise from real FER2013 faces; the best folder scores as logged', async () => {
    await initEngine('wasm');
    const out = tempDir('trainer');
    const o = await options(out);
    const result = await train(o);
    assert.equal(result.finished, true);
    const losses = result.history.map((h) => h.loss);
    assert.ok(losses[losses.length - 1] < losses[0], `loss did not fall: ${losses.join(', ')}`);
    assert.ok(result.best && result.best.war > 0.6, `best val WAR ${result.best?.war} is not above chance (0.5); history ${JSON.stringify(result.history)}`);
    const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number });
    assert.deepEqual(log.map((l) => l.epoch), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(readdirSync(out).sort(), ['best', 'checkpoint.safetensors', 'log.jsonl'], 'no temporary files are left behind');
    const model = await loadModel(result.bestDir);
    const e = await evaluate(model, await subset('val', 40));
    assert.ok(Math.abs(e.war - result.best!.war) < 1e-9, `reloaded best scores ${e.war}, the trainer logged ${result.best!.war}`);
    model.dispose();
  });

  it('--iterations: that many steps in total, the last epoch cut short, the lr schedule spanning them', async () => {
    await initEngine('wasm');
    const steps: number[][] = [[], []];
    const lrs: number[] = [];
    const o = await options(tempDir('trainer-iterations'), { epochs: 99, maxStepsPerEpoch: 3, iterations: 5, val: undefined, schedule: { name: 'cosine' } });
    const r = await train({ ...o, onProgress: (p) => steps[p.epoch].push(p.steps), log: () => {} });
    assert.equal(r.epochsDone, 2);
    assert.deepEqual(steps, [[3, 3, 3], [2, 2]], 'epoch 1 has 3 steps, epoch 2 the remaining 2');
    lrs.push(...r.history.map((h) => h.lr));
    // Cosine over 5/3 epochs: after epoch 1 (3 of 5 steps) lr = base·(1 + cos(π·3/5))/2; at the end ~0.
    const base = o.optimizer.lr;
    assert.ok(Math.abs(lrs[0] - (base * (1 + Math.cos(Math.PI * 0.6))) / 2) < 1e-6 * base, `lr after epoch 1: ${lrs[0]}`);
    assert.ok(lrs[1] < 1e-6 * base, `lr at the end: ${lrs[1]}`);
  });

  it('soft targets (FER+ vote distributions): one-hot targets train exactly as hard labels, on 2 replicas; other distributions differ', async () => {
    await initEngine('wasm');
    const short = { epochs: 1, maxStepsPerEpoch: 3, val: undefined, workers: 2, objective: { labelSmoothing: 0.1 } };
    const hard = await options(tempDir('trainer-hard'), short);
    const oneHot = new Float32Array(hard.train.labels.length * 2);
    hard.train.labels.forEach((y, i) => (oneHot[i * 2 + y] = 1));
    const a = await train(hard);
    const b = await train({ ...(await options(tempDir('trainer-soft'), short)), train: { ...hard.train, targets: oneHot } });
    assert.deepEqual(b.history.map((h) => h.loss), a.history.map((h) => h.loss));
    const mixed = Float32Array.from(oneHot, (v) => 0.7 * v + 0.15);
    const c = await train({ ...(await options(tempDir('trainer-soft2'), short)), train: { ...hard.train, targets: mixed } });
    assert.notDeepEqual(c.history.map((h) => h.loss), a.history.map((h) => h.loss));
    await assert.rejects(train({ ...(await options(tempDir('trainer-soft3'), short)), train: { ...hard.train, targets: oneHot.subarray(2) } }), /soft targets: \d+ values for 320 samples of 2 classes/);
    const scn = await options(tempDir('trainer-soft-scn'), { ...short, workers: 1, config: config('scn', {}) });
    await assert.rejects(train({ ...scn, train: { ...scn.train, targets: oneHot } }), /method scn does not train on soft targets/);
  });

  it('a run stopped mid-epoch by its time budget and resumed ends with the same weights and losses', async () => {
    await initEngine('wasm');
    const full = tempDir('trainer-full');
    const cut = tempDir('trainer-cut');
    const short = { epochs: 2, maxStepsPerEpoch: 3, val: undefined };
    const a = await train(await options(full, short));
    // Budget 0: stops after the first step, with a checkpoint; then resumes to the end.
    const b1 = await train(await options(cut, { ...short, timeBudgetSec: 0 }));
    assert.equal(b1.finished, false);
    const b2 = await train(await options(cut, { ...short, resume: true }));
    assert.equal(b2.finished, true);
    assert.deepEqual(b2.history.map((h) => h.loss), a.history.map((h) => h.loss));
    const wa = await loadSafetensors(join(full, 'checkpoint.safetensors'));
    const wb = await loadSafetensors(join(cut, 'checkpoint.safetensors'));
    for (const [k, t] of Object.entries(wa.tensors)) {
      assert.deepEqual(Array.from(wb.tensors[k].dataSync()), Array.from(t.dataSync()), `${k} differs after resume`);
    }
  });
});
