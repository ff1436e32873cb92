// `npm run bench -- <name> [options]`: ferkit's benchmarks. Each prints progress and, as its last
// line, one figure row. Speed targets live here, as ratios against a baseline timed in the same
// run: ferkit and the baseline alternate in three rounds and the row gives the median ratio.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { initEngine, tf } from '../src/engine/backend.js';
import { Registry } from '../src/registry.js';
import { resnet18 } from '../src/models/backbones/resnet.js';
import { Rng } from '../src/util/rng.js';
import { DataParallelTrainer } from '../src/train/data-parallel.js';
import { SGD } from '../src/train/optim.js';
import { trainStep } from '../src/train/step.js';
import { findTorchPython } from '../test/helpers/python.js';
import { BenchResNet18 } from './resnet18.js';
import { benchData } from './data.js';
import { benchE2e, benchServe } from './inference.js';
import { benchVideo } from './video.js';
import { benchCkplusClips } from './ckplus-clips.js';
import { benchBatch } from './batch.js';
import { openOnnxBench } from './onnx-infer.js';
import { benchClipInfer, IAL_BENCH_CONFIGS } from './clip-infer.js';
import { benchPeerAccuracy } from './peer-accuracy.js';
import { alternate, fmt } from './rounds.js';
import { benchVideoMemory } from './video-memory.js';

interface BenchOptions {
  workers: number;
  batch: number;
  size: number;
  seconds: number;
  /** Fixed number of timed steps (0: as many as fit in `seconds`). */
  steps: number;
  profile: boolean;
  torch: boolean;
  /** infer: also time the BatchNorm-folded, fused-conv graph of bench/resnet18.ts. */
  folded: boolean;
}
type Bench = (o: BenchOptions) => Promise<void>;

const benches = new Registry<Bench>('benchmark');

const log = (msg: string) => process.stdout.write(`${msg}\n`);

/**
 * Warm-up, then timed steps: `fixed` of them, or as many as fit in `seconds`. A slow backend (the
 * pure-JS cpu one takes minutes per ResNet step) gets one warm-up step and may stop after one
 * timed step, so the benchmark never runs for ages. Returns ms per step.
 */
async function timeSteps(step: () => void, seconds: number, fixed = 0, onStep?: () => void): Promise<{ ms: number; steps: number }> {
  const w0 = performance.now();
  step();
  const first = performance.now() - w0;
  if (first < (seconds * 1000) / 5) step();
  log(`warm-up done (first step ${first.toFixed(0)} ms)`);
  const minSteps = fixed || (first > (seconds * 1000) / 3 ? 1 : 3);
  let steps = 0;
  const t0 = performance.now();
  while (steps < minSteps || (!fixed && performance.now() - t0 < seconds * 1000)) {
    step();
    onStep?.();
    steps++;
    if (steps % 5 === 0) log(`  ${steps} steps, ${((performance.now() - t0) / steps).toFixed(0)} ms/step`);
  }
  return { ms: (performance.now() - t0) / steps, steps };
}

/** Per-kernel time of one call of `f`, largest first, as printed table lines. */
async function profileKernels(f: () => void): Promise<string[]> {
  const info = await tf.profile(() => {
    f();
  });
  const total = new Map<string, { ms: number; n: number }>();
  for (const k of info.kernels) {
    const e = total.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += Number(k.kernelTimeMs) || 0;
    e.n += 1;
    total.set(k.name, e);
  }
  const sum = [...total.values()].reduce((a, e) => a + e.ms, 0);
  return [...total]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([name, e]) => `  ${name.padEnd(28)} ${e.ms.toFixed(0).padStart(7)} ms ${((100 * e.ms) / sum).toFixed(1).padStart(5)}%  (${e.n} calls)`);
}

