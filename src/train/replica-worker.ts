// A data-parallel replica in a worker thread (see data-parallel.ts). The replica module's
// `createReplica(options)` builds the model; this file runs the message protocol around it.
import { parentPort, workerData } from 'node:worker_threads';
import { initEngine, tf } from '../engine/backend.js';
import type { Shard } from './data-parallel.js';

/** What a replica module's `createReplica` returns. */
export interface Replica {
  variables: tf.Variable[];
  /** Scalar loss of one shard (inputs NHWC float, integer labels). */
  loss(x: tf.Tensor, y: tf.Tensor1D): tf.Scalar;
  /** Apply averaged gradients (same order as `variables`) with learning rate `lr`. */
  apply(grads: tf.Tensor[], lr: number): void;
}

const port = parentPort;
if (!port) throw new Error('replica-worker must run in a worker thread');
const { module, options } = workerData as { module: string; options: Record<string, unknown> };

let replica: Replica | undefined;
let shared: Float32Array | undefined;

async function handle(msg: { type: string; shard?: Shard; lr?: number; buffer?: SharedArrayBuffer }): Promise<void> {
  switch (msg.type) {
    case 'init': {
      await initEngine();
      const mod = (await import(module)) as { createReplica: (o: Record<string, unknown>) => Promise<Replica> | Replica };
      replica = await mod.createReplica(options);
      port!.postMessage({ type: 'ready', numParams: replica.variables.reduce((a, v) => a + v.size, 0) });
      return;
    }
    case 'share':
      shared = new Float32Array(msg.buffer!);
      port!.postMessage({ type: 'stepped' });
      return;
    case 'grads': {
      const r = replica!;
      const s = msg.shard!;
      const x = tf.tensor(s.x, s.xShape);
      const y = tf.tensor1d(s.y, 'int32');
      const { value, grads } = tf.variableGrads(() => r.loss(x, y), r.variables);
      const flat = tf.concat(r.variables.map((v) => tf.reshape(grads[v.name], [-1])));
      const data = flat.dataSync() as Float32Array;
      const loss = value.dataSync()[0];
      tf.dispose([x, y, value, flat, ...Object.values(grads)]);
      const copy = Float32Array.from(data);
      port!.postMessage({ type: 'grads', loss, count: s.y.length, grads: copy }, [copy.buffer]);
      return;
    }
    case 'apply': {
      const r = replica!;
      let offset = 0;
      const grads = r.variables.map((v) => {
        const t = tf.tensor(shared!.subarray(offset, offset + v.size), v.shape);
        offset += v.size;
        return t;
      });
      r.apply(grads, msg.lr!);
      tf.dispose(grads);
      port!.postMessage({ type: 'stepped' });
      return;
    }
    case 'checksum': {
      let sum = 0;
      for (const v of replica!.variables) for (const x of v.dataSync()) sum += x;
      port!.postMessage({ type: 'checksum', value: sum });
      return;
    }
    default:
      throw new Error(`unknown message ${msg.type}`);
  }
}

port.on('message', (msg) => {
  handle(msg).catch((e: Error) => port.postMessage({ type: 'error', message: e.message }));
});
