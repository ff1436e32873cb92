// The thread behind thread-runner.ts: opens one model runner and answers its requests in order;
// the outputs' buffers move back to the caller.
import { moved, sessionHandler } from '../util/workers.js';
import { loadModelFolder } from './load.js';
import type { ModelRunner, RunnerOutput } from './runner.js';
import type { ThreadOpened, ThreadRequest } from './thread-runner.js';

let runner: ModelRunner | undefined;

export default sessionHandler(async (req: ThreadRequest): Promise<ThreadOpened | RunnerOutput | undefined> => {
  if (req.kind === 'open') {
    const notes: string[] = [];
    runner = await loadModelFolder(req.ref, { ...req.opts, onNote: (n) => notes.push(n) });
    return { config: runner.config, engine: runner.engine, notes };
  }
  if (!runner) throw new Error('model thread: no model opened');
  if (req.kind === 'close') {
    await runner.dispose();
    runner = undefined;
    return undefined;
  }
  const out = await runner.run(req.x, req.shape);
  // Outputs may be views of one buffer: each buffer moves once.
  const buffers = new Set([out.probs, out.confidence, out.embedding].flatMap((a) => (a ? [a.buffer as ArrayBuffer] : [])));
  return moved(out, [...buffers]);
});