function torchBaseline(mode: 'train' | 'infer', o: BenchOptions): number | undefined {
  const python = findTorchPython();
  if (!python) return undefined;
  const script = fileURLToPath(new URL('./pytorch_resnet18.py', import.meta.url));
  const args = [script, '--mode', mode, '--batch', String(o.batch), '--size', String(o.size), '--seconds', String(o.seconds), '--threads', '2'];
  const r = spawnSync(python, args, { encoding: 'utf8', timeout: Math.round((o.seconds * 4 + 120) * 1000) });
  if (r.status !== 0) {
    log(`pytorch: baseline failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    return undefined;
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return (JSON.parse(line) as { img_per_s: number }).img_per_s;
}

/** The last line: medians over the rounds, and the median of the per-round ratios. */
function figureRow(name: string, ferkit: number, torch: number | undefined, ratio?: number): string {
  const t = torch === undefined ? 'n/a' : fmt(torch);
  const r = torch === undefined ? 'n/a' : (ratio ?? ferkit / torch).toFixed(2);
  return `${name}: ferkit ${fmt(ferkit)} img/s, pytorch ${t} img/s, ratio ${r}`;
}

/** The training replicas of the data-parallel trainer (batch split over `o.workers` worker
 *  threads), warmed up; time() may be called repeatedly (rounds alternate with PyTorch). */
async function openDataParallel(o: BenchOptions): Promise<{ time(seconds: number): Promise<number>; close(): Promise<void> }> {
  const trainer = await DataParallelTrainer.start({
    replicaModule: new URL('./resnet18-replica.ts', import.meta.url).href,
    replicaOptions: { weightDecay: 1e-4 },
    workers: o.workers,
  });
  const per = Math.ceil(o.batch / o.workers);
  const shards = () =>
    Array.from({ length: o.workers }, (_, w) => {
      const n = Math.min(per, o.batch - w * per);
      const x = new Float32Array(n * o.size * o.size * 3).map(() => Math.random() * 2 - 1);
      return { x, xShape: [n, o.size, o.size, 3], y: Int32Array.from({ length: n }, (_, i) => (w * per + i) % 7) };
    });
  for (let i = 0; i < 2; i++) await trainer.step(shards(), 0.01);
  return {
    async time(seconds: number) {
      let steps = 0;
      let busy = 0;
      while (steps < 3 || busy < seconds * 1000) {
        const batch = shards(); // data preparation is not timed: the data benchmark measures it
        const t0 = performance.now();
        await trainer.step(batch, 0.01);
        busy += performance.now() - t0;
        steps++;
      }
      const sums = await trainer.checksums();
      if (sums.some((v) => Math.abs(v - sums[0]) > 1e-6 * Math.max(1, Math.abs(sums[0])))) {
        throw new Error(`replicas diverged: weight checksums ${sums.join(', ')}`);
      }
      log(`ferkit: data-parallel ${steps} steps, ${(busy / steps).toFixed(0)} ms/step, replicas in sync`);
      return (o.batch * steps * 1000) / busy;
    },
    close: () => trainer.close(),
  };
}

/** Three alternating rounds (ours, PyTorch) when PyTorch runs here, one round of ours otherwise. */
const ROUNDS = 3;

function torchAvailable(o: BenchOptions): boolean {
  if (!o.torch) return false;
  if (findTorchPython()) return true;
  log('pytorch: not importable (apt-get install python3-torch for the baseline)');
  return false;
}

benches.register({
  name: 'train',
  description: 'ResNet-18 @ size, SGD-momentum training steps vs PyTorch CPU (2 threads), 3 alternating rounds, median ratio',
  create: async (o) => {
    const engine = await initEngine();
    log(`ferkit: backend ${engine.backend} (${engine.reason}), batch ${o.batch}, ${o.size}x${o.size}, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
    const model = resnet18({ numClasses: 7, rng: new Rng(1) }).train();
    const optimizer = new SGD(model.trainableParameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
    const x = tf.randomNormal([o.batch, o.size, o.size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: o.batch }, (_, i) => i % 7), 'int32'), 7);
    let loss = NaN;
    const step = () => {
      loss = trainStep(model, () => tf.losses.softmaxCrossEntropy(y, model.forward(x)) as tf.Scalar, optimizer);
    };
    let peakRss = 0;
    const withTorch = torchAvailable(o);
    const rounds = withTorch ? ROUNDS : 1;
    const seconds = o.seconds / rounds;
    const first = await timeSteps(step, seconds, o.steps, () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    });
    const before = tf.memory().numTensors;
    step();
    const leaked = tf.memory().numTensors - before;
    log(`ferkit: ${first.steps} steps, ${first.ms.toFixed(0)} ms/step, loss ${loss.toFixed(3)}, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, tensors leaked per step: ${leaked}`);
    if (o.profile) {
      log('ferkit: kernel time of one training step');
      for (const line of await profileKernels(step)) log(line);
    }
    const parallel = o.workers > 1 ? await openDataParallel(o) : undefined;
    let firstRound = true;
    // ferkit's figure: the faster of single-thread training and data-parallel replicas, per round.
    const ours = async () => {
      const single = firstRound ? first.ms : (await timeSteps(step, seconds, o.steps)).ms;
      firstRound = false;
      const a = (o.batch * 1000) / single;
      const b = parallel ? await parallel.time(seconds) : 0;
      log(`ferkit single-thread: ${fmt(a)} img/s${parallel ? `; data-parallel, ${o.workers} workers: ${fmt(b)} img/s` : ''}`);
      return Math.max(a, b);
    };
    try {
      if (!withTorch) {
        log(figureRow(`train-resnet18-${o.size}`, await ours(), undefined));
        return;
      }
      const torch = async () => {
        const t = torchBaseline('train', { ...o, seconds });
        if (t === undefined) throw new Error('the PyTorch baseline failed in a round');
        return t;
      };
      const r = await alternate(rounds, 'higher', ours, torch, log, ' img/s');
      log(figureRow(`train-resnet18-${o.size}`, r.median.ours, r.median.peer, r.median.ratio));
    } finally {
      tf.dispose([x, y]);
      await parallel?.close();
    }
  },
});

