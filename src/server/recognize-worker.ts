// Worker thread of the RecognizePool: its own TF.js engine (a wasm instance per thread), detector
// and model; decodes uploaded image bytes and recognises them, one job at a time.
import { parentPort, workerData } from 'node:worker_threads';
import type { FaceMode } from '../detect/find-faces.js';
import { loadRecognizer, type RecognizerOptions } from '../api/recognizer.js';
import { decodeImageBytes } from '../api/decode.js';
import { DataError } from '../data/errors.js';

export interface PoolJob {
  id: number;
  bytes: Uint8Array;
  name: string;
  maxPixels: number;
  faces?: FaceMode;
}

export type PoolReply =
  | { id: number; width: number; height: number; faces: unknown[]; droppedFaces: number }
  | { id: number; file: string; problem: string }
  | { id: number; failure: string };

const port = parentPort!;
const rec = await loadRecognizer((workerData as { options: RecognizerOptions }).options);
// Warm the detector so the first upload does not pay for loading it.
await rec.recognize({ width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3) });
port.postMessage({ ready: true, engine: rec.engine });
port.on('message', async (job: PoolJob) => {
  let reply: PoolReply;
  try {
    const image = await decodeImageBytes(job.bytes, job.name, { maxPixels: job.maxPixels });
    reply = { id: job.id, ...(await rec.recognizeImage(image, { faces: job.faces })) };
  } catch (e) {
    reply = e instanceof DataError ? { id: job.id, file: e.file, problem: e.problem } : { id: job.id, failure: (e as Error).message };
  }
  port.postMessage(reply);
});
