// Clips/s of the IAL + GCA model, training (forward + backward + SGD step with the IAL objective)
// and inference (eval-mode forward), single thread on the default backend, random clips.
//   node --import tsx scripts/bench-ial.ts [full|small] [batch] [steps] [attention]
// `full`: the method defaults (16x112x112 RGB); `small`: IAL_SMALL (3x48x48 grey, CK+48).
import { cpus, loadavg } from 'node:os';
import { initEngine, tf } from '../src/engine/backend.js';
import { Rng } from '../src/util/rng.js';
import { methods } from '../src/models/all-methods.js';
import { createModel } from '../src/models/io.js';
import { disposeOutput } from '../src/models/model.js';
import { IAL_SMALL } from '../src/models/ial/method.js';
import { createConfig } from '../src/models/config.js';
import { SGD } from '../src/train/optim.js';
import { trainStep } from '../src/train/step.js';

const which = process.argv[2] ?? 'small';
const batch = Number(process.argv[3] ?? (which === 'full' ? 2 : 16));
const steps = Number(process.argv[4] ?? 3);
const attention = process.argv[5] ?? 'gca';
const presets = { full: methods.get('ial').create.defaults, small: IAL_SMALL } as const;
const defaults = presets[which as keyof typeof presets];
if (!defaults) throw new Error(`unknown configuration "${which}"; use full or small`);

const info = await initEngine();
const config = createConfig('ial', { classes: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'], defaults, methodOptions: { attention } });
const model = createModel(config, new Rng(0));
const { frames = 1, size, channels } = config.input;
const x = tf.randomUniform([batch, frames, size[0], size[1], channels], 0, 1, 'float32', 1);
const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 7), 'int32');
const objective = methods.get('ial').create.createObjective(model, {});
const optimizer = new SGD(model.trainableParameters(), { lr: 1e-3, momentum: 0.9, weightDecay: 0.1 });

/** Wall-clock and CPU time per step (on a shared machine the CPU figure is the steadier one:
 *  the wasm backend computes on one thread). Returns clips/s by both. */
function time(label: string, f: () => void): { wall: number; cpu: number } {
  f(); // warm-up
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) f();
  const wall = (performance.now() - t0) / 1000 / steps;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6 / steps;
  console.log(`${label}: ${(wall * 1000).toFixed(0)} ms/step wall, ${(cpu * 1000).toFixed(0)} ms/step CPU; ${(batch / wall).toFixed(2)} clips/s wall, ${(batch / cpu).toFixed(2)} clips per CPU-second`);
  return { wall: batch / wall, cpu: batch / cpu };
}

console.log(`ial ${which} (${attention}): ${model.numParameters().toLocaleString('en')} parameters, batch ${batch} x ${frames}x${size[0]}x${size[1]}x${channels}, backend ${info.backend}, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
model.train();
const train = time('train', () => {
  trainStep(model, () => objective.loss(model, { x, y, index: new Int32Array(batch), epoch: 0 }), optimizer);
});
model.eval();
const infer = time('infer', () => {
  const out = model.forward(x);
  out.logits.dataSync();
  disposeOutput(out);
});
console.log(JSON.stringify({ config: which, attention, batch, steps, train, infer, load: loadavg()[0] }));
