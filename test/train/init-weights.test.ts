// Fine-tuning: a training replica started with `init` holds the given model's weights exactly
// (model folder or checkpoint), and weights of another architecture are refused with the file named.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { bundledModelDir, loadModel } from '../../src/models/io.js';
import { createMethodReplica } from '../../src/train/method-replica.js';

describe('training from initial weights (--init)', () => {
  it('a replica initialised from the bundled model folder holds its weights and BatchNorm statistics', async () => {
    await initEngine('wasm');
    const bundled = await loadModel();
    const replica = createMethodReplica({ config: bundled.config, optimizer: { name: 'sgd', lr: 0.1 }, seed: 7, init: bundledModelDir() });
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

  it('refuses weights of another architecture and a missing file, naming the file', async () => {
    await initEngine('wasm');
    const bundled = await loadModel();
    const wider = { ...bundled.config, backboneOptions: { ...bundled.config.backboneOptions, widthMultiplier: 3 } };
    assert.throws(() => createMethodReplica({ config: wider, optimizer: { name: 'sgd', lr: 0.1 }, seed: 0, init: bundledModelDir() }), /model\.safetensors.*shape mismatch/s);
    const missing = join(bundledModelDir(), 'nope.safetensors');
    assert.throws(() => createMethodReplica({ config: bundled.config, optimizer: { name: 'sgd', lr: 0.1 }, seed: 0, init: missing }), /nope\.safetensors: initial weights not found/);
    bundled.dispose();
  });
});
