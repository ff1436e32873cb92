// Members with inputs of their own: an ensemble of models that read different inputs (a 48 px
// grey fer-cnn beside a 112 px RGB trunk) takes one input, raw pixels on [0, 1] at the largest
// member size (grey when every member sees grey faces), and turns it into each member's input
// inside the model: ITU-R 601 luma for a grey member fed colour, a resize as two matrix products,
// grey replicated to an RGB member's channels, then the member's mean/std. TF.js and ONNX compute
// the same graph. Growing uses the pipeline's bilinear filter. Shrinking uses the least-squares
// inverse of that filter's upsampling (the smaller image whose bilinear upsample is nearest the
// input): a face that was small to begin with (48 px FER2013 and CK+ crops, upsampled for the
// larger member) comes back exactly, where a second blur cost the 48 px members 3 points on
// CK+48; a larger face gets the small image most consistent with it.
import { tf } from '../../engine/backend.js';
import { bilinearMatrix, pixelChannels } from '../../data/raster.js';
import type { ExportContext, Value } from '../../onnx/index.js';
import { binary, constant } from '../../onnx/ops.js';
import type { InputSpec } from '../model.js';
import { sameJson } from '../../util/same-json.js';

/** PIL's convert('L') weights (toGrey in data/raster.ts), as floats. */
const LUMA = [19595 / 65536, 38470 / 65536, 7471 / 65536];

/** The one input of an ensemble whose members read different inputs; `undefined` when they all
 *  read the same (the members' own input is then the ensemble's, unchanged). */
export function sharedInput(inputs: readonly InputSpec[]): InputSpec | undefined {
  if (inputs.every((i) => sameJson(i, inputs[0]))) return undefined;
  if (inputs.some((i) => i.kind !== 'image')) throw new Error('members with different inputs must all be image models');
  const largest = inputs.reduce((a, b) => (b.size[0] * b.size[1] > a.size[0] * a.size[1] ? b : a));
  const channels = inputs.every((i) => pixelChannels(i) === 1) ? 1 : 3;
  return { kind: 'image', size: [largest.size[0], largest.size[1]], channels, mean: Array(channels).fill(0), std: Array(channels).fill(1) };
}

/** Why `member` cannot be fed from `shared`, or undefined when it can. */
export function adaptProblem(shared: InputSpec, member: InputSpec): string | undefined {
  if (sameJson(shared, member)) return undefined;
  if (shared.kind !== 'image' || member.kind !== 'image') return 'only image inputs adapt';
  if (!shared.mean.every((m) => m === 0) || !shared.std.every((s) => s === 1)) return "an ensemble's own input must be raw pixels (mean 0, std 1) for members with other inputs";
  if (shared.channels === 1 && pixelChannels(member) === 3) return 'a colour member cannot be fed a grey ensemble input';
  return undefined;
}

interface Plan {
  luma: boolean;
  rows?: { matrix: Float32Array; from: number; to: number };
  cols?: { matrix: Float32Array; from: number; to: number };
  tile: boolean;
  mean: number[];
  std: number[];
}

/** What turns `shared` into `member` (undefined: nothing, they are the same). */
export function adaptPlan(shared: InputSpec, member: InputSpec): Plan | undefined {
  if (sameJson(shared, member)) return undefined;
  const problem = adaptProblem(shared, member);
  if (problem) throw new Error(problem);
  const [H, W] = shared.size;
  const [h, w] = member.size;
  const luma = shared.channels === 3 && pixelChannels(member) === 1;
  return {
    luma,
    rows: h !== H ? { matrix: resizeMatrix(H, h), from: H, to: h } : undefined,
    cols: w !== W ? { matrix: resizeMatrix(W, w), from: W, to: w } : undefined,
    tile: member.channels === 3 && (luma || shared.channels === 1),
    mean: member.mean,
    std: member.std,
  };
}

/** NHWC raw pixels → the member's normalised input. */
export function adaptInput(x: tf.Tensor, p: Plan): tf.Tensor4D {
  return tf.tidy(() => {
    let y = x as tf.Tensor4D;
    if (p.luma) y = tf.sum(tf.mul(y, tf.tensor1d(LUMA)), 3, true) as tf.Tensor4D;
    if (p.cols) {
      // [N, H, W, C] · Wᵀ along W: move W last, multiply, move it back.
      const [n, hh, , c] = y.shape;
      const t = tf.reshape(tf.transpose(y, [0, 1, 3, 2]), [-1, p.cols.from]);
      y = tf.transpose(tf.reshape(tf.matMul(t, tf.tensor2d(p.cols.matrix, [p.cols.to, p.cols.from]), false, true), [n, hh, c, p.cols.to]), [0, 1, 3, 2]);
    }
    if (p.rows) {
      const [n, , ww, c] = y.shape;
      const t = tf.reshape(tf.transpose(y, [0, 2, 3, 1]), [-1, p.rows.from]);
      y = tf.transpose(tf.reshape(tf.matMul(t, tf.tensor2d(p.rows.matrix, [p.rows.to, p.rows.from]), false, true), [n, ww, c, p.rows.to]), [0, 3, 1, 2]);
    }
    if (p.tile) y = tf.tile(y, [1, 1, 1, 3]);
    return tf.div(tf.sub(y, tf.tensor1d(p.mean)), tf.tensor1d(p.std)) as tf.Tensor4D;
  });
}

