// Optional native kernels (native/conv.cc): im2col + OpenBLAS sgemm convolutions (multi-threaded)
// registered over the wasm backend's Conv2D and its two gradients; the depthwise conv's two
// gradients (channel multiplier 1; others keep the composed kernels); Sum over every axis but the
// last (bias gradients; other sums keep the wasm kernel); ferkit's own kernels for the
// max-pool gradient, training-mode batch norm (+ ReLU) and its gradient, and the SGD update. The kernels read and write the
// wasm heap in place. When the addon is not built (scripts/build-native.mjs needs g++ and
// libopenblas-dev) or FERKIT_NATIVE=0, nothing changes: the wasm kernels run.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { packageRoot } from '../util/package-root.js';

interface NativeAddon {
  conv(mode: 0 | 1 | 2, geometry: number[], a: Float32Array, b: Float32Array, out: Float32Array): void;
  depthwise(mode: 1 | 2, geometry: number[], a: Float32Array, b: Float32Array, out: Float32Array): void;
  columnSum(x: Float32Array, c: number, out: Float32Array): void;
  maxPoolGrad(geometry: number[], x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  batchNormTrain(c: number, eps: number, relu: number, x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array, invstd: Float32Array): void;
  batchNormTrainGrad(c: number, relu: number, x: Float32Array, dy: Float32Array, mean: Float32Array, invstd: Float32Array, gamma: Float32Array, beta: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void;
  sgdUpdate(lr: number, momentum: number, weightDecay: number, first: boolean, p: Float32Array, g: Float32Array, buf: Float32Array, pOut: Float32Array, bufOut: Float32Array): void;
  setThreads(n: number): number;
  blasConfig(): string;
}

interface WasmBackendInternals {
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

export interface NativeStatus {
  available: boolean;
  /** Why it is not in use, or the BLAS it runs on. */
  detail: string;
  threads?: number;
}

let addon: NativeAddon | undefined;
let status: NativeStatus | undefined;

function nativeAddonPath(): string {
  return join(packageRoot(), 'native', 'build', 'ferkit_native.node');
}

/** Loads the addon once; `status` says whether it is there and why not. */
export function loadNative(): NativeStatus {
  if (status) return status;
  if (process.env.FERKIT_NATIVE === '0') return (status = { available: false, detail: 'disabled by FERKIT_NATIVE=0' });
  const path = nativeAddonPath();
  if (!existsSync(path)) return (status = { available: false, detail: `not built (${path}); run node scripts/build-native.mjs (needs g++ and libopenblas-dev)` });
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
    // BLAS threads: FERKIT_NATIVE_THREADS, else OpenBLAS's own default (all cores).
    const want = Number(process.env.FERKIT_NATIVE_THREADS);
    const threads = Number.isInteger(want) && want > 0 ? addon.setThreads(want) : addon.setThreads(0) || undefined;
    return (status = { available: true, detail: addon.blasConfig(), threads });
  } catch (e) {
    return (status = { available: false, detail: `failed to load ${path}: ${(e as Error).message}` });
  }
}

function heapView(b: WasmBackendInternals, t: TensorInfo): Float32Array {
  const data = b.dataIdMap.get(t.dataId);
  if (!data) throw new Error('native conv: tensor has no wasm data');
  const size = t.shape.reduce((a, c) => a * c, 1);
  return new Float32Array(b.wasm.HEAPU8.buffer, data.memoryOffset, size);
}

function info(xShape: number[], filterShape: number[], attrs: NamedAttrMap, depthwise = false): backend_util.Conv2DInfo {
  const format = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (format !== 'NHWC' && format !== 'channelsLast') throw new Error(`native conv: NHWC only, got ${format}`);
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    (attrs.dilations as number | [number, number] | undefined) ?? 1,
    attrs.pad as 'valid' | 'same' | number | backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );
}

function geometry(c: backend_util.Conv2DInfo): number[] {
  return [
    c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.outChannels, c.outHeight, c.outWidth,
    c.strideHeight, c.strideWidth, c.padInfo.top, c.padInfo.left, c.dilationHeight, c.dilationWidth,
  ];
}

/** Output first (it may grow the heap), then views of the inputs; `kernel`: the addon's conv or
 *  depthwise entry point. */
function runConv(backend: unknown, mode: 0 | 1 | 2, c: backend_util.Conv2DInfo, a: TensorInfo, b: TensorInfo, outShape: number[], kernel: 'conv' | 'depthwise' = 'conv'): TensorInfo {
  const be = backend as WasmBackendInternals;
  const out = be.makeOutput(outShape, 'float32');
  if (kernel === 'conv') addon!.conv(mode, geometry(c), heapView(be, a), heapView(be, b), heapView(be, out));
  else addon!.depthwise(mode as 1 | 2, geometry(c), heapView(be, a), heapView(be, b), heapView(be, out));
  return out;
}

function nativeConvKernels(backendName = 'wasm'): KernelConfig[] {
  return [
    {
      kernelName: tf.Conv2D,
      backendName,
      kernelFunc: ({ inputs, attrs, backend }) => {
        const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
        const c = info(x.shape, filter.shape, attrs!);
        return runConv(backend, 0, c, x, filter, [c.batchSize, c.outHeight, c.outWidth, c.outChannels]);
      },
    },
    {
      kernelName: tf.Conv2DBackpropFilter,
      backendName,
      kernelFunc: ({ inputs, attrs, backend }) => {
        const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
        const filterShape = attrs!.filterShape as number[];
        return runConv(backend, 1, info(x.shape, filterShape, attrs!), x, dy, filterShape);
      },
    },
    {
      kernelName: tf.Conv2DBackpropInput,
      backendName,
      kernelFunc: ({ inputs, attrs, backend }) => {
        const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
        const inputShape = attrs!.inputShape as number[];
        return runConv(backend, 2, info(inputShape, filter.shape, attrs!), dy, filter, inputShape);
      },
    },
  ];
}

/** The kernels the native ones replaced, by name: a depthwise gradient with a channel multiplier
 *  other than 1 falls back to them. */
const previousKernels = new Map<string, KernelConfig>();

function depthwiseGradKernels(backendName = 'wasm'): KernelConfig[] {
  const run = (name: string, mode: 1 | 2, args: Parameters<KernelConfig['kernelFunc']>[0], c: backend_util.Conv2DInfo, a: TensorInfo, b: TensorInfo, outShape: number[]) => {
    if (c.outChannels !== c.inChannels) {
      const previous = previousKernels.get(name);
      if (!previous) throw new Error(`native ${name}: channel multiplier ${c.outChannels / c.inChannels} has no kernel`);
      return previous.kernelFunc(args) as TensorInfo;
    }
    return runConv(args.backend, mode, c, a, b, outShape, 'depthwise');
  };
  return [
    {
      kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
      backendName,
      kernelFunc: (args) => {
        const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
        const filterShape = args.attrs!.filterShape as number[];
        return run(tf.DepthwiseConv2dNativeBackpropFilter, 1, args, info(x.shape, filterShape, args.attrs!, true), x, dy, filterShape);
      },
    },
    {
      kernelName: tf.DepthwiseConv2dNativeBackpropInput,
      backendName,
      kernelFunc: (args) => {
        const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
        const inputShape = args.attrs!.inputShape as number[];
        return run(tf.DepthwiseConv2dNativeBackpropInput, 2, args, info(inputShape, filter.shape, args.attrs!, true), dy, filter, inputShape);
      },
    },
  ];
}

/** Sum over every axis but the last (how a broadcast bias's gradient is reduced); any other Sum
 *  goes to the kernel it replaced. */
function columnSumKernel(backendName = 'wasm'): KernelConfig {
  return {
    kernelName: tf.Sum,
    backendName,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      const rank = x.shape.length;
      const axes = tf.util.parseAxisParam(args.attrs!.axis as number | number[], x.shape).sort((a, b) => a - b);
      const leading = rank >= 2 && x.dtype === 'float32' && axes.length === rank - 1 && axes.every((a, i) => a === i);
      if (!leading) return previousKernels.get(tf.Sum)!.kernelFunc(args) as TensorInfo;
      const c = x.shape[rank - 1]!;
      const be = args.backend as WasmBackendInternals;
      const out = be.makeOutput(args.attrs!.keepDims ? [...x.shape.slice(0, -1).map(() => 1), c] : [c], 'float32');
      addon!.columnSum(heapView(be, x), c, heapView(be, out));
      return out;
    },
  };
}

