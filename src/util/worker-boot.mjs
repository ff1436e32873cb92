// Pool-thread entry when ferkit runs from its TypeScript sources (see workers.ts): module hooks
// registered with `--import tsx` do not reach worker threads in Node 20, so the thread registers
// tsx itself, then hands piscina the handler of the real entry.
import { workerData } from 'piscina';
import { register } from 'tsx/esm/api';

register();
const mod = await import(workerData.entry);
export default mod.default;
