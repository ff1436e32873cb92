// Checks an exported model.onnx against the TF.js model it came from: the same seeded batch
// through both, probabilities compared. Export calls it so a wrong emitter never ships silently.
import { tf } from '../../engine/backend.js';
import { outputProbs } from '../../models/methods.js';
import { disposeOutput, type FerModel } from '../../models/model.js';
import { OnnxRunner } from '../../infer/onnx-runner.js';
import { sampleShape } from '../../infer/runner.js';

/** Largest |p_tfjs − p_onnx| over a batch; throws when it exceeds `tolerance`. */
export async function verifyOnnx(model: FerModel, file: string, tolerance = 1e-4, batch = 4): Promise<number> {
  const shape = [batch, ...sampleShape(model.config.input)];
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1234);
  const wasTraining = model.training;
  const out = model.forward(x, false);
  const probs = outputProbs(out, tf);
  const want = probs.dataSync();
  const input = x.dataSync() as Float32Array;
  tf.dispose([x, probs]);
  disposeOutput(out);
  if (wasTraining) model.train();
  const runner = await OnnxRunner.create(file, model.config);
  try {
    const got = (await runner.run(input, shape)).probs;
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(want[i] - got[i]));
    if (!(diff <= tolerance)) throw new Error(`${file}: onnxruntime and TF.js disagree (max abs diff ${diff} > ${tolerance}): an emitter does not match its module`);
    return diff;
  } finally {
    await runner.dispose();
  }
}
