// Keeps one identity per face across frames: each new detection joins the live track whose last
// box overlaps it most (IoU ≥ minIou, greedy, best pairs first); a track unseen for more than
// maxGap seconds ends, and unmatched detections open new tracks.

export type Box = [number, number, number, number];

export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a[0], b[0]);
  const y0 = Math.max(a[1], b[1]);
  const x1 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y1 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

export interface TrackerOptions {
  /** Smallest overlap that continues a track (default 0.3). */
  minIou?: number;
  /** Seconds a track survives without a detection (default 1). */
  maxGap?: number;
}

interface Track {
  id: number;
  box: Box;
  lastTime: number;
}

export class IouTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private readonly minIou: number;
  private readonly maxGap: number;

  constructor(opts: TrackerOptions = {}) {
    this.minIou = opts.minIou ?? 0.3;
    this.maxGap = opts.maxGap ?? 1;
  }

  /** Ends every track (a scene cut): later boxes open new ones. */
  endAll(): void {
    this.tracks = [];
  }

  /** Track ids (from 1) for this frame's boxes (same order), and the ids of tracks that just ended. */
  update(boxes: readonly Box[], time: number): { ids: number[]; ended: number[] } {
    const ended = this.tracks.filter((t) => time - t.lastTime > this.maxGap).map((t) => t.id);
    this.tracks = this.tracks.filter((t) => time - t.lastTime <= this.maxGap);
    const pairs: [number, number, number][] = [];
    boxes.forEach((b, i) => this.tracks.forEach((t, j) => {
      const o = iou(b, t.box);
      if (o >= this.minIou) pairs.push([o, i, j]);
    }));
    pairs.sort((p, q) => q[0] - p[0]);
    const ids = new Array<number>(boxes.length).fill(-1);
    const used = new Set<number>();
    for (const [, i, j] of pairs) {
      if (ids[i] !== -1 || used.has(j)) continue;
      ids[i] = this.tracks[j].id;
      used.add(j);
    }
    boxes.forEach((b, i) => {
      if (ids[i] === -1) {
        ids[i] = this.nextId++;
        this.tracks.push({ id: ids[i], box: b, lastTime: time });
      }
    });
    for (const t of this.tracks) {
      const i = ids.indexOf(t.id);
      if (i >= 0) {
        t.box = boxes[i];
        t.lastTime = time;
      }
    }
    return { ids, ended };
  }
}
