// The IAL clip model at inference, TF.js against its ONNX export: the same random-initialised
// model (small CK+48 configuration or the full 16x112x112x3 default, attention gca) and the same
// batch of clips through TfjsRunner and OnnxRunner, as inference runs them (input tensor creation
// and output copy included). The engines alternate in rounds so that load from other processes on
// the machine falls on both alike; clips per CPU-second of this process (all its threads) are
// printed too, being less at the mercy of a shared machine's load than wall-clock rates.
import { exportOnnx } from '../src/export/onnx/index.js';
import { OnnxRunner } from '../src/infer/onnx-runner.js';
import { sampleShape, type ModelRunner } from '../src/infer/runner.js';
import { TfjsRunner } from '../src/infer/tfjs-runner.js';
import { IAL_SMALL, ialMethod } from '../src/models/ial/method.js';
import { createConfig } from '../src/models/config.js';
import { createModel } from '../src/models/io.js';
import type { MethodDefaults } from '../src/models/methods.js';
import { Rng } from '../src/util/rng.js';

export const IAL_BENCH_CONFIGS: Record<string, MethodDefaults> = { small: IAL_SMALL, full: ialMethod.defaults };

export interface ClipBenchOptions {
  config: string;
  batch: number;
  seconds: number;
  /** onnxruntime intra-op threads. */
  threads: number;
  log: (s: string) => void;
}

/** Clips per second of each engine: [tfjs, onnx]. */
export async function benchClipInfer(o: ClipBenchOptions): Promise<[number, number]> {
  const defaults = IAL_BENCH_CONFIGS[o.config];
  if (!defaults) throw new Error(`unknown IAL configuration "${o.config}"; use ${Object.keys(IAL_BENCH_CONFIGS).join(' or ')}`);
  const classes = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
  const model = createModel(createConfig('ial', { classes, defaults }), new Rng(1)).eval();
  const t0 = performance.now();
  const bytes = exportOnnx(model);
  o.log(`ial ${o.config}: exported in ${(performance.now() - t0).toFixed(0)} ms (${(bytes.length / 2 ** 20).toFixed(1)} MiB)`);
  const runners: ModelRunner[] = [new TfjsRunner(model), await OnnxRunner.create(bytes, model.config, { threads: o.threads })];
  const shape = [o.batch, ...sampleShape(model.config.input)];
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const rng = new Rng(7);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform();
  for (const r of runners) await r.run(x, shape); // warm-up
  const rounds = 2;
  const totals = runners.map(() => ({ ms: 0, cpuMs: 0, batches: 0 }));
  for (let round = 0; round < rounds; round++) {
    for (const [i, r] of runners.entries()) {
      const start = performance.now();
      const cpu = process.cpuUsage();
      let n = 0;
      while (n < 2 || performance.now() - start < (o.seconds * 1000) / (2 * rounds)) {
        await r.run(x, shape);
        n++;
      }
      totals[i].ms += performance.now() - start;
      const used = process.cpuUsage(cpu);
      totals[i].cpuMs += (used.user + used.system) / 1000;
      totals[i].batches += n;
    }
  }
  const rates = totals.map((t) => (t.batches * o.batch * 1000) / t.ms) as [number, number];
  runners.forEach((r, i) => o.log(`ial ${o.config} ${r.engine}: ${totals[i].batches} batches of ${o.batch}, ${(totals[i].ms / totals[i].batches).toFixed(1)} ms/batch, ${rates[i].toFixed(2)} clips/s, ${((totals[i].batches * o.batch * 1000) / totals[i].cpuMs).toFixed(2)} clips per CPU-second`));
  for (const r of runners) await r.dispose();
  return rates;
}
