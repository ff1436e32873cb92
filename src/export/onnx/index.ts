// ONNX export of ferkit models (the graph writer is src/onnx, emitters live beside each method and
// backbone): export.ts writes the graph, split-blocks.ts and quantize.ts rewrite it.
export { buildOnnxGraph, exportOnnx, writeOnnx, type OnnxExportOptions } from './export.js';
export { QUANTIZE_MODES, type QuantizeMode } from './quantize.js';
