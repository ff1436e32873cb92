// ferkit as a library. Kept small on purpose: later issues add loadModel, recognize and friends.
export { initEngine, engineInfo, BACKENDS } from './engine/backend.js';
export type { BackendName, EngineInfo } from './engine/backend.js';
export { Registry } from './registry.js';
export type { RegistryEntry } from './registry.js';
