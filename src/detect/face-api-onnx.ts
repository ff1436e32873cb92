// face-api's shipped face detector (SSD MobileNet v1) and 68-point landmark net as ONNX graphs,
// written with ferkit's ONNX writer from the weights inside @vladmandic/face-api (read from disk,
// never fetched), so detection runs on onnxruntime-node instead of TF.js. Each graph computes what
// face-api's TF.js forward computes (see its src/ssdMobilenetv1 and src/faceLandmarkNet), pixel
// normalisation and SSD box decoding included; NMS and the mapping back to image pixels stay in JS
// (detector.ts). Both take raw RGB pixels, uint8 NHWC, with a dynamic batch.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeModel } from '../onnx/encode.js';
import { foldBatchNorms } from '../onnx/fold.js';
import { GraphBuilder, type Value } from '../onnx/graph.js';
import { faceModelDir } from './face-api.js';

/** SSD input side, anchors and the landmark net's input side: fixed by the shipped weights. */
export const SSD_SIZE = 512;
export const SSD_ANCHORS = 5118;
export const LANDMARK_SIZE = 112;

export type FaceApiNet = 'ssd_mobilenetv1_model' | 'face_landmark_68_model';

interface Weight {
  data: Float32Array;
  shape: number[];
}
type Weights = Map<string, Weight>;

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  /** face-api ships its weights quantised: value = q * scale + min (int32 weights rounded). */
  quantization?: { dtype: 'uint8'; min: number; scale: number };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

/** A weight group's concatenated shards → float weights (TF.js's io.decodeWeights for the dtypes
 *  face-api uses; no TF.js needed, so the ONNX detector runs without starting it). */
function decodeWeights(bytes: Buffer, entries: readonly ManifestEntry[], source: string): Weights {
  const out: Weights = new Map();
  let p = 0;
  for (const e of entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const q = e.quantization;
    if (q ? q.dtype !== 'uint8' : e.dtype !== 'float32') throw new Error(`${source}: ${e.name} is ${e.dtype}${q ? ` quantised as ${q.dtype}` : ''}; ferkit reads float32 or uint8-quantised weights`);
    const size = q ? n : 4 * n;
    if (p + size > bytes.length) throw new Error(`${source}: the weight shards end inside ${e.name}`);
    const data = new Float32Array(n);
    if (q) for (let i = 0; i < n; i++) data[i] = e.dtype === 'int32' ? Math.round(bytes[p + i] * q.scale + q.min) : bytes[p + i] * q.scale + q.min;
    else data.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset + p, bytes.byteOffset + p + size)));
    out.set(e.name, { data, shape: e.shape });
    p += size;
  }
  return out;
}

/** A face-api net's weights from its manifest and .bin shards (uint8-quantised in the package). */
export async function readFaceApiWeights(net: FaceApiNet, dir = faceModelDir()): Promise<Weights> {
  const manifestPath = join(dir, `${net}-weights_manifest.json`);
  let manifest: ManifestGroup[];
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as ManifestGroup[];
  } catch (e) {
    throw new Error(`${manifestPath}: cannot read face-api's weights manifest (${(e as Error).message})`);
  }
  const out: Weights = new Map();
  for (const group of manifest) {
    const bytes = Buffer.concat(await Promise.all(group.paths.map((p) => readFile(join(dir, p)))));
    for (const [name, w] of decodeWeights(bytes, group.weights, manifestPath)) out.set(name, w);
  }
  return out;
}

function need(w: Weights, name: string): Weight {
  const v = w.get(name);
  if (!v) throw new Error(`face-api weights: "${name}" is missing (a different face-api version?)`);
  return v;
}

/** TF.js filter [kh, kw, in, out] → ONNX [out, in, kh, kw] (depthwise [kh, kw, c, 1] → [c, 1, kh, kw]). */
function toOihw(w: Weight): Float32Array {
  const [kh, kw, ci, co] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = w.data[((y * kw + x) * ci + i) * co + o];
  return out;
}

class FaceGraph {
  readonly g = new GraphBuilder();
  private clip?: [string, string];

