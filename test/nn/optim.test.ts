// Optimizers against torch.optim (values from torch 1.13 for 3 steps, two parameter groups, one
// with its own lr and no weight decay), resumable state, schedules, gradient clipping, and
// trainStep without tensor leaks.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { Linear } from '../../src/nn/linear.js';
import { Rng } from '../../src/util/rng.js';
import { Adam, AdamW, optimizers, SGD, type Optimizer } from '../../src/train/optim.js';
import { clipGradNorm, trainStep, trainStepWithStats } from '../../src/train/step.js';

// loss = Σ (w·x − y)² + Σ b² · w[0], x = [0.5, 1, -1.5], y = [1, 0, 2]; w0 = [1, -2, 0.5], b0 = [0.3].
// Groups: [w] with the optimizer's lr and wd = 0.01; [b] with lr/2 and wd = 0.
// Rows: loss before the step, w after, b after (torch.optim, printed by /tmp/opt_golden.py).
type Row = [number, number[], number[]];
const GOLDEN: Record<string, Row[]> = {
  sgd: [
    [11.90250015258789, [1.0399999618530273, -1.5980000495910645, -0.3255000114440918], [0.27000001072883606]],
    [5.145208358764648, [1.1156699657440186, -0.9150020480155945, -1.5216494798660278], [0.2149200141429901]],
    [1.164063811302185, [1.222254753112793, -0.11638844013214111, -2.5119199752807617], [0.14137002825737]],
  ],
  sgd_nesterov: [
    [11.90250015258789, [1.0759999752044678, -1.236199975013733, -1.0684499740600586], [0.24300001561641693]],
    [1.9630383253097534, [1.182916283607483, -0.43847525119781494, -1.9615501165390015], [0.16902108490467072]],
    [1.2809373140335083, [1.313791275024414, 0.22330215573310852, -2.1181719303131104], [0.08798399567604065]],
  ],
  adam: [
    [11.90250015258789, [1.100000023841858, -1.899999976158142, 0.4000000059604645], [0.2500000298023224]],
    [10.641249656677246, [1.1997965574264526, -1.8001664876937866, 0.30018576979637146], [0.2001604437828064]],
    [9.452615737915039, [1.2991548776626587, -1.7006233930587769, 0.20069721341133118], [0.1507451981306076]],
  ],
  adamw: [
    [11.90250015258789, [1.0989999771118164, -1.8980000019073486, 0.3995000123977661], [0.2500000298023224]],
    [10.630143165588379, [1.1977193355560303, -1.7962726354599, 0.2992870509624481], [0.2001626193523407]],
    [9.432756423950195, [1.2959479093551636, -1.6949446201324463, 0.19950111210346222], [0.15075334906578064]],
  ],
};

function problem() {
  const w = tf.variable(tf.tensor([1, -2, 0.5]));
  const b = tf.variable(tf.tensor([0.3]));
  const x = tf.tensor([0.5, 1, -1.5]);
  const y = tf.tensor([1, 0, 2]);
  const loss = () => tf.add(tf.sum(tf.square(tf.sub(tf.mul(w, x), y))), tf.mul(tf.sum(tf.square(b)), tf.slice(w, [0], [1]).reshape([]))) as tf.Scalar;
  return { w, b, loss, groups: (lr: number) => [{ params: [w], weightDecay: 0.01 }, { params: [b], lr: lr / 2, weightDecay: 0 }] };
}

const make: Record<string, (g: ReturnType<ReturnType<typeof problem>['groups']>) => Optimizer> = {
  sgd: (g) => new SGD(g, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }),
  sgd_nesterov: (g) => new SGD(g, { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true }),
  adam: (g) => new Adam(g, { lr: 0.1, weightDecay: 0.01 }),
  adamw: (g) => new AdamW(g, { lr: 0.1, weightDecay: 0.01 }),
};

