// AffectNet manual annotations: `training.csv` / `validation.csv` with columns
// subDirectory_filePath, face_x, face_y, face_width, face_height, [facial_landmarks,] expression,
// valence, arousal. Expression 0..7 maps through the AffectNet table; 8 none, 9 uncertain and
// 10 non-face are dropped (not errors). Image paths are relative to `Manually_Annotated_Images/`
// when that folder exists, else to the CSV's folder. Root: the folder or one CSV file.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError, ProblemLog } from '../errors.js';
import { classesOf, labelFromCode } from '../labels.js';
import type { ImageSample } from '../types.js';
import { checkImageFile, finish, readCsvRecords, resolveFrom, type DatasetReader, type ReadOptions } from './common.js';

const CSV_SPLITS: Array<[string, string]> = [
  ['training.csv', 'train'],
  ['validation.csv', 'val'],
];
const REQUIRED = ['subDirectory_filePath', 'expression'];

function csvFiles(root: string): Array<{ file: string; split: string }> {
  if (!existsSync(root)) throw new DataError(root, 'AffectNet root not found');
  if (!statSync(root).isDirectory()) {
    return [{ file: root, split: /valid/i.test(basename(root)) ? 'val' : 'train' }];
  }
  const found = CSV_SPLITS.filter(([f]) => existsSync(join(root, f))).map(([f, split]) => ({ file: join(root, f), split }));
  if (found.length === 0) throw new DataError(root, 'no training.csv or validation.csv here');
  return found;
}

const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));

export const affectnetReader: DatasetReader = {
  kind: 'image',
  async read(root: string, opts: ReadOptions = {}) {
    const log = new ProblemLog(opts.skipBad);
    const items: ImageSample[] = [];
    for (const { file, split } of csvFiles(root)) {
      if (opts.split !== undefined && split !== opts.split) continue;
      const dir = dirname(file);
      const imageBase = existsSync(join(dir, 'Manually_Annotated_Images')) ? join(dir, 'Manually_Annotated_Images') : dir;
      const rows = readCsvRecords(file);
      const missing = REQUIRED.filter((c) => rows.length > 0 && !(c in rows[0]!));
      if (missing.length > 0) throw new DataError(file, `missing column(s) ${missing.join(', ')}`);
      rows.forEach((row, i) => {
        const where = `${file}:${i + 2}`;
        const code = num(row.expression);
        if (code === undefined || !Number.isInteger(code) || code < 0 || code > 10) {
          return log.problem(where, `unknown label "${row.expression ?? ''}" (expression must be 0-10)`);
        }
        const label = labelFromCode('affectnet', code);
        if (label === undefined) return log.drop(where, `expression ${code} (none/uncertain/non-face)`);
        const path = resolveFrom(imageBase, row.subDirectory_filePath!);
        if (!checkImageFile(path, log)) return;
        const box = [row.face_x, row.face_y, row.face_width, row.face_height].map(num);
        const sample: ImageSample = { id: row.subDirectory_filePath!, image: { kind: 'file', path }, label, split };
        if (box.every((v) => v !== undefined && Number.isFinite(v))) sample.box = box as [number, number, number, number];
        const valence = num(row.valence);
        const arousal = num(row.arousal);
        // AffectNet writes -2 for "no valence/arousal" on non-face rows.
        if (valence !== undefined && Number.isFinite(valence) && valence >= -1) sample.valence = valence;
        if (arousal !== undefined && Number.isFinite(arousal) && arousal >= -1) sample.arousal = arousal;
        items.push(sample);
      });
    }
    return finish('affectnet', root, classesOf('affectnet'), items, log);
  },
};
