// Parity of the whole IAL + GCA network with an independent PyTorch implementation of the spec
// (test/models/golden/ial_network.py, NCHW, float64): ferkit's weights exported in torch layout
// under the same names, random BN statistics, the same clips; logits, pooled embedding and both
// aux heads agree in eval and in training mode (batch statistics, running-statistics update).
// Skipped when no Python with torch is installed.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initEngine, tf } from '../../src/engine/backend.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/nn/checkpoint.js';
import { Rng } from '../../src/util/rng.js';
import { torchStateDict } from '../../src/nn/torch-layout.js';
import { findTorchPython } from '../helpers/python.js';
import { createModel } from '../../src/models/io.js';
import { disposeOutput, type ModelOutput } from '../../src/models/model.js';
import { createConfig } from '../../src/models/config.js';
import type { IalModel } from '../../src/models/ial/model.js';
import { relDiff, TORCH_MISSING } from '../helpers/torch-reference.js';

before(async () => {
  await initEngine('wasm');
});

const python = findTorchPython();

describe('ial network vs PyTorch', { skip: python ? false : TORCH_MISSING }, () => {
  it('logits, embedding and aux heads match in eval and training mode (2 clips x 4 frames of 48x48, GCA, depth 2 in layer2, 2x2 DSF map)', () => {
    const base = createConfig('ial', {
      classes: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'],
      backboneOptions: { widthMultiplier: 0.125 },
      methodOptions: { layers: [1, 2, 1, 2], reduction: 4, spatialDepth: 1, spatialHeads: 2, spatialDimHead: 4, spatialMlp: 16, temporalDepth: 2, temporalHeads: 2, temporalDimHead: 4, temporalMlp: 16 },
    });
    const config = { ...base, input: { ...base.input, size: [48, 48] as [number, number], frames: 4 } };
    const model = createModel(config, new Rng(21)) as IalModel;
    // Non-trivial BN affine parameters and running statistics everywhere.
    const rng = new Rng(5);
    for (const [name, v] of [...model.namedParameters(), ...model.namedBuffers()]) {
      const u = () => tf.tensor(Array.from({ length: v.size }, () => rng.uniform()), v.shape);
      if (/bn\d\.|downsample\.1\.|conv1\.1\.|patch_embedding\.1\./.test(name)) {
        if (name.endsWith('running_var')) v.assign(tf.add(u(), 0.5));
        else if (name.endsWith('running_mean') || name.endsWith('bias')) v.assign(tf.sub(u(), 0.5));
        else if (name.endsWith('weight')) v.assign(tf.add(u(), 0.5));
      }
    }
    const x = tf.randomUniform([2, 4, 48, 48, 3], 0, 1, 'float32', 3);
    const dir = mkdtempSync(join(tmpdir(), 'ferkit-ial-torch-'));
    try {
      const inPath = join(dir, 'in.safetensors');
      const outPath = join(dir, 'out.safetensors');
      writeFileSync(inPath, encodeSafetensors({ ...torchStateDict(model), input: x }, { options: JSON.stringify(model.options) }));
      const script = fileURLToPath(new URL('./golden/ial_network.py', import.meta.url));
      const r = spawnSync(python!, [script, inPath, outPath], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, `ial_network.py failed: ${r.stderr}`);
      const ref = decodeSafetensors(new Uint8Array(readFileSync(outPath)), outPath).tensors;
      const check = (mode: string, out: ModelOutput) => {
        const got: Record<string, tf.Tensor> = { logits: out.logits, embedding: out.embedding!, aux2: out.extras!.aux2, aux3: out.extras!.aux3 };
        for (const [k, t] of Object.entries(got)) {
          const d = relDiff(t, ref[`${mode}.${k}`]);
          assert.ok(d < 2e-4, `${mode} ${k}: relative difference ${d}`);
        }
      };
      model.eval();
      const ev = model.forward(x);
      check('eval', ev);
      const tr = model.forward(x, true);
      check('train', tr);
      const rv = model.stateDict()['s_former.layer3.0.bn2.running_var'];
      assert.ok(relDiff(rv, ref['train.running_var']) < 1e-4, 'running variance after one training pass');
      disposeOutput(ev);
      disposeOutput(tr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      x.dispose();
      model.dispose();
    }
  });
});
