// The full-size IAL + GCA model (method defaults: 16 frames of 112x112 RGB): its parameter count
// and per-part breakdown against the reference model (methods.md §1.12, unused tensors dropped),
// and one B=1 forward for the output shapes (§1.16 item 6). One forward only: it is slow on wasm.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { Rng } from '../../src/util/rng.js';
import { createModel } from '../../src/models/io.js';
import { disposeOutput, type FerModel } from '../../src/models/model.js';
import { createConfig } from '../../src/models/config.js';

const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

before(async () => {
  await initEngine('wasm');
});

describe('ial full size', () => {
  let model: FerModel;
  before(() => {
    model = createModel(createConfig('ial', { classes: CLASSES }), new Rng(0));
  });
  const count = (pred: (name: string) => boolean) =>
    model
      .namedParameters()
      .filter(([n]) => pred(n))
      .reduce((a, [, v]) => a + v.size, 0);

  it('has the reference model’s 18,936,775 used parameters, part by part', () => {
    assert.equal(model.numParameters(), 18_936_775);
    const parts: Array<[string, (n: string) => boolean, number]> = [
      ['stem', (n) => /^s_former\.(conv1|bn1)\./.test(n), 38_720 + 128],
      ['layer1', (n) => n.startsWith('s_former.layer1.'), 73_984],
      ['layer2 GCA', (n) => n.startsWith('s_former.layer2.0.attn.'), 27_136],
      ['layer2 AUX', (n) => n.startsWith('s_former.layer2.0.AUX_fc.'), 34_560],
      ['layer2 rest', (n) => n.startsWith('s_former.layer2.') && !/attn|AUX/.test(n), 230_144],
      ['layer3 GCA', (n) => n.startsWith('s_former.layer3.0.attn.'), 20_736],
      ['layer3 AUX', (n) => n.startsWith('s_former.layer3.0.AUX_fc.'), 134_656],
      ['layer3 rest', (n) => n.startsWith('s_former.layer3.') && !/attn|AUX/.test(n), 919_040],
      ['layer4 (dynamic path)', (n) => n.startsWith('s_former.dsf.layer4.'), 3_608_064],
      ['patch_embedding', (n) => n.startsWith('s_former.dsf.patch_embedding.'), 590_336],
      ['pos_transformer', (n) => n.startsWith('s_former.dsf.pos_transformer.'), 527_872],
      ['pos_embedding_pos', (n) => n === 's_former.dsf.pos_embedding_pos', 4_096],
      ['temporal_transformer', (n) => n.startsWith('s_former.temporal_transformer.'), 12_633_088],
      ['pos_embedding', (n) => n === 's_former.pos_embedding', 65_536],
      ['fc_f', (n) => n.startsWith('fc_f.'), 28_679],
    ];
    for (const [what, pred, want] of parts) assert.equal(count(pred), want, what);
    const bn = model.namedModules().filter(([, m]) => m.constructor.name === 'BatchNorm2d').length;
    assert.equal(bn, 18, 'BatchNorm2d layers');
  });

  it('maps (1, 16, 112, 112, 3) clips to logits (1, 7), pooled (1, 4096), aux (1, 7) x2', () => {
    const x = tf.randomUniform([1, 16, 112, 112, 3], 0, 1, 'float32', 1);
    const out = model.forward(x, false);
    assert.deepEqual(out.logits.shape, [1, 7]);
    assert.deepEqual(out.embedding!.shape, [1, 4096]);
    assert.deepEqual(out.extras!.aux2.shape, [1, 7]);
    assert.deepEqual(out.extras!.aux3.shape, [1, 7]);
    assert.ok(out.logits.dataSync().every(Number.isFinite));
    disposeOutput(out);
    x.dispose();
    model.dispose();
  });
});
