// ONNX export of ferkit models (the graph writer itself is src/onnx; each method's and backbone's
// emitters live beside its code): export.ts builds and writes the graph, with BatchNorm folding,
// block splitting (split-blocks.ts) and int8 weights (quantize.ts); verify.ts checks parity.
export { buildOnnxGraph, exportOnnx, writeOnnx, ONNX_FILE, type OnnxExportOptions } from './export.js';
export { QUANTIZE_MODES, type QuantizeMode } from './quantize.js';
