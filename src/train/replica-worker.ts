// A data-parallel replica in a worker thread (see data-parallel.ts): one session of the replicas'
// worker pool. The replica module's `createReplica(options)` builds the model; this file answers
// the session's requests around ReplicaHost.
import { initEngine } from '../engine/backend.js';
import { moved, sessionHandler } from '../util/workers.js';
import { ReplicaHost, type Replica, type Shard } from './replica-host.js';

export type { Replica, Shard } from './replica-host.js';

export type ReplicaRequest =
  | { type: 'init'; module: string; options: Record<string, unknown> }
  | { type: 'share'; buffer: SharedArrayBuffer; slots: SharedArrayBuffer; slot: number }
  | { type: 'grads'; shard: Shard }
  | { type: 'reduce'; weights: number[]; range: [number, number] }
  | { type: 'apply'; lr: number }
  | { type: 'checksum' | 'buffers' }
  | { type: 'save'; path: string; progress: Record<string, unknown> }
  | { type: 'load'; path: string }
  | { type: 'setBuffers'; values: Float32Array[] }
  | { type: 'predict'; x: Float32Array; shape: number[] };

let host: ReplicaHost | undefined;
/** The averaged gradient every replica applies, and each replica's gradient slot (shared memory). */
let shared: Float32Array | undefined;
let slots: Float32Array[] = [];
let mySlot = -1;

async function handle(msg: ReplicaRequest): Promise<unknown> {
  if (msg.type === 'init') {
    await initEngine();
    const mod = (await import(msg.module)) as { createReplica: (o: Record<string, unknown>) => Promise<Replica> | Replica };
    host = new ReplicaHost(await mod.createReplica(msg.options));
    return host.numParams;
  }
  const h = host!;
  const r = h.replica;
  switch (msg.type) {
    case 'share': {
      shared = new Float32Array(msg.buffer);
      const n = shared.length;
      slots = Array.from({ length: msg.slots.byteLength / (4 * n) }, (_, j) => new Float32Array(msg.slots, j * n * 4, n));
      mySlot = msg.slot;
      return;
    }
    case 'grads': {
      const g = h.grads(msg.shard, slots[mySlot]);
      return moved({ ...g, grads: undefined }, g.relabels ? [g.relabels.buffer as ArrayBuffer] : []);
    }
    case 'reduce': {
      // This replica's share of the average: the replicas split the vector, so no one thread
      // loops over all of it. Same float32 arithmetic, slot by slot, as a sequential average.
      const [lo, hi] = msg.range;
      const w = msg.weights;
      const avg = shared!;
      for (let k = lo; k < hi; k++) {
        let a = 0;
        for (let j = 0; j < w.length; j++) a = Math.fround(a + w[j] * slots[j][k]);
        avg[k] = a;
      }
      return;
    }
    case 'apply':
      return h.apply(shared!, msg.lr);
    case 'checksum':
      return h.checksum();
    case 'save':
      if (!r.save) throw new Error('replica cannot save');
      return r.save(msg.path, msg.progress);
    case 'load':
      if (!r.load) throw new Error('replica cannot load');
      return r.load(msg.path);
    case 'buffers':
      return r.buffers ? r.buffers() : [];
    case 'setBuffers':
      return r.setBuffers?.(msg.values);
    case 'predict': {
      const p = h.predict(msg.x, msg.shape);
      return moved(p, [p.buffer as ArrayBuffer]);
    }
  }
}

export default sessionHandler(handle);
