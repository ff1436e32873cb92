// int8 weights (ferkit export --quantize int8) and the web model built with them: per-channel
// rounding is within half a step, every Conv/Gemm weight becomes int8 behind a DequantizeLinear,
// onnxruntime runs the result close to the float model on real faces, and the committed
// models/web is what its recorded command makes from its source model today (not stale), under
// the browser's 2 MiB budget, agreeing with its float original on real FER2013 faces.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { initEngine } from '../../src/engine/backend.js';
import { decodeImageFile } from '../../src/data/image.js';
import { imagesToFloat } from '../../src/data/raster.js';
import { bundledModelDir, loadModel } from '../../src/models/io.js';
import { buildEnsemble } from '../../src/models/ensemble/build.js';
import type { FerModel, ModelConfig } from '../../src/models/model.js';
import { exportOnnx } from '../../src/export/onnx/index.js';
import { decodeModel } from '../../src/onnx/index.js';
import { quantizePerAxis } from '../../src/export/onnx/quantize.js';
import { WEB_MODEL } from '../../src/server/browser-assets.js';
import { ferImages } from '../data/data-fixtures.js';
import { ferkit } from '../helpers/cli.js';
import { smallFerCnn } from '../helpers/small-fer-cnn.js';

const webDir = bundledModelDir(WEB_MODEL);
const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/** An output (probs by default) of an ONNX model on a batch of NHWC floats. */
async function probs(bytes: Uint8Array, x: Float32Array, shape: number[], output = 'probs'): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return (await session.run({ input: new ort.Tensor('float32', x, shape) }))[output].data as Float32Array;
  } finally {
    await session.release();
  }
}

/** `perClass` real FER2013 val faces of each class, as `config.input` wants them. */
async function realFaces(config: ModelConfig, perClass: number): Promise<{ x: Float32Array; shape: number[] }> {
  const rasters = await Promise.all(CLASSES.flatMap((c) => ferImages(c, perClass)).map((f) => decodeImageFile(f, { channels: config.input.channels })));
  const [h, w] = config.input.size;
  return { x: imagesToFloat(rasters, config.input), shape: [rasters.length, h, w, config.input.channels] };
}

function argmaxRows(p: Float32Array, classes: number): number[] {
  return Array.from({ length: p.length / classes }, (_, i) => {
    const row = p.subarray(i * classes, (i + 1) * classes);
    return row.indexOf(Math.max(...row));
  });
}

/** What models/web/config.json says it was made from: its source model (or the members of an
 *  ensemble made on the fly, with their weights), mirrored or not. */
async function webSource(): Promise<{ model: FerModel; config: ModelConfig; info: { source: string | string[]; weights?: number[]; mirror: boolean; quantize: string; command: string } }> {
  const config = JSON.parse(readFileSync(join(webDir, 'config.json'), 'utf8')) as ModelConfig;
  const info = config.info as { source: string | string[]; weights?: number[]; mirror: boolean; quantize: string; command: string };
  assert.ok(info?.source && info.quantize === 'int8', `${webDir}/config.json records its source and quantization`);
  const refs = typeof info.source === 'string' ? [info.source] : info.source;
  const sources = await Promise.all(refs.map((r) => loadModel(join(bundledModelDir(), '..', '..', r))));
  if (sources.length === 1 && !info.mirror) return { model: sources[0], config, info };
  const model = buildEnsemble(sources, { mirror: info.mirror, weights: info.weights, names: refs });
  for (const m of sources) m.dispose();
  return { model, config, info };
}

