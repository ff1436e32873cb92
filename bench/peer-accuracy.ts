// Accuracy against the JS peer on every labelled source at hand: a ferkit model (the bundled one
// unless FERKIT_BENCH_MODEL names another folder) and face-api.js's expression net, zero-shot, on
// the same face crops (CK+48 dev subjects, FER2013 val, FER+ valid). Both are scored on the
// classes both know (the seven basic ones: face-api has no contempt), each predicting over its own
// class set, so a model that answers "contempt" for an angry face is simply wrong.
import { readImages } from '../src/data/registry.js';
import { decodeImage } from '../src/data/image.js';
import { faceModelDir, loadFaceApi } from '../src/detect/face-api.js';
import { BASIC7, CANONICAL_CLASSES, type ImageSample } from '../src/data/types.js';
import { tf } from '../src/engine/backend.js';
import { evaluate } from '../src/eval/evaluate.js';
import { classificationReport } from '../src/eval/metrics.js';
import { bundledModelDir, loadModel } from '../src/models/io.js';
import { sharedData } from '../test/data/data-fixtures.js';

/** face-api's expression names → canonical class names. */
const FACE_API: Record<string, string> = { angry: 'angry', disgusted: 'disgust', fearful: 'fear', happy: 'happy', sad: 'sad', surprised: 'surprise', neutral: 'neutral' };

interface Source {
  name: string;
  read(): Promise<ImageSample[]>;
}

const SOURCES: Source[] = [
  { name: 'ck+48 (all dev subjects)', read: async () => (await readImages('folder', sharedData('ckplus48'))).items },
  { name: 'fer2013 val', read: async () => (await readImages('folder', sharedData('fer2013', 'val'))).items },
  { name: 'fer+ valid (majority)', read: async () => (await readImages('ferplus', sharedData('ferplus'), { split: 'val' })).items },
];

async function faceApiPredictions(items: ImageSample[], classes: string[]): Promise<Int32Array> {
  const fa = await loadFaceApi();
  const net = fa.nets.faceExpressionNet;
  if (!net.isLoaded) await net.loadFromDisk(faceModelDir());
  const preds = new Int32Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const r = await decodeImage(items[i]!.image, { channels: 3 });
    const x = tf.tensor3d(Float32Array.from(r.data), [r.height, r.width, 3]);
    // face-api bundles its own TF.js types; the engine is the same one (loadFaceApi checks).
    const e = (await net.predictExpressions(x as unknown as Parameters<typeof net.predictExpressions>[0])) as unknown as Record<string, number>;
    x.dispose();
    let best = '';
    for (const [k, v] of Object.entries(e)) if (FACE_API[k] && (best === '' || v > e[best]!)) best = k;
    preds[i] = classes.indexOf(FACE_API[best]!);
  }
  return preds;
}

export async function benchPeerAccuracy(log: (s: string) => void): Promise<void> {
  const dir = process.env.FERKIT_BENCH_MODEL ?? bundledModelDir();
  const model = await loadModel(dir);
  log(`ferkit model ${dir} (${model.config.classes.join(', ')}) vs face-api.js faceExpressionNet, on the 7 basic classes`);
  const basic = BASIC7 as readonly string[];
  const rows: string[] = [];
  for (const s of SOURCES) {
    const items = (await s.read()).filter((x) => basic.includes(CANONICAL_CLASSES[x.label]!));
    const labels = Int32Array.from(items, (x) => basic.indexOf(CANONICAL_CLASSES[x.label]!));
    const e = await evaluate(model, items);
    // ferkit's predictions over its own classes, mapped to the basic seven (-1: a class outside them).
    const ours = Int32Array.from({ length: items.length }, (_, i) => {
      const c = model.config.classes.length;
      let k = 0;
      for (let j = 1; j < c; j++) if (e.probs[i * c + j]! > e.probs[i * c + k]!) k = j;
      return basic.indexOf(model.config.classes[k]!);
    });
    const theirs = await faceApiPredictions(items, [...basic]);
    const score = (p: Int32Array) => classificationReport(labels, p, basic.length);
    const a = score(ours);
    const b = score(theirs);
    const pct = (x: number) => (x * 100).toFixed(1);
    const line = `${s.name}: ${items.length} faces; ferkit WAR ${pct(a.war)} UAR ${pct(a.uar)}; face-api WAR ${pct(b.war)} UAR ${pct(b.uar)}`;
    log(line);
    rows.push(line);
  }
  model.dispose();
  log(`peer-accuracy: ${rows.map((r) => r.replace(/: \d+ faces;/, ':')).join(' | ')}`);
}
