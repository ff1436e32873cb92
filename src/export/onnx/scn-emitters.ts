// SCN (src/models/scn): logits = α·z, with α = sigmoid(Linear(features)) [N, 1] broadcast over
// the classes of z = fc(features); probs are softmax(logits), as outputProbs gives for SCN.
import { ScnModel } from '../../models/scn/model.js';
import { registerModelEmitter } from './emitters.js';
import { maybe } from './ops.js';

registerModelEmitter(ScnModel, (ctx, m, x) => {
  const embedding = ctx.emit(m.backbone, x);
  const h = maybe(ctx, m.dropout, embedding);
  const alpha = ctx.emit(m.alpha, h);
  const z = ctx.emit(m.fc, h);
  const logits = ctx.g.node('Mul', [z.name, alpha.name], z.shape, {}, 'scn/alpha_z');
  return { logits, embedding };
});
