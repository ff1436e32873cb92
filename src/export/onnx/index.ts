// ONNX export of ferkit models: a writer for the ops our modules use (see export.ts for the graph's
// inputs and outputs, emitters.ts for adding a module class).
export { buildOnnxGraph, exportOnnx, writeOnnx, type OnnxExportOptions } from './export.js';
export { registerLayerEmitter, registerModelEmitter, ExportContext, type LayerEmitter, type ModelEmitter, type ModelValues } from './emitters.js';
export { registerFunctionEmitter } from './nn-emitters.js';
export { decodeModel, OPSET } from './encode.js';
export { quantizeWeights, QUANTIZE_MODES, type QuantizeMode } from './quantize.js';
export type { GraphBuilder, Value } from './graph.js';
