// Every layer against PyTorch on the default backend: forward values, and gradients of
// sum(y · upstream) for the input and every parameter (in PyTorch layout). Weights travel to
// PyTorch through our safetensors writer and torch-layout conversion, so those are checked too.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { gelu, geluTanh } from '../../src/nn/activations.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Linear } from '../../src/nn/linear.js';
import { Lambda, type Layer } from '../../src/nn/module.js';
import { BatchNorm1d, BatchNorm2d, LayerNorm } from '../../src/nn/norm.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../../src/nn/pool.js';
import { Rng } from '../../src/util/rng.js';
import { toTorchLayout, torchStateDict } from '../../src/nn/torch-layout.js';
import { relDiff, runTorchReference, TORCH_MISSING, torchAvailable, type TorchCase } from '../helpers/torch-reference.js';

interface Case {
  name: string;
  layer: Layer;
  x: number[];
  shift?: number;
  op: string;
  args?: Record<string, unknown>;
  train?: boolean;
}

const rng = new Rng(1234);
const randn = (shape: number[], shift = 0) => tf.add(tf.tensor(rng.fillNormal(shape.reduce((a, b) => a * b, 1)), shape), shift);

function cases(): Case[] {
  const conv = (cin: number, cout: number, k: number, o: Record<string, unknown>) => ({
    op: 'conv2d',
    args: { cin, cout, kernel: k, stride: o.stride ?? 1, padding: typeof o.padding === 'number' ? o.padding : 0, dilation: o.dilation ?? 1, groups: o.groups ?? 1, bias: o.bias ?? true, pad4: Array.isArray(o.padding) ? o.padding : undefined },
    layer: new Conv2d(cin, cout, k, { ...o, rng }),
  });
  const bn2 = new BatchNorm2d(4);
  const bnEval = new BatchNorm2d(3);
  const bn1 = new BatchNorm1d(5);
  for (const bn of [bn2, bnEval, bn1]) {
    bn.weight!.assign(tf.add(randn([bn.numFeatures]), 1));
    bn.bias!.assign(randn([bn.numFeatures]));
  }
  bnEval.runningMean.assign(randn([3]));
  bnEval.runningVar.assign(tf.add(tf.abs(randn([3])), 0.5));
  bnEval.eval();
  const ln = new LayerNorm(6);
  ln.weight!.assign(randn([6], 1));
  ln.bias!.assign(randn([6]));
  return [
    { name: 'conv_s2p1', x: [2, 7, 7, 3], ...conv(3, 4, 3, { stride: 2, padding: 1 }) },
    { name: 'conv_k7s2p3', x: [1, 12, 12, 2], ...conv(2, 3, 7, { stride: 2, padding: 3, bias: false }) },
    { name: 'conv_1x1s2', x: [1, 7, 7, 3], ...conv(3, 5, 1, { stride: 2, bias: false }) },
    { name: 'conv_dilated', x: [1, 8, 8, 2], ...conv(2, 3, 3, { padding: 2, dilation: 2 }) },
    { name: 'conv_depthwise', x: [2, 9, 9, 4], ...conv(4, 8, 3, { stride: 2, padding: 1, groups: 4 }) },
    { name: 'conv_pad4', x: [1, 6, 6, 2], ...conv(2, 2, 3, { padding: [0, 1, 1, 2] }) },
    { name: 'maxpool_k3s2p1', x: [2, 9, 9, 3], shift: -3, op: 'maxpool2d', args: { kernel: 3, stride: 2, padding: 1 }, layer: new MaxPool2d(3, 2, 1) },
    { name: 'maxpool_k2', x: [1, 6, 6, 2], op: 'maxpool2d', args: { kernel: 2, stride: 2, padding: 0 }, layer: new MaxPool2d(2) },
    { name: 'bn2d_train', x: [3, 5, 5, 4], shift: 2, op: 'batchnorm', args: { c: 4, train: true }, layer: bn2 },
    { name: 'bn2d_eval', x: [2, 4, 4, 3], op: 'batchnorm', args: { c: 3, train: false }, layer: bnEval },
    { name: 'bn1d_train', x: [6, 5], op: 'batchnorm', args: { c: 5, train: true }, layer: bn1 },
    { name: 'linear', x: [2, 3, 5], op: 'linear', args: { fin: 5, fout: 3 }, layer: new Linear(5, 3, { rng }) },
    { name: 'layernorm', x: [2, 3, 6], shift: 1, op: 'layernorm', args: { dim: 6 }, layer: ln },
    { name: 'gelu', x: [24], op: 'gelu', args: { approximate: 'none' }, layer: new Lambda(gelu) },
    { name: 'gelu_tanh', x: [24], op: 'gelu', args: { approximate: 'tanh' }, layer: new Lambda(geluTanh) },
    { name: 'adaptive_pool', x: [1, 5, 7, 2], op: 'adaptive_avg_pool2d', args: { out: [3, 2] }, layer: new AdaptiveAvgPool2d([3, 2]) },
  ];
}

