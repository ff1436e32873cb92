// Building blocks for kernels written as compositions of the wasm backend's own kernels (XNNPACK
// convolutions, matmul, transpose ...). Intermediates are TensorInfos owned by the backend and are
// freed by `Scope.dispose`, so a composed kernel leaves nothing behind but its output.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

type KernelInputs = Record<string, TensorInfo>;

export class Scope {
  private readonly owned: TensorInfo[] = [];
  constructor(
    readonly backend: KernelBackend,
    readonly backendName: string,
  ) {}

  /** Run the backend's registered kernel `name`; the result is freed with the scope unless kept. */
  run(name: string, inputs: KernelInputs | TensorInfo[], attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = tf.getKernel(name, this.backendName);
    if (!kernel) throw new Error(`kernel ${name} is not registered for backend ${this.backendName}`);
    // Pack/Concat take their inputs as an array.
    const out = kernel.kernelFunc({ inputs: inputs as KernelInputs, attrs, backend: this.backend });
    if (Array.isArray(out)) throw new Error(`kernel ${name} returned several outputs`);
    this.owned.push(out);
    return out;
  }

  /** Take ownership of a TensorInfo made outside `run` (freed with the scope unless kept). */
  adopt(t: TensorInfo): TensorInfo {
    this.owned.push(t);
    return t;
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    if (perm.every((p, i) => p === i)) return x;
    return this.run('Transpose', { x }, { perm });
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    if (shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i])) return x;
    return this.run('Reshape', { x }, { shape });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /** A float32 constant owned by the scope. */
  constant(shape: number[], values: Float32Array): TensorInfo {
    const t: TensorInfo = { dataId: this.backend.write(values, shape, 'float32'), shape, dtype: 'float32' };
    this.owned.push(t);
    return t;
  }

  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  /** Free every intermediate except `keep`. */
  dispose(keep?: TensorInfo): void {
    for (const t of this.owned) {
      if (t !== keep && (!keep || t.dataId !== keep.dataId)) this.backend.disposeData(t.dataId);
    }
    this.owned.length = 0;
  }
}

/**
 * Makes `body` a kernel function that runs inside a Scope. When the result is one of the inputs
 * (a no-op composition), a fresh reference is taken so the engine can own it.
 */
export function composedKernel(
  backendName: string,
  body: (scope: Scope, inputs: KernelInputs, attrs: NamedAttrMap) => TensorInfo,
): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const scope = new Scope(backend as KernelBackend, backendName);
    try {
      const out = body(scope, inputs as KernelInputs, (attrs ?? {}) as NamedAttrMap);
      if (Object.values(inputs).some((t) => t && t.dataId === out.dataId)) {
        // Identity-like result: hand back a copy through Reshape (which shares data and counts a ref).
        const copy = scope.run('Reshape', { x: out }, { shape: out.shape });
        scope.dispose(copy);
        return copy;
      }
      scope.dispose(out);
      return out;
    } catch (e) {
      scope.dispose();
      throw e;
    }
  };
}

/**
 * Crop (negative amounts) or zero-pad (positive amounts) the two spatial axes of an NHWC tensor.
 * Returns the cropped tensor and the non-negative paddings still to apply, so that a following
 * convolution can take them as explicit padding instead of materialising them.
 */
export function cropForPadding(
  scope: Scope,
  x: TensorInfo,
  [top, bottom, left, right]: [number, number, number, number],
): { x: TensorInfo; pads: [number, number, number, number] } {
  const [n, h, w, c] = x.shape;
  const ct = Math.max(0, -top);
  const cb = Math.max(0, -bottom);
  const cl = Math.max(0, -left);
  const cr = Math.max(0, -right);
  const cropped = scope.slice(x, [0, ct, cl, 0], [n, h - ct - cb, w - cl - cr, c]);
  return { x: cropped, pads: [Math.max(0, top), Math.max(0, bottom), Math.max(0, left), Math.max(0, right)] };
}

/** Insert `s - 1` zeros between the rows and columns of an NHWC tensor (stride-s transposed view).
 *  The result has (H-1)*s+1 rows and (W-1)*s+1 columns. */
export function dilateSpatial(scope: Scope, x: TensorInfo, sh: number, sw: number): TensorInfo {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const six = scope.reshape(x, [n, h, 1, w, 1, c]);
  const padded = scope.pad(six, [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  const flat = scope.reshape(padded, [n, h * sh, w * sw, c]);
  return scope.slice(flat, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

/**
 * Gather filter taps: out[i, j, ...] = filter[rows[i], cols[j], ...] for a [KH, KW, ...] filter,
 * as a product with a 0/1 selection matrix. XNNPACK's matmul is exact here (x·1 + 0·y) and many
 * times faster than the wasm Reverse and StridedSlice kernels on large filters.
 */
export function selectTaps(scope: Scope, filter: TensorInfo, rows: number[], cols: number[]): TensorInfo {
  const [kh, kw, ...rest] = filter.shape;
  const taps = kh * kw;
  const picked = rows.length * cols.length;
  const sel = new Float32Array(picked * taps);
  rows.forEach((r, i) => cols.forEach((c, j) => (sel[(i * cols.length + j) * taps + r * kw + c] = 1)));
  const width = rest.reduce((a, b) => a * b, 1);
  const out = scope.run('BatchMatMul', {
    a: scope.constant([1, picked, taps], sel),
    b: scope.reshape(filter, [1, taps, width]),
  }, { transposeA: false, transposeB: false });
  return scope.reshape(out, [rows.length, cols.length, ...rest]);
}

const descending = (n: number): number[] => Array.from({ length: n }, (_, i) => n - 1 - i);

/** Reverse the two spatial axes of a [KH, KW, ...] filter. */
export function flipSpatial(scope: Scope, filter: TensorInfo): TensorInfo {
  const [kh, kw] = filter.shape;
  if (kh * kw === 1) return filter;
  return selectTaps(scope, filter, descending(kh), descending(kw));
}
