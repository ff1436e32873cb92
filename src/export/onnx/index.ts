// ONNX export of ferkit models (the graph writer is src/onnx, emitters live beside each method and
// backbone): export.ts writes the graph, split-blocks.ts and quantize.ts rewrite it.
export { buildOnnxGraph, exportOnnx, writeOnnx } from './export.js';
