// ferkit as a library. Kept small on purpose: later issues add loadModel, recognize and friends.
export { initEngine, engineInfo, BACKENDS } from './engine/backend.js';
export type { BackendName, EngineInfo } from './engine/backend.js';
export { Registry } from './registry.js';
export type { RegistryEntry } from './registry.js';
export * from './api/index.js';
export { loadRunner, engines as inferenceEngines, type EngineChoice, type LoadRunnerOptions } from './infer/load.js';
export { TfjsRunner } from './infer/tfjs-runner.js';
export type { ModelRunner, RunnerOutput } from './infer/runner.js';
