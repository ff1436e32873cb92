// The classifier model in ONNX: backbone features → dropout (the identity at inference) → fc.
import { maybe } from '../../onnx/ops.js';
import { modelEmitter } from '../methods.js';
import { ClassifierModel } from './model.js';

export const ceOnnx = modelEmitter(ClassifierModel, (ctx, m, x) => {
  const embedding = ctx.emit(m.backbone, x);
  const logits = ctx.emit(m.fc, maybe(ctx, m.dropout, embedding));
  return { logits, embedding };
});
