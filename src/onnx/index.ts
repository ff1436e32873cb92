// The ONNX graph writer: a graph under construction (graph.ts), the ops ferkit's modules compute
// (ops.ts), per-class emitters (emitters.ts; src/nn's layers in nn-emitters.ts, registered by
// importing this file), the BatchNorm-folding pass (fold.ts) and protobuf encoding (encode.ts).
// Methods and backbones register emitters for their own modules beside their code.
import './nn-emitters.js';

export { ExportContext, registerLayerEmitter, type ModelValues, type ModuleClass } from './emitters.js';
export { GraphBuilder, type Value } from './graph.js';
export { decodeModel, encodeModel, OPSET } from './encode.js';
export { foldBatchNorms } from './fold.js';
