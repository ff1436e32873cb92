// Aff-Wild2 EXPR (spec §3.4): one label file per video, `<video>.txt`, a header row then one
// label per frame (0 Neutral .. 6 Surprise, 7 Other; -1 = unannotated, dropped). Frame i (1-based)
// is `cropped_aligned/<video>/{i:05d}.jpg`. Label files are found in
// `Annotations/EXPR_Classification_Challenge/{Train_Set,Validation_Set}/` (or `annotations/`,
// `labels/`, with or without split folders). Frames absent from cropped_aligned (no face found
// there) are dropped, not errors: the release omits them. Samples are images; subject = video.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, ProblemLog } from '../errors.js';
import { classesOf, labelFromCode } from '../labels.js';
import type { ImageSample } from '../types.js';
import { canonicalSplit, finish, listDirs, requireDir, type DatasetReader, type ReadOptions } from './common.js';

const LABEL_DIRS = ['Annotations/EXPR_Classification_Challenge', 'EXPR_Classification_Challenge', 'annotations', 'labels'];

/** Label folders with their split names. */
function labelFolders(root: string): Array<{ dir: string; split?: string }> {
  const base = LABEL_DIRS.map((d) => join(root, d)).find((d) => existsSync(d));
  if (!base) throw new DataError(root, `no label folder (looked for ${LABEL_DIRS.join(', ')})`);
  const splitDirs = listDirs(base).filter((d) => canonicalSplit(d) !== undefined);
  if (splitDirs.length === 0) return [{ dir: base }];
  return splitDirs.map((d) => ({ dir: join(base, d), split: canonicalSplit(d)! }));
}

export const affwild2Reader: DatasetReader = {
  kind: 'image',
  async read(root: string, opts: ReadOptions = {}) {
    requireDir(root, 'Aff-Wild2 root');
    const frameRoot = join(root, 'cropped_aligned');
    requireDir(frameRoot, 'Aff-Wild2 cropped_aligned folder');
    const log = new ProblemLog(opts.skipBad);
    const items: ImageSample[] = [];
    for (const { dir, split } of labelFolders(root)) {
      if (opts.split !== undefined && split !== opts.split) continue;
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
        const video = file.slice(0, -4);
        const labelFile = join(dir, file);
        const videoDir = join(frameRoot, video);
        if (!existsSync(videoDir)) {
          log.problem(videoDir, `frame folder for ${labelFile} not found`);
          continue;
        }
        const present = new Set(readdirSync(videoDir));
        const lines = readFileSync(labelFile, 'utf8').split(/\r?\n/).slice(1); // header row
        lines.forEach((text, i) => {
          const code = text.trim();
          if (code === '') return;
          const where = `${labelFile}:${i + 2}`;
          if (code === '-1') return log.drop(where, 'label -1 (not annotated)');
          const label = labelFromCode('affwild2', code);
          if (label === undefined) return log.problem(where, `unknown label "${code}" (Aff-Wild2 labels are -1..7)`);
          const name = `${String(i + 1).padStart(5, '0')}.jpg`;
          if (!present.has(name)) return log.drop(join(videoDir, name), 'frame not in cropped_aligned');
          const path = join(videoDir, name);
          items.push({ id: `${video}/${name}`, image: { kind: 'file', path }, label, subject: video, ...(split ? { split } : {}) });
        });
      }
    }
    return finish('affwild2', root, classesOf('affwild2'), items, log);
  },
};
