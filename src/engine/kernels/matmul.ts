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

function untransposed(backendName: string, original: KernelFunc): KernelFunc {
  return composedKernel(backendName, (scope, inputs, attrs) => {
    const { a, b } = inputs;
    const ta = Boolean(attrs.transposeA);
    const tb = Boolean(attrs.transposeB);
    if (!ta && !tb) return scope.adopt(original({ inputs, attrs, backend: scope.backend }) as TensorInfo);
    const args = { ...inputs, a: ta ? swapLast(scope, a) : a, b: tb ? swapLast(scope, b) : b };
    return scope.adopt(
      original({ inputs: args, attrs: { ...attrs, transposeA: false, transposeB: false }, backend: scope.backend }) as TensorInfo,
    );
  });
}

export function matmulKernels(backendName: string, originals: { batchMatMul: KernelFunc; fusedMatMul: KernelFunc }): KernelConfig[] {
  return [
    { kernelName: tf.BatchMatMul, backendName, kernelFunc: untransposed(backendName, originals.batchMatMul) },
    { kernelName: tf._FusedMatMul, backendName, kernelFunc: untransposed(backendName, originals.fusedMatMul) },
  ];
}
