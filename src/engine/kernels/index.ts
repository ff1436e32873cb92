// Kernels the TF.js wasm backend lacks for training, registered by us (filled in by the engine work).
export function registerWasmTrainingKernels(): void {}
