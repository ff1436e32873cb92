// RAF-DB basic (spec §2.1): `EmoLabel/list_patition_label.txt` ("patition" sic) with lines
// `train_00001.jpg 5`, labels 1..7; images `Image/aligned/<stem>_aligned.jpg`; split = name prefix.
import { join } from 'node:path';
import { ProblemLog } from '../errors.js';
import { classesOf, labelFromCode } from '../labels.js';
import type { ImageSample } from '../types.js';
import { checkImageFile, finish, readListLines, requireDir, type DatasetReader, type ReadOptions } from './common.js';

export const rafdbReader: DatasetReader = {
  kind: 'image',
  async read(root: string, opts: ReadOptions = {}) {
    requireDir(root, 'RAF-DB root');
    const log = new ProblemLog(opts.skipBad);
    const list = join(root, 'EmoLabel', 'list_patition_label.txt');
    const items: ImageSample[] = [];
    for (const { line, fields } of readListLines(list)) {
      const where = `${list}:${line}`;
      const [name, code] = fields;
      if (fields.length !== 2) {
        log.problem(where, `expected "<image> <label>", got "${fields.join(' ')}"`);
        continue;
      }
      const split = name!.startsWith('train') ? 'train' : name!.startsWith('test') ? 'test' : undefined;
      if (split === undefined) {
        log.problem(where, `image name "${name}" starts with neither train nor test`);
        continue;
      }
      if (opts.split !== undefined && split !== opts.split) continue;
      const label = labelFromCode('rafdb', code!);
      if (label === undefined) {
        log.problem(where, `unknown label "${code}" (RAF-DB labels are 1-7)`);
        continue;
      }
      const stem = name!.replace(/\.[^.]+$/, '');
      const path = join(root, 'Image', 'aligned', `${stem}_aligned.jpg`);
      if (!checkImageFile(path, log)) continue;
      items.push({ id: name!, image: { kind: 'file', path }, label, split });
    }
    return finish('rafdb', root, classesOf('rafdb'), items, log);
  },
};
