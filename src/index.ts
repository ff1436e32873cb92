// ferkit as a library (ESM only): the recognition API, model runners, the engine, and the types
// and errors they use. The browser build is a separate entry, `ferkit/browser` (src/browser).
export { initEngine, engineInfo, BACKENDS } from './engine/backend.js';
export type { BackendName, EngineInfo } from './engine/backend.js';
export { Registry } from './registry.js';
export type { RegistryEntry } from './registry.js';
export * from './api/index.js';
export { loadModelFolder, runtimes as inferenceRuntimes, type RuntimeChoice, type LoadModelFolderOptions } from './infer/load.js';
export { TfjsRunner } from './infer/tfjs-runner.js';
export type { ModelRunner, RunnerOutput } from './infer/runner.js';
export { DataError } from './data/errors.js';
export { CANONICAL_CLASSES, type ExpressionClass } from './data/types.js';
export type { Raster } from './data/raster.js';
export type { Face } from './detect/align.js';
export type { DetectorName } from './detect/face-api.js';
export type { ModelConfig, InputSpec } from './models/model.js';
