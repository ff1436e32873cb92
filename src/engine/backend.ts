// One place that owns TF.js set-up: which backend runs, why, and the kernels we add to it.
import * as tf from '@tensorflow/tfjs-core';
// The union package registers the cpu backend, every gradient and the chained ops (x.sum()); it is
// the same tfjs-core instance that face-api loads, so there is one engine in the process.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { registerWasmTrainingKernels } from './kernels/index.js';
import { applyEnginePatches } from './patches.js';
import { registerNativeKernels, type NativeStatus } from './native.js';

export type BackendName = 'wasm' | 'tensorflow' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['wasm', 'tensorflow', 'cpu'];

export interface EngineInfo {
  backend: BackendName;
  /** Why this backend was chosen, in words. */
  reason: string;
  tfjsVersion: string;
  /** Threads the backend computes with (wasm in Node is single-threaded). */
  threads: number;
  /** Native convolution kernels (OpenBLAS) over wasm, when built. */
  native?: NativeStatus;
}

let current: EngineInfo | undefined;
const require = createRequire(import.meta.url);

/** Whether `@tensorflow/tfjs-node` (or `-gpu`) can be imported here; returns the package name. */
export function findTfjsNode(): string | undefined {
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require.resolve(name);
      return name;
    } catch {
      /* not installed */
    }
  }
  return undefined;
}

function parseBackend(value: string, source: string): BackendName {
  const v = value.trim().toLowerCase();
  if (!(BACKENDS as readonly string[]).includes(v)) {
    throw new Error(`${source}: unknown backend "${value}"; expected one of ${BACKENDS.join(', ')}`);
  }
  return v as BackendName;
}

/**
 * Initialise TF.js once. Order: explicit request (`--backend`), then `FERKIT_BACKEND`, then
 * `tensorflow` when tfjs-node is installed, then `wasm`, then `cpu` as the last resort.
 * Calling it again with the same (or no) request returns the running engine.
 */
let starting: Promise<unknown> = Promise.resolve();

/** Starts the engine once; concurrent calls (two loaders at once) wait for each other instead of
 *  starting the backend twice: a second start while the first was still initialising let TF.js
 *  run kernels of the cpu backend on wasm tensors. */
export function initEngine(requested?: string): Promise<EngineInfo> {
  const next = starting.then(() => startEngine(requested));
  starting = next.catch(() => undefined);
  return next;
}

async function startEngine(requested?: string): Promise<EngineInfo> {
  let want: BackendName | undefined;
  let reason: string;
  if (requested) {
    want = parseBackend(requested, '--backend');
    reason = `requested with --backend ${want}`;
  } else if (process.env.FERKIT_BACKEND) {
    want = parseBackend(process.env.FERKIT_BACKEND, 'FERKIT_BACKEND');
    reason = `requested with FERKIT_BACKEND=${want}`;
  } else {
    reason = '';
  }
  if (current && (!want || want === current.backend)) return current;
  // PROD silences TF.js's console banners ("install tfjs-node"); FERKIT_DEBUG keeps them.
  if (!process.env.FERKIT_DEBUG) tf.env().set('PROD', true);

  const tfjsNode = findTfjsNode();
  if (!want) {
    if (tfjsNode) {
      want = 'tensorflow';
      reason = `${tfjsNode} is installed (native TensorFlow)`;
    } else {
      want = 'wasm';
      reason = 'default (no @tensorflow/tfjs-node installed)';
    }
  }

  if (want === 'tensorflow') {
    if (!tfjsNode) throw new Error('backend "tensorflow" needs @tensorflow/tfjs-node, which is not installed');
    await import(tfjsNode);
  }

  let ok = false;
  try {
    ok = await tf.setBackend(want);
  } catch {
    ok = false;
  }
  if (!ok) {
    if (want === 'cpu') throw new Error('TF.js could not start even the cpu backend');
    reason = `${want} failed to start; fell back to cpu (the slowest)`;
    want = 'cpu';
    await tf.setBackend('cpu');
  }
  await tf.ready();
  applyEnginePatches();
  let native: NativeStatus | undefined;
  if (want === 'wasm') {
    registerWasmTrainingKernels();
    native = registerNativeKernels();
  }

  current = { backend: want, reason, tfjsVersion: tf.version_core, threads: threadsOf(want), ...(native ? { native } : {}) };
  return current;
}

function threadsOf(backend: BackendName): number {
  if (backend === 'wasm') {
    // Node builds of the wasm backend have no thread support (engine-notes): one thread.
    const b = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
    return b.wasm?.tfjs?.getThreadsCount?.() ?? 1;
  }
  if (backend === 'tensorflow') return Number(process.env.TF_NUM_INTRAOP_THREADS) || 0;
  return 1;
}

/** The running engine, or an error if `initEngine` has not run. */
export function engineInfo(): EngineInfo {
  if (!current) throw new Error('engine not initialised: call initEngine() first');
  return current;
}

export { tf };
