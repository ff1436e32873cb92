// tfjs-backend-wasm 4.22 runs a matmul with transposeA or transposeB ~10-20x slower than a plain
// one (it leaves XNNPACK's fast path), and every dense layer's gradient asks for exactly that
// (dx = dy·Wᵀ, dW = xᵀ·dy). An explicit Transpose first costs a memory pass and keeps the
// product on the fast path (measured: 640x4096x384 transposeB 1062 ms → 116 ms).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { composedKernel, type Scope } from './compose.js';

function swapLast(scope: Scope, x: TensorInfo): TensorInfo {
  const r = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return scope.transpose(x, perm);
}

const ACTIVATION_KERNELS: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/** bias + activation as separate kernels: the wasm _FusedMatMul adds its bias to the first
 *  matrix of a batch only (measured: batch 2 disagrees with cpu by 40%). */
function biasAndActivation(scope: Scope, y: TensorInfo, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>): TensorInfo {
  let out = inputs.bias ? scope.run('Add', { a: y, b: inputs.bias }) : y;
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  if (activation === 'linear') return out;
  const kernel = ACTIVATION_KERNELS[activation];
  if (!kernel) throw new Error(`fused matMul: unknown activation ${activation}`);
  if (kernel === 'Prelu') return scope.run(kernel, { x: out, alpha: inputs.preluActivationWeights });
  out = scope.run(kernel, { x: out }, kernel === 'LeakyRelu' ? { alpha: Number(attrs.leakyreluAlpha ?? 0.2) } : {});
  return out;
}

function untransposed(backendName: string, original: KernelFunc, fused: boolean): KernelFunc {
  return composedKernel(backendName, (scope, inputs, attrs) => {
    const { a, b } = inputs;
    const ta = Boolean(attrs.transposeA);
    const tb = Boolean(attrs.transposeB);
    const batched = Math.max(a.shape.slice(0, -2).reduce((x, y) => x * y, 1), b.shape.slice(0, -2).reduce((x, y) => x * y, 1)) > 1;
    const separateEpilogue = fused && batched && inputs.bias !== undefined;
    if (!ta && !tb && !separateEpilogue) return scope.adopt(original({ inputs, attrs, backend: scope.backend }) as TensorInfo);
    const args = separateEpilogue ? { a, b } : { ...inputs };
    args.a = ta ? swapLast(scope, a) : a;
    args.b = tb ? swapLast(scope, b) : b;
    const plainAttrs = { ...attrs, transposeA: false, transposeB: false, ...(separateEpilogue ? { activation: 'linear' } : {}) };
    const y = scope.adopt(original({ inputs: args, attrs: plainAttrs, backend: scope.backend }) as TensorInfo);
    return separateEpilogue ? biasAndActivation(scope, y, inputs, attrs) : y;
  });
}

export function matmulKernels(backendName: string, originals: { batchMatMul: KernelFunc; fusedMatMul: KernelFunc }): KernelConfig[] {
  return [
    { kernelName: tf.BatchMatMul, backendName, kernelFunc: untransposed(backendName, originals.batchMatMul, false) },
    { kernelName: tf._FusedMatMul, backendName, kernelFunc: untransposed(backendName, originals.fusedMatMul, true) },
  ];
}
