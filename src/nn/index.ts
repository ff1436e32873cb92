// The neural-network layer: modules, layers, initialisers, randomness and checkpoints.
export * from './module.js';
export * from './conv.js';
export * from './linear.js';
export * from './norm.js';
export * from './pool.js';
export * from './dropout.js';
export * as activations from './activations.js';
export { relu, gelu, geluTanh, sigmoid, silu, tanh, leakyRelu } from './activations.js';
export * as init from './init.js';
export * from './random.js';
export * from './checkpoint.js';
export * from './torch-layout.js';
