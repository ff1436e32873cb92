// Pattern-map models (src/models/patternmap) at inference: the recognition path only, trunk
// feature map G → mask sigmoid(maskNet(G)) → Gms = M⊙G → encoder → embedding → classifier logits.
// The EMR refiner and the pattern-map decoder feed only the TF.js forward's extras (masks, the
// pattern map), which the ONNX graph leaves out.
import { registerLayerEmitter } from '../../onnx/index.js';
import { binary, linear, relu } from '../../onnx/ops.js';
import { emitFeatureMap } from '../backbones/backbone.js';
import { modelEmitter } from '../methods.js';
import { PatternEncoder } from './layers.js';
import { PatternMapModel } from './model.js';

registerLayerEmitter(PatternEncoder, (ctx, m, x) => {
  const input = m.norm ? ctx.emit(m.norm, x) : x;
  const h = ctx.emit(m.conv2, relu(ctx, ctx.emit(m.conv1, input), ctx.name(m, 'relu')));
  const [n, c, oh, ow] = h.shape;
  if (oh !== 1 || ow !== 1) throw new Error(`ONNX export: pattern-map encoder "${ctx.path(m)}" ends at ${oh}x${ow}, expected 1x1`);
  const e = ctx.g.node('Sigmoid', [h.name], h.shape, {}, ctx.name(m, 'sigmoid'));
  return ctx.g.node('Flatten', [e.name], [n, c], { axis: 1 }, ctx.name(m, 'flatten'));
});

export const patternMapOnnx = modelEmitter(PatternMapModel, (ctx, m, x) => {
  const g = emitFeatureMap(ctx, m.backbone, x);
  const mask = ctx.g.node('Sigmoid', [ctx.emit(m.maskNet, g).name], [g.shape[0], 1, g.shape[2], g.shape[3]], {}, 'maskNet/sigmoid');
  const gms = binary(ctx, 'Mul', g, mask, g.shape, 'gms');
  const embedding = ctx.emit(m.encoder, gms);
  const hidden = relu(ctx, linear(ctx, m.classifier.fc1, embedding), 'classifier/relu');
  return { logits: linear(ctx, m.classifier.fc2, hidden), embedding };
});
