// The `infer` benchmark's fast path: ferkit's nn ResNet-18 classifier exported by the ONNX writer
// (BatchNorm folded) and run by OnnxRunner on onnxruntime-node, one intra-op thread per core, on
// a batch of NHWC images, exactly as inference runs it (input tensor creation and output copy
// included).
import { availableParallelism } from 'node:os';
import { exportOnnx } from '../src/export/onnx/index.js';
import { OnnxRunner } from '../src/infer/onnx-runner.js';
import { createModel } from '../src/models/io.js';
import { Rng } from '../src/util/rng.js';
import { createConfig } from '../src/models/config.js';

export interface OnnxBenchOptions {
  batch: number;
  size: number;
  seconds: number;
  /** Fixed number of timed batches (0: as many as fit in `seconds`). */
  steps: number;
  /** Intra-op threads (default: the cores; the benchmark passes PyTorch's thread count). */
  threads?: number;
}

export interface OnnxBench {
  /** Images per second over about `seconds` (at least 3 batches, or exactly `steps`). */
  time(seconds: number): Promise<number>;
  close(): Promise<void>;
}

/** Exports ResNet-18 @ size, opens it on onnxruntime-node and warms it up; time() may be called
 *  repeatedly (the benchmark interleaves it with the PyTorch baseline). */
export async function openOnnxBench(o: OnnxBenchOptions, log: (s: string) => void): Promise<OnnxBench> {
  const config = createConfig('ce', { classes: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'], backbone: 'resnet18', size: o.size, channels: 3 });
  const model = createModel(config, new Rng(1)).eval();
  const t0 = performance.now();
  const bytes = exportOnnx(model);
  model.dispose();
  log(`ferkit onnx: exported ResNet-18 in ${(performance.now() - t0).toFixed(0)} ms (${(bytes.length / 2 ** 20).toFixed(1)} MiB)`);
  const threads = o.threads ?? availableParallelism();
  const runner = await OnnxRunner.create(bytes, config, { threads });
  const shape = [o.batch, o.size, o.size, 3];
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const rng = new Rng(7);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  for (let i = 0; i < 3; i++) await runner.run(x, shape); // warm-up: kernels, allocations
  return {
    async time(seconds: number): Promise<number> {
      let steps = 0;
      const start = performance.now();
      const minSteps = o.steps || 3;
      while (steps < minSteps || (!o.steps && performance.now() - start < seconds * 1000)) {
        await runner.run(x, shape);
        steps++;
      }
      const ms = (performance.now() - start) / steps;
      log(`ferkit onnx: onnxruntime-node, ${threads} threads, ${steps} batches, ${ms.toFixed(1)} ms/batch`);
      return (o.batch * 1000) / ms;
    },
    close: () => runner.dispose(),
  };
}
