// "Videos + a CSV of labels": a CSV `path,label[,subject]` (header optional; with a header, columns
// are found by name and a `split` column is read too). `path` is a video file or a folder of frame
// images, relative to the CSV's folder; `label` is a class name (any synonym) or a canonical index.
// Root: the CSV itself, or a folder holding `labels.csv` or `clips.csv`.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataError, ProblemLog } from '../errors.js';
import { labelFromNameOrIndex } from '../labels.js';
import type { ClipSample } from '../types.js';
import { finish, isVideoFile, listFrames, readCsvRows, resolveFrom, type DatasetReader, type ReadOptions } from './common.js';

const CSV_NAMES = ['labels.csv', 'clips.csv'];

function csvOf(root: string): string {
  if (!existsSync(root)) throw new DataError(root, 'clips CSV or folder not found');
  if (!statSync(root).isDirectory()) return root;
  const csv = CSV_NAMES.map((n) => join(root, n)).find((p) => existsSync(p));
  if (!csv) throw new DataError(root, `no ${CSV_NAMES.join(' or ')} here`);
  return csv;
}

export const clipsReader: DatasetReader = {
  kind: 'clip',
  async read(root: string, opts: ReadOptions = {}) {
    const csv = csvOf(root);
    const base = dirname(csv);
    const log = new ProblemLog(opts.skipBad);
    const rows = readCsvRows(csv);
    const header = rows[0]?.[0]?.toLowerCase() === 'path' ? rows[0].map((h) => h.toLowerCase()) : undefined;
    const col = (name: string, fallback: number): number => (header ? header.indexOf(name) : fallback);
    const [pathCol, labelCol, subjectCol, splitCol] = [col('path', 0), col('label', 1), col('subject', 2), col('split', -1)];
    if (labelCol < 0) throw new DataError(csv, 'header has no "label" column');
    const items: ClipSample[] = [];
    rows.slice(header ? 1 : 0).forEach((row, i) => {
      const where = `${csv}:${i + (header ? 2 : 1)}`;
      const path = row[pathCol] ?? '';
      const labelText = row[labelCol] ?? '';
      if (path === '' || labelText === '') return log.problem(where, 'expected "path,label[,subject]"');
      const split = splitCol >= 0 && row[splitCol] ? row[splitCol] : undefined;
      if (opts.split !== undefined && split !== opts.split) return;
      const label = labelFromNameOrIndex(labelText);
      if (label === undefined) return log.problem(where, `unknown label "${labelText}"`);
      const full = resolveFrom(base, path);
      let frames: ClipSample['frames'];
      if (!existsSync(full)) return log.problem(full, `missing file (listed at ${where})`);
      if (statSync(full).isDirectory()) {
        const list = listFrames(full, log);
        if (list === undefined) return;
        if (list.length === 0) return log.problem(full, 'frame folder has no images');
        frames = list.map((p) => ({ kind: 'file', path: p }));
      } else if (isVideoFile(full)) {
        if (statSync(full).size === 0) return log.problem(full, 'empty file (0 bytes)');
        frames = { kind: 'video', path: full };
      } else {
        return log.problem(full, 'neither a video file nor a folder of frames');
      }
      const subject = subjectCol >= 0 && row[subjectCol] ? row[subjectCol] : undefined;
      items.push({ id: path, frames, label, ...(subject ? { subject } : {}), ...(split ? { split } : {}) });
    });
    const classes = [...new Set(items.map((s) => s.label))].sort((a, b) => a - b);
    return finish('clips', csv, classes, items, log);
  },
};
