// Recognition results as text: a readable table, CSV rows (one per face, or per face per frame),
// and the JSON shapes `ferkit predict --json` prints. Shared by predict and demo.
import type { ExpressionLabel, FaceResult, VideoResult } from '../api/types.js';

export interface ImageRecord {
  file: string;
  width: number;
  height: number;
  faces: FaceResult[];
  /** Faces beyond the --max-faces cap, left out. */
  droppedFaces: number;
  /** Why the file could not be read (the file is skipped). */
  error?: string;
}

const pct = (p: number) => `${(p * 100).toFixed(0)}%`;

/** One line per face: box, label, confidence and the next two most likely expressions. */
export function imageTable(records: readonly ImageRecord[]): string {
  const lines: string[] = [];
  for (const r of records) {
    if (r.error) {
      lines.push(`${r.file}: skipped (${r.error})`);
      continue;
    }
    const dropped = r.droppedFaces ? ` (${r.droppedFaces} more found beyond --max-faces, left out)` : '';
    lines.push(`${r.file}: ${r.faces.length} face${r.faces.length === 1 ? '' : 's'}${dropped}`);
    for (const f of r.faces) {
      const others = Object.entries(f.probabilities)
        .sort((a, b) => b[1] - a[1])
        .slice(1, 3)
        .map(([k, p]) => `${k} ${pct(p)}`)
        .join(', ');
      const where = f.detected ? `at [${f.box.map((v) => Math.round(v)).join(', ')}]` : '(the whole picture: no face detected, read as a face crop)';
      lines.push(`  face ${f.faceId} ${where}: ${f.label} ${pct(f.confidence)} (then ${others})`);
    }
  }
  return lines.join('\n');
}

export function videoTable(file: string, v: VideoResult): string {
  const lines = [`${file}: ${v.summary.frames} frames at ${v.fps.toFixed(2)} fps (${v.temporal.mode === 'ema' ? `EMA τ=${v.temporal.tau} s` : `clip windows of ${v.temporal.frames}`}), ${v.summary.faces} face track${v.summary.faces === 1 ? '' : 's'}`];
  for (const t of v.timelines) {
    const s = t.summary;
    const shares = Object.entries(s.labelShare)
      .filter(([, x]) => x > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([k, x]) => `${k} ${pct(x)}`)
      .join(', ');
    lines.push(`  face ${s.faceId}: ${s.firstTime.toFixed(2)}-${s.lastTime.toFixed(2)} s, ${s.frames} frames, mostly ${s.dominantLabel} (frames: ${shares})`);
  }
  lines.push(`  video: ${v.summary.dominantLabel ?? 'no faces'}`);
  return lines.join('\n');
}

const csvCell = (v: string | number) => {
  const s = typeof v === 'number' ? String(Math.round(v * 1e6) / 1e6) : v;
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csvRow = (cells: (string | number)[]) => cells.map(csvCell).join(',');

export function imageCsv(records: readonly ImageRecord[], classes: readonly ExpressionLabel[]): string {
  const rows = [csvRow(['file', 'face', 'x', 'y', 'width', 'height', 'detected', 'label', 'confidence', ...classes])];
  for (const r of records) {
    for (const f of r.faces) rows.push(csvRow([r.file, f.faceId, ...f.box, String(f.detected), f.label, f.confidence, ...classes.map((c) => f.probabilities[c] ?? 0)]));
  }
  return rows.join('\n');
}

export function videoCsv(file: string, v: VideoResult, classes: readonly ExpressionLabel[]): string {
  // Smoothed label, confidence and probabilities, then this frame's raw ones.
  const rows = [csvRow(['file', 'time', 'frame', 'face', 'x', 'y', 'width', 'height', 'label', 'confidence', ...classes, 'raw_label', 'raw_confidence', ...classes.map((c) => `raw_${c}`)])];
  for (const t of v.timelines) {
    for (const p of t.points) {
      rows.push(csvRow([file, p.time, p.frame, t.faceId, ...p.box, p.label, p.confidence, ...classes.map((c) => p.probabilities[c] ?? 0), p.rawLabel, p.rawConfidence, ...classes.map((c) => p.rawProbabilities[c] ?? 0)]));
    }
  }
  return rows.join('\n');
}

/** The video result without per-frame landmarks (timelines carry the per-frame data). */
export function videoJson(file: string, v: VideoResult): Record<string, unknown> {
  return { file, kind: 'video', width: v.width, height: v.height, fps: v.fps, temporal: v.temporal, summary: v.summary, timelines: v.timelines };
}
