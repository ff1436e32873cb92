// `ckplus-clips`: the image model and the clip model through the video path (recognizeVideo, faces
// 'whole') on CK+48's 3-frame clips (the last three frames of each posed sequence, toward the
// peak), scored per clip on the six classes both know. Two sets: every clip, and the subjects the
// bundled clip model was not trained on (its config's info.testSubjects: the only fair set for
// it). For the image model three read-outs: the last frame alone, the last frame's EMA-smoothed
// probabilities (the video default, τ 0.5 s at CK+'s 30 fps: mostly the first frame) and the
// video summary's mean over the frames. For a clip model the last frame has seen the whole clip
// (its window), so that row is the clip's answer. FERKIT_BENCH_MODEL replaces the image model.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRecognizer } from '../src/api/recognizer.js';
import { decodeImage } from '../src/data/image.js';
import { readDataset } from '../src/data/registry.js';
import { CANONICAL_CLASSES, type ClipSample } from '../src/data/types.js';
import { classificationReport } from '../src/eval/metrics.js';
import { bundledModelDir } from '../src/models/io.js';
import { sharedData } from '../test/data/data-fixtures.js';

const SHARED = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise'];
/** CK+ was filmed at 30 frames per second. */
const CK_FPS = 30;
const CLIP_MODEL = 'ial-ckplus48';

export async function benchCkplusClips(log: (s: string) => void): Promise<void> {
  const ds = await readDataset('ckplus-clips', sharedData('ckplus48'));
  const clips = (ds.items as ClipSample[]).filter((c) => SHARED.includes(CANONICAL_CLASSES[c.label]!));
  const clipDir = bundledModelDir(CLIP_MODEL);
  const held = new Set((JSON.parse(readFileSync(join(clipDir, 'config.json'), 'utf8')).info?.testSubjects as string[] | undefined) ?? []);
  if (held.size === 0) throw new Error(`${clipDir}/config.json names no testSubjects: the clip model cannot be scored on subjects it did not see`);
  const sets = [
    { name: `all ${clips.length} clips`, keep: clips.map(() => true) },
    { name: `the ${held.size} subjects ${CLIP_MODEL} was not trained on`, keep: clips.map((c) => held.has(c.subject!)) },
  ];
  // Each model answers over the six shared classes only (an image model's neutral, a clip model's contempt left out).
  const pick = (p: Record<string, number>) => SHARED.indexOf(SHARED.reduce((a, b) => (p[b]! > p[a]! ? b : a)));
  const labels = clips.map((c) => SHARED.indexOf(CANONICAL_CLASSES[c.label]!));
  for (const dir of [process.env.FERKIT_BENCH_MODEL ?? bundledModelDir(), clipDir]) {
    const rec = await loadRecognizer({ model: dir, faces: 'whole' });
    const clipModel = rec.config.input.kind === 'clip';
    const rows: Record<string, number[]> = clipModel ? { 'clip (last frame, full window)': [] } : { 'last frame': [], 'EMA τ 0.5 s (video default), last frame': [], 'mean over the frames (video summary)': [] };
    const t0 = performance.now();
    // How much a clip changes from its first frame to its last: pixels, and the image model's
    // probability of the clip's true class (the intensity IAL would exploit).
    const change = { pixels: 0, first: 0, last: 0 };
    for (const [ci, c] of clips.entries()) {
      if (!Array.isArray(c.frames)) throw new Error(`${c.id}: expected CK+48 frame files`);
      const frames = await Promise.all(c.frames.map((f) => decodeImage(f, { channels: 3 })));
      const raw = await rec.recognizeVideo({ frames, fps: CK_FPS }, { tau: 0 });
      const last = raw.frames.at(-1)!.faces[0]!.probabilities;
      if (!clipModel) {
        const [a, z] = [frames[0]!.data, frames.at(-1)!.data];
        let d = 0;
        for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - z[i]!);
        change.pixels += d / a.length;
        const truth = SHARED[labels[ci]!]!;
        change.first += raw.frames[0]!.faces[0]!.probabilities[truth as keyof typeof last]!;
        change.last += last[truth as keyof typeof last]!;
      }
      if (clipModel) {
        rows['clip (last frame, full window)']!.push(pick(last));
        continue;
      }
      rows['last frame']!.push(pick(last));
      rows['mean over the frames (video summary)']!.push(pick(raw.timelines[0]!.summary.meanProbabilities));
      const ema = await rec.recognizeVideo({ frames, fps: CK_FPS }, { tau: 0.5 });
      rows['EMA τ 0.5 s (video default), last frame']!.push(pick(ema.frames.at(-1)!.faces[0]!.probabilities));
    }
    log(`ckplus-clips: ${dir} (${clipModel ? 'clip' : 'image'} model, ${rec.engine}, ${((performance.now() - t0) / 1000).toFixed(1)} s), classes ${SHARED.join(', ')}`);
    if (!clipModel) {
      const n = clips.length;
      log(`  within a clip, first → last frame: mean |Δ| ${(change.pixels / n).toFixed(1)} grey levels of 255; the true class's probability ${(change.first / n).toFixed(3)} → ${(change.last / n).toFixed(3)}`);
    }
    for (const set of sets) {
      const idx = clips.flatMap((_, i) => (set.keep[i] ? [i] : []));
      for (const [name, preds] of Object.entries(rows)) {
        const r = classificationReport(Int32Array.from(idx, (i) => labels[i]!), Int32Array.from(idx, (i) => preds[i]!), SHARED.length);
        log(`  ${set.name}, ${name}: WAR ${(r.war * 100).toFixed(2)} UAR ${(r.uar * 100).toFixed(2)}`);
      }
    }
    await rec.dispose();
  }
}
