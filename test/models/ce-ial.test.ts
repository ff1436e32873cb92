// IAL with a static method: the ce objective's `ialLambda` adds λ·IAL to the CE of the model's own
// logits. With an identity backbone and an identity classifier the logits are the spec's golden
// rows (methods.md §1.16), so the loss must equal CE + λ·IAL from those values.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { Rng } from '../../src/util/rng.js';
import { methods } from '../../src/models/all-methods.js';
import { ClassifierModel } from '../../src/models/ce/model.js';
import { createModel } from '../../src/models/io.js';
import { IDENTITY, asInput } from './identity-backbone.js';
import { createConfig } from '../../src/models/config.js';

before(async () => {
  await initEngine('wasm');
});

const Z1 = [2.0, 1.0, 0.5, -1.0, 0.0, 0.3, -0.5];
const Z2 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];

/** A ce model whose logits are its 7-d input. */
function identityModel(): ClassifierModel {
  const config = createConfig('ce', {
    classes: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'],
    backbone: IDENTITY,
    backboneOptions: { dim: 7 },
    methodOptions: { dropout: 0 },
    size: [1, 7],
    input: { mean: [0], std: [1] },
  });
  const model = createModel(config, new Rng(0)) as ClassifierModel;
  model.fc.weight.assign(tf.eye(7));
  model.fc.bias!.assign(tf.zeros([7]));
  return model;
}

function lossOf(options: Record<string, unknown>, rows: number[][], labels: number[]): number {
  const model = identityModel();
  const objective = methods.get('ce').create.createObjective(model, options);
  const x = asInput(rows);
  const y = tf.tensor1d(labels, 'int32');
  const loss = objective.loss(model, { x, y, index: new Int32Array(labels.length), epoch: 0 });
  const v = loss.dataSync()[0];
  tf.dispose([x, y, loss]);
  model.dispose();
  return v;
}

describe('ce objective with the intensity-aware term (ialLambda)', () => {
  it('golden rows: CE alone, then CE + λ·IAL for λ 0.1 and 0.5', () => {
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-5, `${what}: ${a} vs ${b}`);
    close(lossOf({}, [Z1], [1]), 1.7133911, 'CE, y = 1');
    close(lossOf({ ialLambda: 0.1 }, [Z1], [1]), 1.7133911 + 0.1 * 1.3132617, 'CE + 0.1 IAL, y = 1');
    close(lossOf({ ialLambda: 0.5 }, [Z1], [0]), 0.7133911 + 0.5 * 0.3132617, 'CE + 0.5 IAL, target is the max');
    close(lossOf({ ialLambda: 0.1 }, [Z1, Z2], [1, 6]), 1.6896093 + 0.1 * 0.9788291, 'batch of 2');
  });
  it('with label smoothing, IAL still reads the hard labels', () => {
    const smoothed = lossOf({ labelSmoothing: 0.1 }, [Z1], [1]);
    const both = lossOf({ labelSmoothing: 0.1, ialLambda: 0.1 }, [Z1], [1]);
    assert.ok(Math.abs(both - smoothed - 0.1 * 1.3132617) < 1e-5, `${both} − ${smoothed}`);
  });
  it('the gradient reaches the classifier; bad values fail by name', () => {
    const model = identityModel();
    const objective = methods.get('ce').create.createObjective(model, { ialLambda: 0.1 });
    const x = asInput([Z1]);
    const y = tf.tensor1d([1], 'int32');
    const { grads } = tf.variableGrads(() => objective.loss(model, { x, y, index: new Int32Array(1), epoch: 0 }), [model.fc.bias!]);
    // d/dz of CE + 0.1·softplus(z_m − z_y): softmax − onehot(y), plus 0.1·σ(z_m − z_y) at m = 0 and minus it at y = 1.
    const p = tf.softmax(tf.tensor1d(Z1)).arraySync() as number[];
    const s = 1 / (1 + Math.exp(-(2 - 1)));
    const want = p.map((v, k) => v - (k === 1 ? 1 : 0) + (k === 0 ? 0.1 * s : 0) - (k === 1 ? 0.1 * s : 0));
    const got = Array.from(grads[model.fc.bias!.name].dataSync());
    got.forEach((g, k) => assert.ok(Math.abs(g - want[k]) < 1e-5, `class ${k}: ${g} vs ${want[k]}`));
    assert.throws(() => methods.get('ce').create.createObjective(model, { ialLambda: -1 }), /option ialLambda must be a number ≥ 0, got -1/);
    assert.throws(() => methods.get('ce').create.createObjective(model, { labelSmoothing: '0.1' }), /option labelSmoothing must be in \[0, 1\)/);
    tf.dispose([x, y, ...Object.values(grads)]);
    model.dispose();
  });
});
