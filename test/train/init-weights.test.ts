// Fine-tuning: a training replica started with `init` holds the given model's weights exactly
// (model folder or checkpoint), and weights of another architecture are refused with the file named.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { bundledModelDir, loadModel } from '../../src/models/io.js';
import { createMethodReplica } from '../../src/train/method-replica.js';

describe('training from initial weights (--init)', () => {
  // The bundled model is an ensemble: DIR#1 is its first member, a fer-cnn classifier.
  const member = () => `${bundledModelDir()}#1`;

  it('a replica initialised from a member of the bundled ensemble holds its weights and BatchNorm statistics', async () => {
    await initEngine('wasm');
    const bundled = await loadModel(member());
    const replica = createMethodReplica({ config: bundled.config, optimizer: { name: 'sgd', lr: 0.1 }, seed: 7, init: member() });
    const buffers = replica.buffers!();
    assert.ok(buffers.length > 0);
    // Trainable variables are the model's parameters in stateDict order (minus buffers).
    const params = bundled.trainableParameters();
    assert.equal(replica.variables.length, params.length);
    replica.variables.forEach((v, i) => assert.deepEqual(Array.from(v.dataSync()), Array.from(params[i].dataSync()), `parameter ${i}`));
    const wantBuffers = bundled.namedBuffers().map(([, b]) => Array.from(b.dataSync()));
    buffers.forEach((b, i) => assert.deepEqual(Array.from(b), wantBuffers[i], `buffer ${i}`));
    bundled.dispose();
  });

  it('refuses weights of another architecture, a whole ensemble and a missing file, naming the file', async () => {
    await initEngine('wasm');
    const bundled = await loadModel(member());
    const wider = { ...bundled.config, backboneOptions: { ...bundled.config.backboneOptions, widthMultiplier: 3 } };
    assert.throws(() => createMethodReplica({ config: wider, optimizer: { name: 'sgd', lr: 0.1 }, seed: 0, init: member() }), /model\.safetensors.*shape mismatch/s);
    assert.throws(() => createMethodReplica({ config: bundled.config, optimizer: { name: 'sgd', lr: 0.1 }, seed: 0, init: bundledModelDir() }), /not weights of this model.*it is an ensemble, give .*#N/s);
    const missing = join(bundledModelDir(), 'nope.safetensors');
    assert.throws(() => createMethodReplica({ config: bundled.config, optimizer: { name: 'sgd', lr: 0.1 }, seed: 0, init: missing }), /nope\.safetensors: initial weights not found/);
    bundled.dispose();
  });
});