describe('layers vs PyTorch', () => {
  before(async () => {
    await initEngine();
  });

  it('forward and gradients match torch for conv/pool/norm/linear/gelu cases', { timeout: 120_000 }, async (t) => {
    if (!torchAvailable()) {
      t.skip(TORCH_MISSING);
      return;
    }
    const all = cases();
    const inputs: Record<string, tf.Tensor> = {};
    const ours: Record<string, tf.Tensor> = {};
    for (const c of all) {
      const x = tf.variable(randn(c.x, c.shift ?? 0));
      const layout = c.layer.torchLayouts();
      const up = randn(c.layer.forward(x).shape);
      if (c.layer instanceof BatchNorm2d || c.layer instanceof BatchNorm1d) {
        // the probing forward above updated the running stats: put them back
        if (c.layer.training) {
          c.layer.runningMean.assign(tf.zeros([c.layer.numFeatures]));
          c.layer.runningVar.assign(tf.ones([c.layer.numFeatures]));
        }
        inputs[`${c.name}.running_mean`] = tf.clone(c.layer.runningMean);
        inputs[`${c.name}.running_var`] = tf.clone(c.layer.runningVar);
      }
      for (const [k, v] of Object.entries(torchStateDict(c.layer))) if (!k.startsWith('running') && k !== 'num_batches_tracked') inputs[`${c.name}.${k}`] = v;
      inputs[`${c.name}.x`] = tf.clone(x);
      inputs[`${c.name}.upstream`] = up;
      const params = c.layer.namedParameters();
      let y: tf.Tensor | undefined;
      const { grads } = tf.variableGrads(() => {
        y = tf.keep(c.layer.forward(x));
        return tf.sum(tf.mul(y, up));
      }, [x, ...params.map(([, v]) => v)]);
      ours[`${c.name}.y`] = y!;
      ours[`${c.name}.dx`] = grads[x.name];
      for (const [k, v] of params) ours[`${c.name}.d${k}`] = toTorchLayout(grads[v.name], layout[k]);
      if (c.args?.train) {
        ours[`${c.name}.running_mean`] = (c.layer as BatchNorm2d).runningMean;
        ours[`${c.name}.running_var`] = (c.layer as BatchNorm2d).runningVar;
      }
    }
    const torchCases: TorchCase[] = all.map((c) => ({ name: c.name, op: c.op, args: c.args }));
    const ref = runTorchReference(inputs, torchCases);
    const failures: string[] = [];
    for (const [k, v] of Object.entries(ref)) {
      assert.ok(ours[k], `we computed nothing for ${k}`);
      const d = relDiff(ours[k], v);
      const tol = k.endsWith('.y') || k.includes('running') ? 2e-5 : 1e-4;
      if (!(d <= tol)) failures.push(`${k}: rel diff ${d.toExponential(2)} > ${tol}`);
    }
    assert.deepEqual(failures, []);
    // every case produced an output, a dx and one gradient per parameter
    for (const c of all) {
      assert.ok(ref[`${c.name}.y`] && ref[`${c.name}.dx`], `torch returned nothing for ${c.name}`);
      for (const [k] of c.layer.namedParameters()) assert.ok(ref[`${c.name}.d${k}`], `no torch gradient for ${c.name}.${k}`);
    }
  });
});
