// A data-parallel replica in a worker thread (see data-parallel.ts). The replica module's
// `createReplica(options)` builds the model; this file runs the message protocol around
// ReplicaHost.
import { parentPort, workerData } from 'node:worker_threads';
import { initEngine } from '../engine/backend.js';
import { ReplicaHost, type Replica, type Shard } from './replica-host.js';

export type { Replica, Shard } from './replica-host.js';

const port = parentPort;
if (!port) throw new Error('replica-worker must run in a worker thread');
const { module, options } = workerData as { module: string; options: Record<string, unknown> };

let host: ReplicaHost | undefined;
/** The averaged gradient every replica applies, and each replica's gradient slot (shared memory). */
let shared: Float32Array | undefined;
let slots: Float32Array[] = [];
let mySlot = -1;

interface Msg {
  type: string;
  shard?: Shard;
  lr?: number;
  buffer?: SharedArrayBuffer;
  slots?: SharedArrayBuffer;
  slot?: number;
  weights?: number[];
  range?: [number, number];
  path?: string;
  progress?: Record<string, unknown>;
  values?: Float32Array[];
  x?: Float32Array;
  shape?: number[];
}

async function handle(msg: Msg): Promise<void> {
  if (msg.type === 'init') {
    await initEngine();
    const mod = (await import(module)) as { createReplica: (o: Record<string, unknown>) => Promise<Replica> | Replica };
    host = new ReplicaHost(await mod.createReplica(options));
    port!.postMessage({ type: 'ready', numParams: host.numParams });
    return;
  }
  const h = host!;
  const r = h.replica;
  switch (msg.type) {
    case 'share': {
      shared = new Float32Array(msg.buffer!);
      const n = shared.length;
      slots = Array.from({ length: msg.slots!.byteLength / (4 * n) }, (_, j) => new Float32Array(msg.slots!, j * n * 4, n));
      mySlot = msg.slot!;
      return void port!.postMessage({ type: 'stepped' });
    }
    case 'grads': {
      const g = h.grads(msg.shard!, slots[mySlot]);
      const transfer = (g.relabels ? [g.relabels.buffer] : []) as ArrayBuffer[];
      return void port!.postMessage({ type: 'grads', ...g, grads: undefined }, transfer);
    }
    case 'reduce': {
      // This replica's share of the average: the replicas split the vector, so no one thread
      // loops over all of it. Same float32 arithmetic, slot by slot, as a sequential average.
      const [lo, hi] = msg.range!;
      const w = msg.weights!;
      const avg = shared!;
      for (let k = lo; k < hi; k++) {
        let a = 0;
        for (let j = 0; j < w.length; j++) a = Math.fround(a + w[j] * slots[j][k]);
        avg[k] = a;
      }
      return void port!.postMessage({ type: 'stepped' });
    }
    case 'apply':
      h.apply(shared!, msg.lr!);
      return void port!.postMessage({ type: 'stepped' });
    case 'checksum':
      return void port!.postMessage({ type: 'checksum', value: h.checksum() });
    case 'save':
      if (!r.save) throw new Error('replica cannot save');
      await r.save(msg.path!, msg.progress ?? {});
      return void port!.postMessage({ type: 'stepped' });
    case 'load': {
      if (!r.load) throw new Error('replica cannot load');
      const progress = await r.load(msg.path!);
      return void port!.postMessage({ type: 'value', value: progress });
    }
    case 'buffers':
      return void port!.postMessage({ type: 'value', value: r.buffers ? r.buffers() : [] });
    case 'setBuffers':
      r.setBuffers?.(msg.values!);
      return void port!.postMessage({ type: 'stepped' });
    case 'predict': {
      const p = h.predict(msg.x!, msg.shape!);
      return void port!.postMessage({ type: 'value', value: p }, [p.buffer as ArrayBuffer]);
    }
    default:
      throw new Error(`unknown message ${msg.type}`);
  }
}

port.on('message', (msg: Msg) => {
  handle(msg).catch((e: Error) => port.postMessage({ type: 'error', message: e.message }));
});
