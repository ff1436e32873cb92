// JAFFE: one folder of images named `<subject>.<expr><n>.<id>.tiff`, e.g. `KA.AN1.39.tiff` is
// subject KA, angry (codes AN DI FE HA NE SA SU). Other files (README) are ignored.
import { join } from 'node:path';
import { ProblemLog } from '../errors.js';
import { labelFromJaffeCode } from '../labels.js';
import type { ImageSample } from '../types.js';
import { finish, refuseSplit, listImages, requireDir, type DatasetReader, type ReadOptions } from './common.js';

export const jaffeReader: DatasetReader = {
  kind: 'image',
  async read(root: string, opts: ReadOptions = {}) {
    refuseSplit('jaffe', root, opts);
    requireDir(root, 'JAFFE folder');
    const log = new ProblemLog(opts.skipBad);
    const items: ImageSample[] = [];
    for (const name of listImages(root)) {
      const path = join(root, name);
      const parts = name.split('.');
      const label = parts.length >= 3 ? labelFromJaffeCode(parts[1]!) : undefined;
      if (label === undefined) {
        log.problem(path, `unknown label in file name (expected <subject>.<AN|DI|FE|HA|NE|SA|SU><n>.<id>.<ext>)`);
        continue;
      }
      items.push({ id: name, image: { kind: 'file', path }, label, subject: parts[0]! });
    }
    if (items.length === 0 && log.skipped.length === 0) log.problem(root, 'no JAFFE images here');
    const classes = [...new Set(items.map((s) => s.label))].sort((a, b) => a - b);
    return finish('jaffe', root, classes, items, log);
  },
};
