// Worker-thread entry for TypeScript sources: module hooks registered with `--import tsx` do not
// reach worker threads in Node 20, so the worker registers tsx itself, then loads its script.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