/** Kernel name of the native max-pool gradient (see src/nn/max-pool-op.ts): inputs {x (padded
 *  NHWC), dy}, attrs {kernel, stride, padding}; 'valid' pooling of x; the gradient of the input
 *  before padding (x's size less the padding). */
export const NATIVE_MAX_POOL_GRAD = 'FerkitMaxPoolGrad';

function maxPoolGradKernel(backendName: string): KernelConfig {
  return {
    kernelName: NATIVE_MAX_POOL_GRAD,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const [kh, kw] = attrs!.kernel as [number, number];
      const [sh, sw] = attrs!.stride as [number, number];
      const [ph, pw] = (attrs!.padding as [number, number] | undefined) ?? [0, 0];
      const be = backend as unknown as WasmBackendInternals;
      const [n, h, w, c] = x.shape;
      const out = be.makeOutput([n, h - 2 * ph, w - 2 * pw, c], 'float32');
      addon!.maxPoolGrad([n, h, w, c, kh, kw, dy.shape[1], dy.shape[2], sh, sw, ph, pw], heapView(be, x), heapView(be, dy), heapView(be, out));
      return out;
    },
  };
}

/** Training-mode batch norm over all axes but the last, ReLU optionally fused (see
 *  src/nn/batch-norm-op.ts): inputs {x, gamma, beta}, attrs {eps, relu} → [y, mean, variance,
 *  invstd]; its gradient: inputs {x, dy, mean, invstd, gamma, beta}, attrs {relu} → [dx, dgamma, dbeta]. */
