// SCN (src/models/scn): logits = α·z, with α = sigmoid(Linear(features)) [N, 1] broadcast over
// the classes of z = fc(features); probs are softmax(logits), as outputProbs gives for SCN.
import { maybe } from '../../onnx/ops.js';
import { modelEmitter } from '../methods.js';
import { ScnModel } from './model.js';

export const scnOnnx = modelEmitter(ScnModel, (ctx, m, x) => {
  const embedding = ctx.emit(m.backbone, x);
  const h = maybe(ctx, m.dropout, embedding);
  const alpha = ctx.emit(m.alpha, h);
  const z = ctx.emit(m.fc, h);
  const logits = ctx.g.node('Mul', [z.name, alpha.name], z.shape, {}, 'scn/alpha_z');
  return { logits, embedding };
});