describe('int8 weight quantization', () => {
  before(async () => {
    await initEngine();
  });

  it('per-channel symmetric int8: each value within half a step of its channel scale, all-zero channels exact', () => {
    const w = Float32Array.from([0.5, -1, 0.25, 0, 0, 0, 2, -0.01, 1e-3]);
    const { q, scale } = quantizePerAxis(w, [3, 3], 0);
    assert.deepEqual(Array.from(scale), [1 / 127, 1, 2 / 127].map(Math.fround));
    assert.deepEqual(Array.from(q.slice(0, 3)), [64, -127, 32]);
    assert.deepEqual(Array.from(q.slice(3, 6)), [0, 0, 0]);
    for (let i = 0; i < w.length; i++) assert.ok(Math.abs(q[i] * scale[Math.floor(i / 3)] - w[i]) <= scale[Math.floor(i / 3)] / 2 + 1e-9);
    // along the last axis of a [2, 3] weight (Gemm's [in, out]): one scale per column
    assert.deepEqual(Array.from(quantizePerAxis(Float32Array.from([1, -2, 0.5, -1, 4, 0.25]), [2, 3], 1).scale), [1 / 127, 4 / 127, 0.5 / 127].map(Math.fround));
  });

  it('a fer-cnn: every Conv and Gemm weight int8 behind a DequantizeLinear, under 40% of the bytes, logits close on real faces', async () => {
    const model = smallFerCnn([[16, 16], [32, 32]], 3, { input: { kind: 'image', size: [48, 48], channels: 1, mean: [0.5], std: [0.25] }, classes: CLASSES });
    const float = exportOnnx(model);
    const int8 = exportOnnx(model, { quantize: 'int8' });
    const g = decodeModel(int8).graph!;
    const floatInits = new Map(decodeModel(float).graph!.initializer!.map((t) => [t.name!, t.dims!.reduce((a, b) => a * Number(b), 1)]));
    const weighted = g.node!.filter((n) => n.opType === 'Conv' || n.opType === 'Gemm');
    const dq = g.node!.filter((n) => n.opType === 'DequantizeLinear');
    // Weights of 256 values and more are quantized; smaller ones (the first conv here) stay float.
    const big = weighted.filter((n) => floatInits.get(n.input![1])! >= 256);
    assert.ok(weighted.length >= 5 && big.length >= 3 && big.length < weighted.length);
    assert.equal(dq.length, big.length, 'one DequantizeLinear per large weight');
    for (const n of big) assert.ok(dq.some((d) => d.output![0] === n.input![1]), `${n.name}: weight comes from a DequantizeLinear`);
    const INT8 = 3;
    assert.equal(g.initializer!.filter((t) => t.dataType === INT8).length, 2 * dq.length, 'int8 weights and zero points');
    assert.ok(int8.length < 0.4 * float.length, `${int8.length} bytes int8, ${float.length} float`);
    const { x, shape } = await realFaces(model.config, 10);
    const [lf, lq] = [await probs(float, x, shape, 'logits'), await probs(int8, x, shape, 'logits')];
    let diff = 0;
    for (let i = 0; i < lf.length; i++) diff = Math.max(diff, Math.abs(lf[i] - lq[i]));
    // The logits move from face to face by far more than int8 weights move them.
    let spread = 0;
    for (let k = 0; k < CLASSES.length; k++) {
      const col = Array.from({ length: shape[0] }, (_, i) => lf[i * CLASSES.length + k]);
      spread = Math.max(spread, Math.max(...col) - Math.min(...col));
    }
    assert.ok(diff < spread / 10, `int8 vs float: max logit difference ${diff}; across faces ${spread}`);
    model.dispose();
  });

  it('models/web is fresh (its recorded command rebuilds it byte for byte), ≤ 2 MiB, and agrees with its float source on real faces', async () => {
    const { model, config, info } = await webSource();
    const committed = readFileSync(join(webDir, 'model.onnx'));
    assert.ok(statSync(join(webDir, 'model.onnx')).size <= 2 * 2 ** 20, 'the web model fits the 2 MiB browser budget');
    const rebuilt = exportOnnx(model, { quantize: 'int8' });
    assert.ok(Buffer.from(rebuilt).equals(committed), `${webDir}/model.onnx is stale: rebuild it with \`${info.command}\``);
    assert.deepEqual(model.config.classes, config.classes);
    const { x, shape } = await realFaces(config, 20);
    const [pf, pq] = [await probs(exportOnnx(model), x, shape), await probs(committed, x, shape)];
    const [tf, tq] = [argmaxRows(pf, config.classes.length), argmaxRows(pq, config.classes.length)];
    const agree = tf.filter((c, i) => c === tq[i]).length / tf.length;
    assert.ok(agree >= 0.97, `int8 and float agree on ${(agree * 100).toFixed(1)}% of ${tf.length} faces`);
    model.dispose();
  });

  it('the CLI refuses --quantize without --out, an unknown mode, or another format', () => {
    const noOut = ferkit(['export', '--format', 'onnx', '--quantize', 'int8']);
    assert.equal(noOut.code, 1);
    assert.match(noOut.stderr, /--quantize needs --out/);
    const mode = ferkit(['export', '--format', 'onnx', '--quantize', 'int4', '--out', '/tmp/x']);
    assert.match(mode.stderr, /unknown --quantize "int4"; use int8/);
    const fmt = ferkit(['export', '--format', 'tfjs', '--quantize', 'int8', '--out', '/tmp/x']);
    assert.match(fmt.stderr, /--quantize is for --format onnx/);
  });
});
