// Face detector back ends behind one signature (raster in → faces with boxes and 68 landmarks out),
// so face finding (find-faces.ts's one detector call) can swap them. 'onnx': face-api's SSD MobileNet v1 and landmark net exported to ONNX
// (face-api-onnx.ts) on onnxruntime-node; the picture is letterboxed once by sharp (libvips)
// to 512x512 — face-api pads its tensor to a square at the bottom/right, then resizes — and each
// face's crop for the landmark net is cut from the full-resolution picture, resized to fit 112 and
// padded to the square by sharp; all faces of a picture go through the landmark net in one batch.
// Non-maximum suppression is face-api's (greedy by score, IoU 0.5). 'tfjs': face-api itself on
// the TF.js engine (face-api.ts), also the only home of the TinyFaceDetector.
import type * as Ort from 'onnxruntime-node';
import { sharpOf, toRgb, type Raster } from '../data/image.js';
import { importOrt, sessionOptions } from '../onnx/runtime.js';
import type { Face } from './align.js';
import { detectFaces, fromPrepared, prepareForDetection, type DetectOptions, type DetectorName } from './face-api.js';
import { faceApiOnnx, LANDMARK_SIZE, SSD_SIZE } from './face-api-onnx.js';

export interface FaceDetectorBackend {
  /** 'onnxruntime' or 'tfjs'. */
  readonly engine: string;
  /** Faces in a raster, best first, in the raster's pixels. */
  detect(raster: Raster, opts?: DetectOptions): Promise<Face[]>;
  /** Landmarks of faces at known boxes (following faces between detections), where the back end
   *  can; undefined for a box outside the raster. */
  landmarks?(raster: Raster, faces: readonly { box: Face['box']; score: number }[]): Promise<(Face | undefined)[]>;
  dispose(): Promise<void>;
}

/** face-api on TF.js (SSD or TinyFaceDetector). */
export const tfjsFaceDetector: FaceDetectorBackend = {
  engine: 'tfjs',
  detect: (raster, opts) => detectFaces(raster, opts),
  dispose: async () => undefined,
};


/** The picture scaled to fit size×size, at the top left of a black square (face-api's padToSquare). */
export async function letterbox(r: Raster, size: number): Promise<{ data: Uint8Array; width: number; height: number }> {
  const s = size / Math.max(r.width, r.height);
  const width = Math.max(1, Math.min(size, Math.round(r.width * s)));
  const height = Math.max(1, Math.min(size, Math.round(r.height * s)));
  const data = await sharpOf(r)
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .extend({ right: size - width, bottom: size - height, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer();
  return { data, width, height };
}

/** face-api's non-maximum suppression: indices kept, best score first. Boxes are [ymin, xmin, ymax, xmax]. */
export function nonMaxSuppression(boxes: Float32Array, scores: Float32Array, maxResults: number, iouThreshold: number, minScore: number): number[] {
  const box = (i: number) => {
    const [a, b, c, d] = boxes.subarray(i * 4, i * 4 + 4);
    return [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)];
  };
  const iou = (i: number, j: number) => {
    const [y0, x0, y1, x1] = box(i);
    const [v0, u0, v1, u1] = box(j);
    const ai = (y1 - y0) * (x1 - x0);
    const aj = (v1 - v0) * (u1 - u0);
    if (ai <= 0 || aj <= 0) return 0;
    const inter = Math.max(Math.min(y1, v1) - Math.max(y0, v0), 0) * Math.max(Math.min(x1, u1) - Math.max(x0, u0), 0);
    return inter / (ai + aj - inter);
  };
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] > minScore) candidates.push(i);
  candidates.sort((a, b) => scores[b] - scores[a]);
  const selected: number[] = [];
  for (const c of candidates) {
    if (selected.length >= maxResults) break;
    if (selected.every((s) => iou(c, s) <= iouThreshold)) selected.push(c);
  }
  return selected;
}

interface LandmarkCrop {
  /** Crop region in the picture (face-api: the box clipped to the picture and floored). */
  x: number;
  y: number;
  w: number;
  h: number;
  /** Where it lies in the 112 square after resizing. */
  left: number;
  top: number;
  rw: number;
  rh: number;
}

