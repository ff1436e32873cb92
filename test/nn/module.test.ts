// The module system: dotted names, buffers, train/eval, state dicts and their errors, freezing,
// disposal; the seeded Rng and the initialisers' statistics.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { relu } from '../../src/nn/activations.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Dropout } from '../../src/nn/dropout.js';
import { kaimingNormal, kaimingUniform } from '../../src/nn/init.js';
import { Linear } from '../../src/nn/linear.js';
import { Module, ModuleList, Sequential } from '../../src/nn/module.js';
import { BatchNorm2d } from '../../src/nn/norm.js';
import { Rng } from '../../src/util/rng.js';

class Net extends Module {
  readonly body: Sequential;
  readonly heads: ModuleList<Linear>;
  constructor(rng: Rng) {
    super();
    this.body = this.registerModule('body', new Sequential(new Conv2d(2, 3, 3, { padding: 1, rng }), new BatchNorm2d(3), relu));
    this.heads = this.registerModule('heads', new ModuleList([new Linear(3, 2, { rng }), new Linear(3, 1, { bias: false, rng })]));
  }
}

const stats = (t: tf.Tensor) => {
  const d = Array.from(t.dataSync() as Float32Array);
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
  return { mean, std, max: Math.max(...d), min: Math.min(...d) };
};

describe('Module', () => {
  before(async () => {
    await initEngine();
  });

  it('names parameters and buffers with PyTorch dotted paths, in PyTorch order', () => {
    const net = new Net(new Rng(1));
    assert.deepEqual(
      net.namedParameters().map(([n]) => n),
      ['body.0.weight', 'body.0.bias', 'body.1.weight', 'body.1.bias', 'heads.0.weight', 'heads.0.bias', 'heads.1.weight'],
    );
    assert.deepEqual(
      net.namedBuffers().map(([n]) => n),
      ['body.1.running_mean', 'body.1.running_var', 'body.1.num_batches_tracked'],
    );
    assert.deepEqual(Object.keys(net.stateDict()).slice(2, 7), ['body.1.weight', 'body.1.bias', 'body.1.running_mean', 'body.1.running_var', 'body.1.num_batches_tracked']);
    // 2·3·3·3 + 3 conv, 3 + 3 BN, 3·2 + 2 and 3·1 linear
    assert.equal(net.numParameters(), 54 + 3 + 6 + 8 + 3);
    assert.deepEqual(net.torchLayouts(), { 'body.0.weight': 'conv2d', 'heads.0.weight': 'linear', 'heads.1.weight': 'linear' });
    net.dispose();
  });

  it('train()/eval() reach every descendant; requiresGrad(false) freezes', () => {
    const net = new Net(new Rng(1));
    assert.ok(net.namedModules().every(([, m]) => m.training));
    net.eval();
    assert.ok(net.namedModules().every(([, m]) => !m.training));
    net.train();
    assert.ok(net.namedModules().every(([, m]) => m.training));
    net.heads.requiresGrad(false);
    assert.equal(net.trainableParameters().length, 4);
    assert.equal(net.numParameters(true), 54 + 3 + 6);
    net.dispose();
  });

  it('loadStateDict copies values; strict errors name missing, unexpected and mis-shaped keys', () => {
    const a = new Net(new Rng(1));
    const b = new Net(new Rng(2));
    assert.notDeepEqual(Array.from(a.body.get(0).namedParameters()[0][1].dataSync()), Array.from(b.body.get(0).namedParameters()[0][1].dataSync()));
    const r = b.loadStateDict(a.stateDict());
    assert.deepEqual(r, { missing: [], unexpected: [] });
    for (const [k, v] of Object.entries(a.stateDict())) assert.deepEqual(Array.from(b.stateDict()[k].dataSync()), Array.from(v.dataSync()), k);

    const partial = { ...a.stateDict(), extra: tf.zeros([1]) } as Record<string, tf.Tensor>;
    delete partial['heads.1.weight'];
    assert.throws(() => b.loadStateDict(partial, { source: 'model.safetensors' }), /model\.safetensors.*missing keys: heads\.1\.weight.*unexpected keys: extra/);
    assert.deepEqual(b.loadStateDict(partial, { strict: false }), { missing: ['heads.1.weight'], unexpected: ['extra'] });
    const bad = { ...a.stateDict(), 'heads.0.bias': tf.zeros([5]) };
    assert.throws(() => b.loadStateDict(bad), /shape mismatch: heads\.0\.bias: checkpoint \[5\] vs model \[2\]/);
    tf.dispose([partial.extra, bad['heads.0.bias']]);
    a.dispose();
    b.dispose();
  });

  it('Sequential chains layers; dispose frees every variable', () => {
    const before = tf.memory().numTensors;
    const net = new Net(new Rng(3));
    const y = tf.tidy(() => net.heads.get(0).forward(tf.mean(net.body.forward(tf.ones([2, 4, 4, 2])), [1, 2])));
    assert.deepEqual(y.shape, [2, 2]);
    y.dispose();
    net.dispose();
    assert.equal(tf.memory().numTensors, before);
    assert.throws(() => net.heads.get(5), /out of range/);
  });

  it('duplicate or dotted member names are rejected', () => {
    class Bad extends Module {
      constructor(name: string) {
        super();
        this.registerBuffer('a', tf.zeros([1]));
        this.registerBuffer(name, tf.zeros([1]));
      }
    }
    assert.throws(() => new Bad('a'), /already registered/);
    assert.throws(() => new Bad('x.y'), /invalid member name/);
  });
});

