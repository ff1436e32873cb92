// A pool thread: its own TF.js engine (one wasm instance per thread), detector and model; runs
// one item at a time through the per-item code (item.ts).
import { loadRecognizer } from '../api/recognizer.js';
import { initEngine } from '../engine/backend.js';
import { poolData, taskHandler } from '../util/workers.js';
import { ItemAnalyser, type ItemTask } from './item.js';
import type { PoolWorkerData } from './pool.js';

const data = poolData<PoolWorkerData>();
await initEngine(data.backend);
const rec = await loadRecognizer(data.options);
// Warm the detector so the first item does not pay for loading it.
await rec.recognize({ width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3) });
const analyser = new ItemAnalyser(rec, data.analyser);

export default taskHandler((task: ItemTask | 'ping') => (task === 'ping' ? rec.engine : analyser.analyse(task)));