  /** TF 'same' convolution (odd padding after, as SAME_UPPER), optionally depthwise, optional bias. */
  conv(x: Value, filter: Weight, stride: number, base: string, bias?: Weight, depthwise = false): Value {
    const [kh, kw, ci, co] = filter.shape;
    if (x.shape[1] !== ci) throw new Error(`face-api graph: ${base} takes ${ci} channels, gets ${x.shape[1]}`);
    const cout = depthwise ? ci : co;
    const inputs = [x.name, this.g.weight(`${base}/weight`, toOihw(filter), depthwise ? [ci, 1, kh, kw] : [co, ci, kh, kw])];
    if (bias) inputs.push(this.g.weight(`${base}/bias`, bias.data, [cout]));
    const [n, , h, w] = x.shape;
    const attrs = { kernel_shape: [kh, kw], strides: [stride, stride], group: depthwise ? ci : 1, auto_pad: 'SAME_UPPER' };
    return this.g.node('Conv', inputs, [n, cout, Math.ceil(h / stride), Math.ceil(w / stride)], attrs, base);
  }

  batchNorm(x: Value, gamma: Weight, beta: Weight, mean: Weight, variance: Weight, eps: number, base: string): Value {
    const c = x.shape[1];
    const ins = [gamma, beta, mean, variance].map((w, i) => this.g.weight(`${base}/${['gamma', 'beta', 'mean', 'var'][i]}`, w.data, [c]));
    return this.g.node('BatchNormalization', [x.name, ...ins], x.shape, { epsilon: { float: eps } }, base);
  }

  relu6(x: Value, base: string): Value {
    this.clip ??= [this.g.weight('relu6/min', Float32Array.of(0), []), this.g.weight('relu6/max', Float32Array.of(6), [])];
    return this.g.node('Clip', [x.name, ...this.clip], x.shape, {}, base);
  }

  op(op: string, inputs: (Value | string)[], shape: number[], base: string, attrs: Record<string, number | number[]> = {}): Value {
    return this.g.node(op, inputs.map((v) => (typeof v === 'string' ? v : v.name)), shape, attrs, base);
  }

  scalar(v: number, base: string): string {
    return this.g.weight(base, Float32Array.of(v), []);
  }

  /** uint8 NHWC pixels → float NCHW. */
  pixels(size: number): Value {
    const x = this.g.input('image', [-1, size, size, 3], 'uint8');
    const f = this.op('Cast', [x], x.shape, 'image/float', { to: 1 });
    return this.op('Transpose', [f], [-1, 3, size, size], 'image/nchw', { perm: [0, 3, 1, 2] });
  }

  /** [N, A·k, H, W] predictor output → [N, H·W·A, k] (TF.js reshapes its NHWC output). */
  anchorsLast(x: Value, k: number, base: string): Value {
    const [n, c, h, w] = x.shape;
    const t = this.op('Transpose', [x], [n, h, w, c], `${base}/nhwc`, { perm: [0, 2, 3, 1] });
    return this.op('Reshape', [t, this.g.int64s(`${base}/shape`, [0, -1, k])], [n, (h * w * c) / k, k], base);
  }

  slice(x: Value, axis: number, start: number, end: number, base: string): Value {
    const shape = x.shape.map((d, i) => (i === axis ? end - start : d));
    const [s, e, a] = [[start], [end], [axis]].map((v, i) => this.g.int64s(`${base}/${['starts', 'ends', 'axes'][i]}`, v));
    return this.op('Slice', [x, s, e, a], shape, base);
  }
}

const MOBILENET_EPS = 0.0010000000474974513;

/**
 * SSD MobileNet v1 (face-api's ssdMobilenetv1): `image` uint8 [N, 512, 512, 3] (the letterboxed
 * picture) → `boxes` [N, 5118, 4] (ymin, xmin, ymax, xmax relative to the 512 square, decoded
 * against the anchors) and `scores` [N, 5118] (face probability). BatchNorm folded into the convs.
 */