describe('Rng and init', () => {
  it('is reproducible, and a saved state resumes the same stream (Box-Muller spare included)', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    assert.deepEqual(a.fillNormal(4), b.fillNormal(4)); // even: no spare left
    a.normal(); // leaves a spare
    const state = a.getState();
    assert.notEqual(state.spare, null);
    const expected = [a.normal(), a.uniform(), a.normal()];
    const c = new Rng(7);
    c.setState(JSON.parse(JSON.stringify(state)));
    assert.deepEqual([c.normal(), c.uniform(), c.normal()], expected);
    assert.throws(() => c.setState({ s: 'x' } as never), /invalid random state/);
  });

  it('normal draws have mean 0 and std 1; permutation is a permutation', () => {
    const r = new Rng(5);
    const s = stats(tf.tensor(r.fillNormal(40000)));
    assert.ok(Math.abs(s.mean) < 0.02 && Math.abs(s.std - 1) < 0.02, JSON.stringify(s));
    assert.deepEqual([...r.permutation(10)].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("kaiming normal (fan_out, relu) has std √(2/fan); PyTorch's default kaiming-uniform(√5) bound is 1/√fan_in", () => {
    const r = new Rng(9);
    const w = kaimingNormal([3, 3, 16, 64], 64 * 9, 'relu', 0, r);
    assert.ok(Math.abs(stats(w).std / Math.sqrt(2 / 576) - 1) < 0.03);
    const u = kaimingUniform([100, 50], 100, Math.sqrt(5), r);
    const su = stats(u);
    assert.ok(su.max <= 0.1 && su.min >= -0.1 && su.max > 0.099 && su.min < -0.099, JSON.stringify(su));
    tf.dispose([w, u]);
  });

  it('Dropout: identity in eval; in training zeros about p and scales the rest by 1/(1-p), reproducibly', () => {
    const x = tf.ones([20000]);
    const d = new Dropout(0.25, { rng: new Rng(3) });
    d.eval();
    assert.equal(d.forward(x), x);
    d.train();
    const y = d.forward(x).dataSync();
    const zeros = y.filter((v) => v === 0).length / y.length;
    assert.ok(Math.abs(zeros - 0.25) < 0.02, `zero fraction ${zeros}`);
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
    const again = new Dropout(0.25, { rng: new Rng(3) }).forward(x).dataSync();
    assert.deepEqual(Array.from(again), Array.from(y));
  });
});