export const NATIVE_BATCH_NORM = 'FerkitBatchNormTrain';
export const NATIVE_BATCH_NORM_GRAD = 'FerkitBatchNormTrainGrad';
/** One SGD-momentum step with coupled weight decay (see src/train/optim.ts): inputs {p, g, buf},
 *  attrs {lr, momentum, weightDecay, first} → [p', buf']. */
export const NATIVE_SGD_UPDATE = 'FerkitSgdUpdate';

/** Makes every output first (each may grow the heap), then hands views of all to `run`. */
function withViews(backend: unknown, inputs: TensorInfo[], outShapes: number[][], run: (views: Float32Array[]) => void): TensorInfo[] {
  const be = backend as WasmBackendInternals;
  const outs = outShapes.map((shape) => be.makeOutput(shape, 'float32'));
  run([...inputs, ...outs].map((t) => heapView(be, t)));
  return outs;
}

function trainingKernels(backendName: string): KernelConfig[] {
  return [
    {
      kernelName: NATIVE_BATCH_NORM,
      backendName,
      kernelFunc: ({ inputs, attrs, backend }) => {
        const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
        const c = x.shape[x.shape.length - 1];
        return withViews(backend, [x, gamma, beta], [x.shape, [c], [c], [c]], (v) =>
          addon!.batchNormTrain(c, attrs!.eps as number, attrs!.relu ? 1 : 0, v[0], v[1], v[2], v[3], v[4], v[5], v[6]),
        );
      },
    },
    {
      kernelName: NATIVE_BATCH_NORM_GRAD,
      backendName,
      kernelFunc: ({ inputs, attrs, backend }) => {
        const { x, dy, mean, invstd, gamma, beta } = inputs as Record<string, TensorInfo>;
        const c = x.shape[x.shape.length - 1];
        return withViews(backend, [x, dy, mean, invstd, gamma, beta], [x.shape, [c], [c]], (v) =>
          addon!.batchNormTrainGrad(c, attrs!.relu ? 1 : 0, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]),
        );
      },
    },
    {
      kernelName: NATIVE_SGD_UPDATE,
      backendName,
      kernelFunc: ({ inputs, attrs, backend }) => {
        const { p, g, buf } = inputs as { p: TensorInfo; g: TensorInfo; buf: TensorInfo };
        const a = attrs as { lr: number; momentum: number; weightDecay: number; first: boolean };
        return withViews(backend, [p, g, buf], [p.shape, p.shape], (v) => addon!.sgdUpdate(a.lr, a.momentum, a.weightDecay, a.first, v[0], v[1], v[2], v[3], v[4]));
      },
    },
  ];
}

let replaced: KernelConfig[] | undefined;

/** Registers the native kernels over the wasm ones when the addon loads; returns the status. */
export function registerNativeKernels(): NativeStatus {
  const s = loadNative();
  if (!s.available || replaced) return s;
  replaced = [];
  for (const config of [...nativeConvKernels('wasm'), ...depthwiseGradKernels('wasm'), columnSumKernel('wasm'), maxPoolGradKernel('wasm'), ...trainingKernels('wasm')]) {
    const previous = tf.getKernel(config.kernelName, 'wasm');
    if (previous) {
      replaced.push(previous);
      previousKernels.set(config.kernelName, previous);
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    tf.registerKernel(config);
  }
  return s;
}

/** Puts the kernels the native ones replaced back (tests compare both paths). */
export function unregisterNativeKernels(): void {
  if (!replaced) return;
  for (const config of [...nativeConvKernels('wasm'), ...depthwiseGradKernels('wasm'), columnSumKernel('wasm'), maxPoolGradKernel('wasm'), ...trainingKernels('wasm')]) tf.unregisterKernel(config.kernelName, 'wasm');
  for (const config of replaced) tf.registerKernel(config);
  replaced = undefined;
  previousKernels.clear();
}

export function nativeKernelsActive(): boolean {
  return replaced !== undefined;
}
