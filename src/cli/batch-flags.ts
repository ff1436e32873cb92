// Flag parsing shared by `ferkit batch` and `ferkit worker`.
import { availableParallelism } from 'node:os';

export function number(name: string, v: string | undefined, opts: { integer?: boolean; allowZero?: boolean } = {}): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  const ok = Number.isFinite(x) && (opts.allowZero ? x >= 0 : x > 0) && (!opts.integer || Number.isInteger(x));
  if (!ok) throw new Error(`--${name} must be a ${opts.allowZero ? 'non-negative' : 'positive'} ${opts.integer ? 'integer' : 'number'}, got "${v}"`);
  return x;
}

export function engineFlags(flags: { engine: string; threads?: string }) {
  if (!['auto', 'tfjs', 'onnx'].includes(flags.engine)) throw new Error(`--engine must be auto, tfjs or onnx, got "${flags.engine}"`);
  return { engine: flags.engine as 'auto' | 'tfjs' | 'onnx', threads: number('threads', flags.threads, { integer: true }) ?? availableParallelism() };
}