export function buildSsdGraph(w: Weights): GraphBuilder {
  const f = new FaceGraph();
  const { g } = f;
  const px = f.pixels(SSD_SIZE);
  let x = f.op('Sub', [f.op('Div', [px, f.scalar(127.5, 'image/scale')], px.shape, 'image/div'), f.scalar(1, 'image/one')], px.shape, 'image/norm');
  const pointwise = (v: Value, prefix: string, stride: number, base: string) =>
    f.relu6(f.conv(v, need(w, `${prefix}/weights`), stride, base, need(w, `${prefix}/convolution_bn_offset`)), `${base}/relu6`);
  x = pointwise(x, 'MobilenetV1/Conv2d_0_pointwise', 2, 'mobilenet/conv0');
  let conv11: Value | undefined;
  for (let i = 1; i <= 13; i++) {
    const p = `MobilenetV1/Conv2d_${i}_depthwise`;
    const base = `mobilenet/conv${i}`;
    const dw = f.conv(x, need(w, `${p}/depthwise_weights`), [2, 4, 6, 12].includes(i) ? 2 : 1, `${base}/depthwise`, undefined, true);
    const bn = f.batchNorm(dw, ...(['gamma', 'beta', 'moving_mean', 'moving_variance'].map((k) => need(w, `${p}/BatchNorm/${k}`)) as [Weight, Weight, Weight, Weight]), MOBILENET_EPS, `${base}/bn`);
    x = pointwise(f.relu6(bn, `${base}/depthwise/relu6`), `MobilenetV1/Conv2d_${i}_pointwise`, 1, `${base}/pointwise`);
    if (i === 11) conv11 = x;
  }
  const extra: Value[] = [];
  let y = x;
  for (let i = 0; i < 8; i++) {
    y = pointwise(y, `Prediction/Conv2d_${i}_pointwise`, i % 2 === 1 ? 2 : 1, `prediction/conv${i}`);
    extra.push(y);
  }
  const sources = [conv11!, x, extra[1], extra[3], extra[5], extra[7]];
  const encodings: Value[] = [];
  const classes: Value[] = [];
  sources.forEach((src, i) => {
    const p = `Prediction/BoxPredictor_${i}`;
    const enc = f.conv(src, need(w, `${p}/BoxEncodingPredictor/weights`), 1, `box${i}/encoding`, need(w, `${p}/BoxEncodingPredictor/biases`));
    const cls = f.conv(src, need(w, `${p}/ClassPredictor/weights`), 1, `box${i}/class`, need(w, `${p}/ClassPredictor/biases`));
    encodings.push(f.anchorsLast(enc, 4, `box${i}/encoding/anchors`));
    classes.push(f.anchorsLast(cls, 3, `box${i}/class/anchors`));
  });
  const total = encodings.reduce((a, v) => a + v.shape[1], 0);
  if (total !== SSD_ANCHORS) throw new Error(`face-api SSD graph: ${total} anchors, expected ${SSD_ANCHORS}`);
  const enc = f.op('Concat', encodings, [-1, total, 4], 'encodings', { axis: 1 });
  const cls = f.op('Concat', classes, [-1, total, 3], 'classes', { axis: 1 });

  // Box decoding against the anchors (face-api's outputLayer), anchor sizes and centres in float32
  // as TF.js computes them.
  const anchors = need(w, 'Output/extra_dim');
  const sizes = new Float32Array(total * 2);
  const centres = new Float32Array(total * 2);
  for (let a = 0; a < total; a++) {
    const [y0, x0, y1, x1] = anchors.data.subarray(a * 4, a * 4 + 4);
    const h = Math.fround(y1 - y0);
    const wd = Math.fround(x1 - x0);
    sizes.set([h, wd], a * 2);
    centres.set([Math.fround(y0 + Math.fround(h / 2)), Math.fround(x0 + Math.fround(wd / 2))], a * 2);
  }
  const size = g.weight('anchors/size', sizes, [1, total, 2]);
  const centre = g.weight('anchors/centre', centres, [1, total, 2]);
  const half = [-1, total, 2];
  const offset = f.op('Div', [f.slice(enc, 2, 0, 2, 'decode/offset_raw'), f.scalar(10, 'decode/ten')], half, 'decode/offset_div');
  const c = f.op('Add', [f.op('Mul', [offset, size], half, 'decode/offset_mul'), centre], half, 'decode/centre');
  const scale = f.op('Exp', [f.op('Div', [f.slice(enc, 2, 2, 4, 'decode/scale_raw'), f.scalar(5, 'decode/five')], half, 'decode/scale_div')], half, 'decode/exp');
  const extent = f.op('Div', [f.op('Mul', [scale, size], half, 'decode/extent_mul'), f.scalar(2, 'decode/two')], half, 'decode/half_extent');
  const lo = f.op('Sub', [c, extent], half, 'decode/min');
  const hi = f.op('Add', [c, extent], half, 'decode/max');
  g.output(f.op('Concat', [lo, hi], [-1, total, 4], 'decode/boxes', { axis: 2 }), 'boxes');
  const face = f.op('Sigmoid', [f.slice(cls, 2, 1, 2, 'scores/face_logit')], [-1, total, 1], 'scores/sigmoid');
  g.output(f.op('Reshape', [face, g.int64s('scores/shape', [0, -1])], [-1, total], 'scores/flat'), 'scores');
  foldBatchNorms(g);
  return g;
}

