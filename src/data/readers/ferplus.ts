// FER+ (Barsoum et al. 2016): `fer2013new.csv` re-labels each FER2013 row with 10 annotators'
// votes over neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF.
// The hard label is the majority vote after dropping single votes (one annotator's outlier), as the
// FER+ authors do: the winner needs more than half of the remaining votes, and rows whose winner
// is unknown/NF or that have no majority are dropped. `labelDist` is the remaining emotion votes,
// normalised, over the canonical classes.
// Pixels come from `fer2013.csv` beside it (row i of one is row i of the other) or, failing that,
// from image folders FER2013Train/ FER2013Valid/ FER2013Test/ holding the `Image name` files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ProblemLog } from '../errors.js';
import { classesOf, labelFromCode } from '../labels.js';
import { CANONICAL_CLASSES, type ImageSample, type ImageSource } from '../types.js';
import { decodePixels } from './fer2013.js';
import { canonicalSplit, checkImageFile, finish, readCsvRecords, requireDir, type DatasetReader, type ReadOptions } from './common.js';

const VOTE_COLUMNS = ['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt', 'unknown', 'NF'];
const EMOTIONS = 8; // the first 8 columns are classes; unknown and NF are not
const IMAGE_FOLDERS: Record<string, string[]> = {
  train: ['FER2013Train', 'train'],
  val: ['FER2013Valid', 'val', 'valid'],
  test: ['FER2013Test', 'test'],
};

/** Majority label and soft label from one row's 10 vote counts; undefined label = drop. */
export function ferplusVotes(votes: number[]): { label?: number; labelDist?: number[]; reason?: string } {
  const kept = votes.map((v) => (v <= 1 ? 0 : v)); // single votes are outliers
  const total = kept.reduce((a, b) => a + b, 0);
  let best = 0;
  for (let i = 1; i < kept.length; i++) if (kept[i]! > kept[best]!) best = i;
  if (total === 0 || kept[best]! * 2 <= total) return { reason: 'no majority vote' };
  if (best >= EMOTIONS) return { reason: `majority vote is ${VOTE_COLUMNS[best]}` };
  const emoTotal = kept.slice(0, EMOTIONS).reduce((a, b) => a + b, 0);
  const labelDist = new Array<number>(CANONICAL_CLASSES.length).fill(0);
  for (let i = 0; i < EMOTIONS; i++) labelDist[labelFromCode('ferplus', i)!] = kept[i]! / emoTotal;
  return { label: labelFromCode('ferplus', best)!, labelDist };
}

function imageFolder(root: string, split: string): string | undefined {
  return (IMAGE_FOLDERS[split] ?? []).map((d) => join(root, d)).find((d) => existsSync(d));
}

export const ferplusReader: DatasetReader = {
  kind: 'image',
  async read(root: string, opts: ReadOptions = {}) {
    requireDir(root, 'FER+ root');
    const log = new ProblemLog(opts.skipBad);
    const votesFile = join(root, 'fer2013new.csv');
    const rows = readCsvRecords(votesFile);
    const pixelsFile = join(root, 'fer2013.csv');
    const pixelRows = existsSync(pixelsFile) ? readCsvRecords(pixelsFile) : undefined;
    if (pixelRows && pixelRows.length !== rows.length) {
      log.problem(pixelsFile, `has ${pixelRows.length} rows but ${votesFile} has ${rows.length}; they must align row by row`);
    }
    const items: ImageSample[] = [];
    rows.forEach((row, i) => {
      const where = `${votesFile}:${i + 2}`;
      const split = canonicalSplit(row.Usage ?? '');
      if (split === undefined) return log.problem(where, `unknown Usage "${row.Usage ?? ''}"`);
      if (opts.split !== undefined && split !== opts.split) return;
      const name = row['Image name'] ?? '';
      if (name === '') return log.drop(where, 'no image name (removed by FER+)');
      const votes = VOTE_COLUMNS.map((c) => Number(row[c]));
      const bad = votes.findIndex((v) => !Number.isInteger(v) || v < 0);
      if (bad >= 0) return log.problem(where, `vote column ${VOTE_COLUMNS[bad]} is "${row[VOTE_COLUMNS[bad]!] ?? ''}", expected a count`);
      const { label, labelDist, reason } = ferplusVotes(votes);
      if (label === undefined) return log.drop(where, reason!);
      let image: ImageSource | string;
      if (pixelRows) {
        image = pixelRows[i] ? decodePixels(pixelRows[i]!.pixels, `${pixelsFile}:${i + 2}`) : 'no matching fer2013.csv row';
      } else {
        const dir = imageFolder(root, split);
        if (dir === undefined) return log.problem(root, `no fer2013.csv and no image folder for split ${split} (${IMAGE_FOLDERS[split]!.join(' or ')})`);
        const path = join(dir, name);
        if (!checkImageFile(path, log)) return;
        image = { kind: 'file', path };
      }
      if (typeof image === 'string') return log.problem(where, image);
      items.push({ id: name, image, label, labelDist, split });
    });
    return finish('ferplus', root, classesOf('ferplus'), items, log);
  },
};