/** The landmark net's view of a face: the box cut out, resized to fit 112, centred on black. */
async function landmarkCrop(r: Raster, box: Face['box']): Promise<{ at: LandmarkCrop; data: Uint8Array } | undefined> {
  const x = Math.floor(Math.max(box[0], 0));
  const y = Math.floor(Math.max(box[1], 0));
  const w = Math.floor(Math.min(box[0] + box[2] - Math.max(box[0], 0), r.width - Math.max(box[0], 0)));
  const h = Math.floor(Math.min(box[1] + box[3] - Math.max(box[1], 0), r.height - Math.max(box[1], 0)));
  if (w < 1 || h < 1) return undefined;
  const k = LANDMARK_SIZE / Math.max(w, h);
  const rw = Math.max(1, Math.min(LANDMARK_SIZE, Math.round(w * k)));
  const rh = Math.max(1, Math.min(LANDMARK_SIZE, Math.round(h * k)));
  const left = Math.floor((LANDMARK_SIZE - rw) / 2);
  const top = Math.floor((LANDMARK_SIZE - rh) / 2);
  const data = await sharpOf(r)
    .extract({ left: x, top: y, width: w, height: h })
    .resize(rw, rh, { fit: 'fill', kernel: 'linear' })
    .extend({ left, top, right: LANDMARK_SIZE - rw - left, bottom: LANDMARK_SIZE - rh - top, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer();
  return { at: { x, y, w, h, left, top, rw, rh }, data };
}

/** face-api's SSD + 68 landmarks on onnxruntime-node. */
export class OnnxFaceDetector implements FaceDetectorBackend {
  readonly engine = 'onnxruntime';

  private constructor(
    private readonly ort: typeof Ort,
    private readonly ssd: Ort.InferenceSession,
    private readonly landmarkNet: Ort.InferenceSession,
  ) {}

  /** Builds the two graphs from the installed face-api weights and opens them. */
  static async load(): Promise<OnnxFaceDetector> {
    const ort = await importOrt();
    const graphs = await faceApiOnnx();
    const options = sessionOptions();
    const [ssd, landmarks] = await Promise.all([ort.InferenceSession.create(graphs.ssd, options), ort.InferenceSession.create(graphs.landmarks, options)]);
    return new OnnxFaceDetector(ort, ssd, landmarks);
  }

  async detect(raster: Raster, opts: DetectOptions = {}): Promise<Face[]> {
    if (opts.detector === 'tiny') throw new Error('the ONNX face detector is SSD MobileNet v1; the tiny detector runs on TF.js (engine tfjs)');
    const prep = prepareForDetection(toRgb(raster), opts.pad ?? 0, opts.minSide ?? 0);
    const img = prep.img;
    const lb = await letterbox(img, SSD_SIZE);
    const ssd = await this.ssd.run({ image: new this.ort.Tensor('uint8', lb.data, [1, SSD_SIZE, SSD_SIZE, 3]) });
    const [boxes, scores] = [ssd.boxes.data as Float32Array, ssd.scores.data as Float32Array];
    const keep = nonMaxSuppression(boxes, scores, opts.maxResults ?? 100, 0.5, opts.minConfidence ?? 0.5);
    // Relative to the 512 square → relative to the picture → its pixels (face-api's locateFaces).
    const sx = (SSD_SIZE / lb.width) * img.width;
    const sy = (SSD_SIZE / lb.height) * img.height;
    const found = keep.map((i) => {
      const [y0, x0, y1, x1] = boxes.subarray(i * 4, i * 4 + 4);
      const top = Math.max(0, y0) * sy;
      const left = Math.max(0, x0) * sx;
      return { score: scores[i], box: [left, top, Math.min(1, x1) * sx - left, Math.min(1, y1) * sy - top] as Face['box'] };
    });
    return (await this.landmarks(img, found))
      .filter((f): f is Face => f !== undefined)
      .map((f) => fromPrepared(f, prep))
      .sort((a, b) => b.score - a.score);
  }

  /** The 68 landmarks of faces whose boxes are known (a detection, or a followed face's box in a
   *  later frame), all faces in one batch, in their order. A box that lies outside the picture has
   *  no crop and gets undefined (face-api leaves such a face out). */
  async landmarks(raster: Raster, faces: readonly { box: Face['box']; score: number }[]): Promise<(Face | undefined)[]> {
    const img = toRgb(raster);
    const crops = await Promise.all(faces.map((f) => landmarkCrop(img, f.box)));
    const kept = faces.flatMap((f, i) => (crops[i] ? [{ ...f, crop: crops[i]!.at, data: crops[i]!.data, at: i }] : []));
    const out = new Array<Face | undefined>(faces.length).fill(undefined);
    if (kept.length === 0) return out;
    const side = LANDMARK_SIZE * LANDMARK_SIZE * 3;
    const batch = new Uint8Array(kept.length * side);
    kept.forEach((f, i) => batch.set(f.data, i * side));
    // [n, 136]: the 68 points relative to the 112 square.
    const lm = (await this.landmarkNet.run({ image: new this.ort.Tensor('uint8', batch, [kept.length, LANDMARK_SIZE, LANDMARK_SIZE, 3]) })).landmarks.data as Float32Array;
    kept.forEach((f, i) => {
      const c = f.crop;
      const landmarks = Array.from({ length: 68 }, (_, p): [number, number] => [
        c.x + ((lm[i * 136 + 2 * p] * LANDMARK_SIZE - c.left) * c.w) / c.rw,
        c.y + ((lm[i * 136 + 2 * p + 1] * LANDMARK_SIZE - c.top) * c.h) / c.rh,
      ]);
      out[f.at] = { box: f.box, score: f.score, landmarks };
    });
    return out;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.ssd.release(), this.landmarkNet.release()]);
  }
}

/** The face detector for a runtime choice: ONNX Runtime unless 'tfjs' or the tiny detector;
 *  'auto' falls back to TF.js with a note when onnxruntime cannot run it. */
export async function loadFaceDetector(opts: { runtime?: 'auto' | 'tfjs' | 'onnx'; detector?: DetectorName; onNote?: (note: string) => void } = {}): Promise<FaceDetectorBackend> {
  const runtime = opts.runtime ?? 'auto';
  if (runtime === 'tfjs' || opts.detector === 'tiny') return tfjsFaceDetector;
  try {
    return await OnnxFaceDetector.load();
  } catch (e) {
    if (runtime === 'onnx') throw e;
    opts.onNote?.(`face detection runs on TF.js: the ONNX detector did not load (${(e as Error).message.split('\n')[0]})`);
    return tfjsFaceDetector;
  }
}
