// FERV39k list format assumed here (as its release and public loaders use it):
//   `4_setups/All_scenes/train_All.csv` and `test_All.csv` (or `train.txt`/`test.txt`/`train.csv`/
//   `test.csv` directly in root), no header, one clip per line: `<frame_dir> <label>` separated by
//   a space, tab or comma. `<frame_dir>` is relative to `2_ClipsforFaceCrop/` when that folder
//   exists, else to root; its frames are the image files inside, by file name. `<label>` is a class
//   name (Angry, Disgust, Fear, Happy, Neutral, Sad, Surprise, any synonym) or an index 0..6 in
//   that alphabetical order.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, ProblemLog } from '../errors.js';
import { classesOf, labelFromCode, labelFromName } from '../labels.js';
import type { ClipSample } from '../types.js';
import { finish, listFrames, readListLines, requireDir, resolveFrom, type DatasetReader, type ReadOptions } from './common.js';

const LIST_NAMES: Record<string, string[]> = {
  train: ['4_setups/All_scenes/train_All.csv', 'train_All.csv', 'train.txt', 'train.csv'],
  test: ['4_setups/All_scenes/test_All.csv', 'test_All.csv', 'test.txt', 'test.csv'],
};

export const ferv39kReader: DatasetReader = {
  kind: 'clip',
  async read(root: string, opts: ReadOptions = {}) {
    requireDir(root, 'FERV39k root');
    const log = new ProblemLog(opts.skipBad);
    const frameBase = existsSync(join(root, '2_ClipsforFaceCrop')) ? join(root, '2_ClipsforFaceCrop') : root;
    const splits = opts.split === undefined ? ['train', 'test'] : [opts.split];
    const items: ClipSample[] = [];
    for (const split of splits) {
      const candidates = LIST_NAMES[split];
      if (!candidates) throw new DataError(root, `FERV39k has splits train and test, not "${split}"`);
      const list = candidates.map((c) => join(root, c)).find((p) => existsSync(p));
      if (!list) throw new DataError(root, `no ${split} list (looked for ${candidates.join(', ')})`);
      for (const { line, fields } of readListLines(list)) {
        const where = `${list}:${line}`;
        if (fields.length < 2) {
          log.problem(where, `expected "<frame_dir> <label>", got "${fields.join(' ')}"`);
          continue;
        }
        const [dir, code] = [fields[0]!, fields[fields.length - 1]!];
        const label = /^\d+$/.test(code) ? labelFromCode('ferv39k', code) : labelFromName(code);
        if (label === undefined) {
          log.problem(where, `unknown label "${code}"`);
          continue;
        }
        const frameDir = resolveFrom(frameBase, dir);
        const frames = listFrames(frameDir, log);
        if (frames === undefined) continue;
        if (frames.length === 0) {
          log.problem(frameDir, 'frame folder has no images');
          continue;
        }
        items.push({ id: dir, frames: frames.map((path) => ({ kind: 'file', path })), label, split });
      }
    }
    return finish('ferv39k', root, classesOf('ferv39k'), items, log);
  },
};