const close = (a: ArrayLike<number>, b: number[], tol: number, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs torch ${b[i]}`);
};

describe('optimizers', () => {
  before(async () => {
    await initEngine();
  });

  for (const name of Object.keys(GOLDEN)) {
    it(`${name}: 3 steps equal torch.optim's`, () => {
      const p = problem();
      const opt = make[name](p.groups(0.1));
      for (const [i, [loss, w, b]] of GOLDEN[name].entries()) {
        const got = trainStep([p.w, p.b], p.loss, opt);
        assert.ok(Math.abs(got - loss) < 1e-5 * Math.max(1, loss), `step ${i} loss ${got} vs ${loss}`);
        close(p.w.dataSync(), w, 2e-6, `step ${i} w`);
        close(p.b.dataSync(), b, 2e-6, `step ${i} b`);
      }
      opt.dispose();
    });
  }

  it('state saved after step 1 and loaded into a fresh optimizer continues exactly (Adam and SGD)', () => {
    for (const name of ['adam', 'sgd']) {
      const p = problem();
      const opt = make[name](p.groups(0.1));
      trainStep([p.w, p.b], p.loss, opt);
      const saved = opt.stateDict();
      assert.deepEqual(Object.keys(saved.tensors).sort(), name === 'adam' ? ['state.0.exp_avg', 'state.0.exp_avg_sq', 'state.1.exp_avg', 'state.1.exp_avg_sq'] : ['state.0.momentum_buffer', 'state.1.momentum_buffer']);
      const resumed = make[name](p.groups(0.1));
      resumed.loadStateDict({ meta: JSON.parse(JSON.stringify(saved.meta)), tensors: saved.tensors }); // meta survives JSON
      for (const [i, [, w, b]] of GOLDEN[name].slice(1).entries()) {
        trainStep([p.w, p.b], p.loss, resumed);
        close(p.w.dataSync(), w, 2e-6, `${name} resumed step ${i + 1} w`);
        close(p.b.dataSync(), b, 2e-6, `${name} resumed step ${i + 1} b`);
      }
      assert.throws(() => new SGD([p.w], { lr: 1 }).loadStateDict(saved, 'ckpt.safetensors'), name === 'adam' ? /ckpt\.safetensors: cannot load into sgd: it was saved by adam/ : /ckpt\.safetensors: cannot load into sgd: 2 parameter groups saved, 1 here/);
      tf.dispose(Object.values(saved.tensors));
    }
  });

  it('setLr changes the step; registry builds optimizers by name', () => {
    const w = tf.variable(tf.tensor([1]));
    const opt = optimizers.get('sgd').create([w], { lr: 0.5 });
    opt.setLr(0.25);
    opt.step({ [w.name]: tf.tensor([2]) });
    close(w.dataSync(), [0.5], 1e-7, 'w');
    assert.deepEqual(optimizers.names(), ['adam', 'adamw', 'sgd']);
    assert.throws(() => new SGD([w], { lr: 0.1, nesterov: true }), /nesterov needs momentum/);
    assert.throws(() => new SGD([{ params: [w] }, { params: [w] }], { lr: 0.1 }), /more than one parameter group/);
  });

  it('clipGradNorm scales by maxNorm/(norm + 1e-6) when above, copies when below', () => {
    const g = { a: tf.tensor([3, 0]), b: tf.tensor([4]) };
    const { grads, totalNorm } = clipGradNorm(g, 1);
    assert.equal(totalNorm, 5);
    close(grads.a.dataSync(), [3 / (5 + 1e-6), 0], 1e-7, 'a');
    close(grads.b.dataSync(), [4 / (5 + 1e-6)], 1e-7, 'b');
    const kept = clipGradNorm(g, 10);
    close(kept.grads.b.dataSync(), [4], 0, 'b');
  });

  it('trainStep on a module leaks no tensors over several steps, lowers the loss, and refuses a NaN loss', () => {
    const lin = new Linear(4, 3, { rng: new Rng(1) });
    const x = tf.tensor(new Rng(2).fillNormal(32), [8, 4]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
    const opt = new Adam(lin.parameters(), { lr: 0.05 });
    const loss = () => tf.losses.softmaxCrossEntropy(labels, lin.forward(x)) as tf.Scalar;
    const first = trainStep(lin, loss, opt); // creates the optimizer state
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 5; i++) last = trainStepWithStats(lin, loss, opt, { clipNorm: 1 }).loss;
    assert.equal(tf.memory().numTensors, before);
    assert.ok(last < first, `loss ${first} → ${last}`);
    const w = Array.from(lin.weight.dataSync());
    assert.throws(() => trainStep(lin, () => tf.mul(loss(), NaN) as tf.Scalar, opt), /loss is NaN.*weights left unchanged/);
    assert.deepEqual(Array.from(lin.weight.dataSync()), w);
    assert.equal(tf.memory().numTensors, before);
  });
});
