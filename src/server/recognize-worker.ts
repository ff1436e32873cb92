// Worker thread of the RecognizePool: its own TF.js engine (a wasm instance per thread), detector
// and model; decodes uploaded image bytes and recognises them, one job at a time.
import type { FaceMode } from '../detect/find-faces.js';
import { loadRecognizer, type RecognizerOptions } from '../api/recognizer.js';
import { decodeImageBytes } from '../api/decode.js';
import { DataError } from '../data/errors.js';
import { poolData, taskHandler } from '../util/workers.js';

export interface PoolJob {
  bytes: Uint8Array;
  name: string;
  maxPixels: number;
  faces?: FaceMode;
}

/** The result, or the file and problem of a DataError (a class does not cross threads). */
export type PoolReply = { width: number; height: number; faces: unknown[]; droppedFaces: number } | { file: string; problem: string };

const rec = await loadRecognizer(poolData<RecognizerOptions>());
// Warm the detector so the first upload does not pay for loading it.
await rec.recognize({ width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3) });

export default taskHandler(async (job: PoolJob | 'ping'): Promise<PoolReply | string> => {
  if (job === 'ping') return rec.engine;
  try {
    const image = await decodeImageBytes(job.bytes, job.name, { maxPixels: job.maxPixels });
    return await rec.recognizeImage(image, { faces: job.faces });
  } catch (e) {
    if (e instanceof DataError) return { file: e.file, problem: e.problem };
    throw e;
  }
});
