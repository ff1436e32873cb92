// DFEW as the IAL reference reads it (spec §1.1): `annotation/set_<k>_{train,test}.txt`, lines
// `<frame_dir> <num_frames> <label>`, frame_dir relative to the root, frames `*.jpg` in file-name
// order, folds k = 1..5. Labels are 0-based in IAL's lists and 1-based in DFEW's own files: the
// base is taken from `labelBase`, else detected (a 0 means 0-based, a 7 means 1-based).
// Clips with num_frames < minFrames (16) are dropped as the reference does — recorded in
// `dataset.dropped`, not as errors.
import { join } from 'node:path';
import { DataError, ProblemLog } from '../errors.js';
import { classesOf, labelFromCode } from '../labels.js';
import type { ClipSample } from '../types.js';
import { finish, listFrames, readListLines, requireDir, resolveFrom, type DatasetReader, type ReadOptions } from './common.js';

const DFEW_FOLDS = 5;
const DFEW_MIN_FRAMES = 16;

type Line = { file: string; line: number; fields: string[]; split: string };

/** 0 or 1: the label base the lines use. */
function detectLabelBase(labels: number[], file: string): 0 | 1 {
  const has0 = labels.includes(0);
  const has7 = labels.includes(7);
  if (has0 && has7) throw new DataError(file, 'labels span 0..7: neither 0-based (0-6) nor 1-based (1-7) DFEW labels');
  return has7 ? 1 : 0;
}

export const dfewReader: DatasetReader = {
  kind: 'clip',
  folds: DFEW_FOLDS,
  async read(root: string, opts: ReadOptions = {}) {
    requireDir(root, 'DFEW root');
    const fold = opts.fold ?? 1;
    if (!Number.isInteger(fold) || fold < 1 || fold > DFEW_FOLDS) throw new DataError(root, `fold ${fold} is not 1..${DFEW_FOLDS}`);
    const minFrames = opts.minFrames ?? DFEW_MIN_FRAMES;
    const log = new ProblemLog(opts.skipBad);
    const splits = opts.split === undefined ? ['train', 'test'] : [opts.split];
    const lines: Line[] = [];
    for (const split of splits) {
      if (split !== 'train' && split !== 'test') throw new DataError(root, `DFEW has splits train and test, not "${split}"`);
      const file = join(root, 'annotation', `set_${fold}_${split}.txt`);
      for (const l of readListLines(file)) lines.push({ ...l, file, split });
    }
    const base = opts.labelBase ?? detectLabelBase(lines.map((l) => Number(l.fields[2])), join(root, 'annotation'));
    const items: ClipSample[] = [];
    for (const { file, line, fields, split } of lines) {
      const where = `${file}:${line}`;
      const [dir, count, code] = fields;
      const n = Number(count);
      if (fields.length !== 3 || !Number.isInteger(n) || n < 0) {
        log.problem(where, `expected "<frame_dir> <num_frames> <label>", got "${fields.join(' ')}"`);
        continue;
      }
      const label = labelFromCode('dfew', code!, base);
      if (label === undefined) {
        log.problem(where, `unknown label "${code}" (DFEW labels are ${base}-${base + 6})`);
        continue;
      }
      if (n < minFrames) {
        log.drop(where, `clip has ${n} frames, fewer than ${minFrames}`);
        continue;
      }
      const frameDir = resolveFrom(root, dir!);
      const frames = listFrames(frameDir, log);
      if (frames === undefined) continue;
      if (frames.length !== n) {
        log.problem(frameDir, `annotation ${where} says ${n} frames, folder has ${frames.length} images`);
        continue;
      }
      items.push({ id: dir!, frames: frames.map((path) => ({ kind: 'file', path })), label, split });
    }
    return finish('dfew', root, classesOf('dfew'), items, log);
  },
};