/** The same in ONNX, on NCHW. */
export function emitAdapt(ctx: ExportContext, x: Value, p: Plan, base: string): Value {
  const g = ctx.g;
  let y = x;
  let [n, c, h, w] = x.shape as number[];
  if (p.luma) {
    const weighted = binary(ctx, 'Mul', y, constant(ctx, LUMA, `${base}/luma_w`, [1, 3, 1, 1]), [n!, 3, h!, w!], `${base}/luma_mul`);
    y = g.node('ReduceSum', [weighted.name, g.int64s(`${base}/luma_axes`, [1])], [n!, 1, h!, w!], { keepdims: 1 }, `${base}/luma`);
    c = 1;
  }
  if (p.cols) {
    // [N, C, H, W] · Mᵀ [W, w]
    const mt = constant(ctx, Array.from(transpose(p.cols.matrix, p.cols.to, p.cols.from)), `${base}/resize_w`, [p.cols.from, p.cols.to]);
    w = p.cols.to;
    y = g.node('MatMul', [y.name, mt], [n!, c!, h!, w], {}, `${base}/resize_cols`);
  }
  if (p.rows) {
    // M [h, H] · [N, C, H, w] (MatMul broadcasts the matrix over N and C)
    const m = constant(ctx, Array.from(p.rows.matrix), `${base}/resize_h`, [p.rows.to, p.rows.from]);
    h = p.rows.to;
    y = g.node('MatMul', [m, y.name], [n!, c!, h, w!], {}, `${base}/resize_rows`);
  }
  if (p.tile) {
    y = g.node('Concat', [y.name, y.name, y.name], [n!, 3, h!, w!], { axis: 1 }, `${base}/tile`);
    c = 3;
  }
  const dims = [1, c!, 1, 1];
  const centred = binary(ctx, 'Sub', y, constant(ctx, p.mean, `${base}/mean`, dims), [n!, c!, h!, w!], `${base}/centre`);
  return binary(ctx, 'Div', centred, constant(ctx, p.std, `${base}/std`, dims), [n!, c!, h!, w!], `${base}/scale`);
}

/** [to × from]: bilinear when growing; when shrinking, (UᵀU)⁻¹Uᵀ with U the bilinear upsample
 *  to → from (U has full column rank: its normal matrix is small, symmetric and well-conditioned). */
export function resizeMatrix(from: number, to: number): Float32Array {
  if (to >= from) return bilinearMatrix(from, to);
  const u = bilinearMatrix(to, from); // [from × to]
  // Gauss-Jordan on [UᵀU | Uᵀ] in float64.
  const cols = to + from;
  const a = new Float64Array(to * cols);
  for (let i = 0; i < to; i++) {
    for (let j = 0; j < to; j++) {
      let v = 0;
      for (let k = 0; k < from; k++) v += u[k * to + i]! * u[k * to + j]!;
      a[i * cols + j] = v;
    }
    for (let k = 0; k < from; k++) a[i * cols + to + k] = u[k * to + i]!;
  }
  for (let p = 0; p < to; p++) {
    let best = p;
    for (let r = p + 1; r < to; r++) if (Math.abs(a[r * cols + p]!) > Math.abs(a[best * cols + p]!)) best = r;
    if (best !== p) for (let j = 0; j < cols; j++) [a[p * cols + j], a[best * cols + j]] = [a[best * cols + j]!, a[p * cols + j]!];
    const piv = a[p * cols + p]!;
    for (let j = 0; j < cols; j++) a[p * cols + j]! /= piv;
    for (let r = 0; r < to; r++) {
      if (r === p) continue;
      const f = a[r * cols + p]!;
      if (f !== 0) for (let j = 0; j < cols; j++) a[r * cols + j]! -= f * a[p * cols + j]!;
    }
  }
  const out = new Float32Array(to * from);
  for (let i = 0; i < to; i++) for (let k = 0; k < from; k++) out[i * from + k] = a[i * cols + to + k]!;
  return out;
}

/** [rows × cols] row-major → its transpose. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j]!;
  return t;
}
