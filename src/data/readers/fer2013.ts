// FER2013 as Kaggle ships it: `fer2013.csv` with `emotion,pixels,Usage`, each row a 48x48 grey
// face as 2304 space-separated bytes. Usage Training/PublicTest/PrivateTest → train/val/test.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ProblemLog } from '../errors.js';
import { classesOf, labelFromCode } from '../labels.js';
import type { ImageSample, ImageSource } from '../types.js';
import { canonicalSplit, finish, readCsvRecords, type DatasetReader, type ReadOptions } from './common.js';

const FER_SIDE = 48;

/** The CSV file: root itself, or `fer2013.csv` inside root. */
function fer2013Csv(root: string): string {
  return existsSync(root) && statSync(root).isDirectory() ? join(root, 'fer2013.csv') : root;
}

/** Decodes one `pixels` cell into a 48x48x1 image, or returns the problem. */
export function decodePixels(cell: string | undefined, origin: string): ImageSource | string {
  const parts = (cell ?? '').trim().split(/\s+/).filter(Boolean);
  if (parts.length !== FER_SIDE * FER_SIDE) return `pixels has ${parts.length} values, expected ${FER_SIDE * FER_SIDE}`;
  const data = new Uint8Array(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const v = Number(parts[i]);
    if (!Number.isInteger(v) || v < 0 || v > 255) return `pixel ${i} is "${parts[i]}", expected an integer 0-255`;
    data[i] = v;
  }
  return { kind: 'pixels', width: FER_SIDE, height: FER_SIDE, channels: 1, data, origin };
}

export const fer2013Reader: DatasetReader = {
  kind: 'image',
  async read(root: string, opts: ReadOptions = {}) {
    const file = fer2013Csv(root);
    const log = new ProblemLog(opts.skipBad);
    const rows = readCsvRecords(file);
    const items: ImageSample[] = [];
    rows.forEach((row, i) => {
      const where = `${file}:${i + 2}`; // +1 header, +1 one-based
      const split = row.Usage === undefined ? undefined : canonicalSplit(row.Usage);
      if (row.Usage !== undefined && split === undefined) return log.problem(where, `unknown Usage "${row.Usage}"`);
      if (opts.split !== undefined && split !== opts.split) return;
      const label = labelFromCode('fer2013', row.emotion ?? '');
      if (label === undefined) return log.problem(where, `unknown label "${row.emotion ?? ''}" (emotion must be 0-6)`);
      const image = decodePixels(row.pixels, where);
      if (typeof image === 'string') return log.problem(where, image);
      items.push({ id: `row${i}`, image, label, ...(split ? { split } : {}) });
    });
    return finish('fer2013', file, classesOf('fer2013'), items, log);
  },
};