benches.register({
  name: 'infer',
  description: 'ResNet-18 @ size, inference: the ONNX export on onnxruntime-node (and TF.js, an extra line) vs PyTorch CPU, 3 alternating rounds, median ratio',
  create: async (o) => {
    const engine = await initEngine();
    log(`ferkit: backend ${engine.backend} (${engine.reason}), batch ${o.batch}, ${o.size}x${o.size}, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
    const model = resnet18({ numClasses: 7, rng: new Rng(1) }).eval();
    const x = tf.randomNormal([o.batch, o.size, o.size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const step = () => {
      const out = model.forward(x);
      out.dataSync();
      out.dispose();
    };
    const { ms, steps } = await timeSteps(step, o.seconds / ROUNDS, o.steps);
    log(`ferkit: ${steps} batches, ${ms.toFixed(1)} ms/batch`);
    const tfjs = (o.batch * 1000) / ms;
    log(`ferkit tfjs (${engine.backend}): ${fmt(tfjs)} img/s`);
    if (o.profile) for (const line of await profileKernels(step)) log(line);
    if (o.folded) {
      const infer = new BenchResNet18(7).inferenceFn();
      const folded = await timeSteps(
        () => {
          const out = infer(x);
          out.dataSync();
          out.dispose();
        },
        o.seconds / ROUNDS,
        o.steps,
      );
      log(`ferkit, BatchNorm folded + fused conv: ${fmt((o.batch * 1000) / folded.ms)} img/s`);
    }
    x.dispose();
    model.dispose();
    // ferkit's fastest inference path, and the figure row's: the ONNX export on onnxruntime-node,
    // 2 threads like the PyTorch baseline.
    const onnx = await openOnnxBench({ ...o, threads: 2 }, log);
    try {
      const withTorch = torchAvailable(o);
      const rounds = withTorch ? ROUNDS : 1;
      const seconds = o.seconds / rounds;
      if (!withTorch) {
        log(figureRow(`infer-resnet18-${o.size}`, await onnx.time(seconds), undefined));
        return;
      }
      const torch = async () => {
        const t = torchBaseline('infer', { ...o, seconds });
        if (t === undefined) throw new Error('the PyTorch baseline failed in a round');
        return t;
      };
      const r = await alternate(rounds, 'higher', () => onnx.time(seconds), torch, log, ' img/s');
      log(`ferkit onnx: ${fmt(r.median.ours)} img/s median (${(r.median.ours / tfjs).toFixed(1)}x TF.js)`);
      log(figureRow(`infer-resnet18-${o.size}`, r.median.ours, r.median.peer, r.median.ratio));
    } finally {
      await onnx.close();
    }
  },
});

for (const config of Object.keys(IAL_BENCH_CONFIGS)) {
  benches.register({
    name: `infer-ial-${config}`,
    description: `IAL clip model (${config} configuration, gca), inference: TF.js vs its ONNX export on onnxruntime-node (2 threads), clips/s; --batch clips`,
    create: async (o) => {
      const engine = await initEngine();
      log(`ferkit: backend ${engine.backend} (${engine.reason}), batch ${o.batch} clips`);
      const [tfjs, onnx] = await benchClipInfer({ config, batch: o.batch, seconds: o.seconds, threads: 2, log });
      log(`infer-ial-${config}: tfjs ${fmt(tfjs)} clips/s, onnx ${fmt(onnx)} clips/s (${(onnx / tfjs).toFixed(1)}x)`);
    },
  });
}

benches.register({
  name: 'data',
  description: 'data pipeline: FER2013 48x48 grey decode+augment+float batch (img/s) and 16x112x112 RGB clips (clips/s), main thread and decode workers',
  create: async (o) => {
    await benchData({ seconds: o.seconds, batch: Math.max(o.batch, 64), workers: o.workers > 1 ? o.workers : 0, log });
  },
});

benches.register({
  name: 'e2e',
  description: "predict on face-api's sample photos (decode, detect, align, classify) vs face-api.js's SSD+landmarks+expressions, 3 alternating rounds (ms/photo, median ratio)",
  create: async () => benchE2e({ log }),
});

benches.register({
  name: 'video',
  description: 'recognizeVideo on a 640x480 25 fps pan over real sample photos (made with ffmpeg): frames analysed per second, end to end',
  create: async () => benchVideo({ log }),
});

benches.register({
  name: 'serve',
  description: 'ferkit serve --workers <--workers> under load on loopback: 20 clients posting a 640px photo for --seconds (req/s, p50, p99, errors)',
  create: async (o) => benchServe({ log, seconds: o.seconds, clients: 20, workers: o.workers }),
});

benches.register({
  name: 'accuracy',
  description: "the bundled model (or FERKIT_BENCH_MODEL) vs face-api.js's expression net on CK+48, FER2013 val and FER+ valid: WAR and UAR on the 7 basic classes",
  create: async () => {
    await initEngine();
    await benchPeerAccuracy(log);
  },
});

benches.register({
  name: 'ckplus-clips',
  description: "the bundled image model (or FERKIT_BENCH_MODEL) and the bundled clip model through the video path on CK+48's 3-frame clips, all and the clip model's held-out subjects: per-clip WAR/UAR on the 6 classes both share",
  create: async () => benchCkplusClips(log),
});

benches.register({
  name: 'video-memory',
  description: 'peak RSS of `ferkit predict` on a 30 s 1920x1080 video (frames stream through; target ≤ 1 GB)',
  create: async () => benchVideoMemory({ log }),
});

benches.register({
  name: 'batch',
  description: 'ferkit batch --queue on a loopback redis-server: 1 vs 2 `ferkit worker --threads 1` processes on --steps (default 24) 1920px photos, 2 alternating rounds (img/s, scaling)',
  create: async (o) => benchBatch({ log, photos: o.steps || 24, rounds: 2 }),
});

const program = new Command()
  .name('npm run bench --')
  .argument('<name>', `benchmark: ${benches.names().join(', ')}`)
  .option('--workers <n>', 'data-parallel worker threads for training (1: single thread only)', '2')
  .option('--batch <n>', 'batch size', '16')
  .option('--size <n>', 'input size (pixels)', '112')
  .option('--seconds <s>', 'timed seconds per side over all rounds (after warm-up)', '20')
  .option('--steps <n>', 'timed steps (default: as many as fit in --seconds)', '0')
  .option('--profile', 'print per-kernel time of one step', false)
  .option('--folded', 'infer: also time the BatchNorm-folded, fused-conv graph', false)
  .option('--no-torch', 'skip the PyTorch baseline')
  .action(async (name: string, opts: Record<string, string | boolean>) => {
    await benches.get(name).create({
      workers: Number(opts.workers),
      batch: Number(opts.batch),
      size: Number(opts.size),
      seconds: Number(opts.seconds),
      steps: Number(opts.steps),
      profile: Boolean(opts.profile),
      folded: Boolean(opts.folded),
      torch: opts.torch !== false,
    });
  });

await program.parseAsync(process.argv);
