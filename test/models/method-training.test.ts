// SCN and ARBEx inside the trainer's replica (src/train/method-replica.ts): a few Adam steps on a
// tiny fixed batch fit it (the prediction's NLL falls), and a checkpoint carries the objective's
// state, so a resumed replica computes the same next loss as the one that saved it.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import type { ModelConfig } from '../../src/models/model.js';
import { createReplica } from '../../src/train/method-replica.js';
import { ReplicaHost, type Shard } from '../../src/train/replica-host.js';
import { createConfig } from '../../src/models/config.js';

before(async () => {
  await initEngine('wasm');
});

const N = 16;
function config(method: string, methodOptions: Record<string, unknown>): ModelConfig {
  return createConfig(method, { classes: ['angry', 'happy', 'sad', 'neutral'], backbone: 'fer-cnn', backboneOptions: { stages: [[8], [16]] }, methodOptions, size: 12 });
}

const shard = (epoch: number): Shard => ({
  x: Float32Array.from(tf.randomNormal([N, 12, 12, 1], 0, 1, 'float32', 11).dataSync()),
  xShape: [N, 12, 12, 1],
  y: Int32Array.from({ length: N }, (_, i) => i % 4),
  index: Int32Array.from({ length: N }, (_, i) => 1000 + i),
  epoch,
});

function predictionNll(host: ReplicaHost, s: Shard): number {
  const p = host.predict(s.x, s.xShape);
  let nll = 0;
  for (let i = 0; i < N; i++) nll -= Math.log(Math.max(p[i * 4 + s.y[i]], 1e-12));
  return nll / N;
}

const CASES: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
  ['scn', { dropout: 0 }, { relabelEpoch: 1 }],
  ['arbex', { hiddenSizes: [16], headDropout: 0, anchors: 2, attentionMode: 'batch' }, { trustSteps: 10 }],
];

for (const [method, methodOptions, objective] of CASES) {
  describe(`${method} in the trainer's replica`, () => {
    const options = () => ({ config: config(method, methodOptions), objective, optimizer: { name: 'adam', lr: 3e-3 }, seed: 3 });

    it('fits a fixed batch: the NLL of its predictions falls', () => {
      const host = new ReplicaHost(createReplica(options()));
      const s = shard(0);
      const before = predictionNll(host, s);
      // Eval-mode predictions lag the training steps until the BN running statistics catch up.
      for (let step = 0; step < 40; step++) host.apply(host.grads(s).grads, 3e-3);
      const after = predictionNll(host, s);
      assert.ok(after < before - 0.1, `NLL ${before} → ${after}`);
    });

    it('a checkpoint restores the objective state: the resumed replica gives the same next loss', async () => {
      const dir = mkdtempSync(join(tmpdir(), `ferkit-${method}-`));
      try {
        const a = createReplica(options());
        const host = new ReplicaHost(a);
        const s = shard(1);
        for (let step = 0; step < 4; step++) host.apply(host.grads(s).grads, 3e-3);
        await a.save!(join(dir, 'ckpt.safetensors'), { epoch: 1 });
        const b = createReplica(options());
        await b.load!(join(dir, 'ckpt.safetensors'));
        const la = new ReplicaHost(a).grads(s).loss;
        const lb = new ReplicaHost(b).grads(s).loss;
        assert.equal(lb, la);
        // Without the objective state (ARBEx: its trust ramp) the same weights give another loss.
        if (method === 'arbex') assert.notEqual(new ReplicaHost(createReplica(options())).grads(s).loss, la);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