const LANDMARK_MEAN_RGB = [122.782, 117.001, 104.298];

/**
 * face-api's FaceLandmark68Net: `image` uint8 [N, 112, 112, 3] (a face crop padded to a square)
 * → `landmarks` [N, 136], x0 y0 x1 y1 … relative to the 112 square.
 */
export function buildLandmarkGraph(w: Weights): GraphBuilder {
  const f = new FaceGraph();
  const { g } = f;
  const px = f.pixels(LANDMARK_SIZE);
  const mean = g.weight('image/mean', Float32Array.from(LANDMARK_MEAN_RGB), [1, 3, 1, 1]);
  let x = f.op('Div', [f.op('Sub', [px, mean], px.shape, 'image/centre'), f.scalar(255, 'image/255')], px.shape, 'image/norm');
  const separable = (v: Value, p: string, stride: number, base: string) => {
    const dw = f.conv(v, need(w, `${p}/depthwise_filter`), stride, `${base}/depthwise`, undefined, true);
    return f.conv(dw, need(w, `${p}/pointwise_filter`), 1, `${base}/pointwise`, need(w, `${p}/bias`));
  };
  const add = (a: Value, b: Value, base: string) => f.op('Add', [a, b], a.shape, base);
  const relu = (a: Value, base: string) => f.op('Relu', [a], a.shape, base);
  for (let d = 0; d < 4; d++) {
    const p = `dense${d}`;
    const out1 = relu(d === 0 ? f.conv(x, need(w, `${p}/conv0/filters`), 2, `${p}/conv0`, need(w, `${p}/conv0/bias`)) : separable(x, `${p}/conv0`, 2, `${p}/conv0`), `${p}/out1`);
    const out2 = separable(out1, `${p}/conv1`, 1, `${p}/conv1`);
    const out3 = separable(relu(add(out1, out2, `${p}/in3_sum`), `${p}/in3`), `${p}/conv2`, 1, `${p}/conv2`);
    const in4 = relu(add(out1, add(out2, out3, `${p}/in4_sum23`), `${p}/in4_sum`), `${p}/in4`);
    const out4 = separable(in4, `${p}/conv3`, 1, `${p}/conv3`);
    x = relu(add(out1, add(out2, add(out3, out4, `${p}/sum34`), `${p}/sum234`), `${p}/sum`), `${p}/out`);
  }
  const [n, c, h] = x.shape;
  if (h !== 7) throw new Error(`face-api landmark graph: the last block is ${h}x${h}, expected 7x7`);
  const pooled = f.op('AveragePool', [x], [n, c, 1, 1], 'pool', { kernel_shape: [7, 7], strides: [2, 2] });
  const flat = f.op('Flatten', [pooled], [n, c], 'flatten', { axis: 1 });
  const fc = need(w, 'fc/weights');
  const out = f.op('Gemm', [flat, g.weight('fc/weight', fc.data, fc.shape), g.weight('fc/bias', need(w, 'fc/bias').data, [fc.shape[1]])], [n, fc.shape[1]], 'fc');
  g.output(out, 'landmarks');
  return g;
}

const built = new Map<string, Promise<{ ssd: Uint8Array; landmarks: Uint8Array }>>();

/** Both graphs as ONNX model bytes, built once per process from the installed face-api's weights. */
export function faceApiOnnx(dir = faceModelDir()): Promise<{ ssd: Uint8Array; landmarks: Uint8Array }> {
  let p = built.get(dir);
  if (!p) {
    p = buildFaceApiOnnx(dir);
    built.set(dir, p);
    p.catch(() => built.delete(dir));
  }
  return p;
}

async function buildFaceApiOnnx(dir: string): Promise<{ ssd: Uint8Array; landmarks: Uint8Array }> {
  const [ssdW, lmW] = await Promise.all([readFaceApiWeights('ssd_mobilenetv1_model', dir), readFaceApiWeights('face_landmark_68_model', dir)]);
  const doc = 'face-api (@vladmandic/face-api) weights, converted by ferkit; input: uint8 RGB NHWC';
  return {
    ssd: encodeModel(buildSsdGraph(ssdW), { graphName: 'face-api-ssd-mobilenetv1', docString: doc }),
    landmarks: encodeModel(buildLandmarkGraph(lmW), { graphName: 'face-api-landmark68', docString: doc }),
  };
}
