// onnxruntime-node as ferkit opens it, for the model runner (infer/) and the face detector
// (detect/): the optional import and one set of session options.
import { availableParallelism } from 'node:os';
import type * as Ort from 'onnxruntime-node';

/** Session options for ferkit's graphs: every optimisation, `threads` intra-op threads (default:
 *  FERKIT_ORT_THREADS, else the cores) that sleep between operators instead of spinning, since the
 *  machine is often shared (other processes, the recognizer's own decode and detector threads):
 *  spinning threads took CPU from them and made small graphs slower under load, not faster. */
export function sessionOptions(threads = defaultThreads()): Ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

function defaultThreads(): number {
  const n = Number(process.env.FERKIT_ORT_THREADS);
  return Number.isInteger(n) && n > 0 ? n : availableParallelism();
}

/** onnxruntime-node, an optional dependency: npm leaves it out where its install script cannot
 *  fetch its extra files (from nuget.org, beyond the npm registry). */
export async function importOrt(): Promise<typeof Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new Error('onnxruntime-node is not installed (an optional dependency: npm drops it when its install script cannot download its CUDA files; `ONNXRUNTIME_NODE_INSTALL=skip npm install` keeps it, CPU only)');
  }
}
