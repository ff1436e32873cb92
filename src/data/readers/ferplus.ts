// FER+ (Barsoum et al. 2016): the FER2013 faces relabelled by 10 annotators each, with votes over
// neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF (not a face).
// Two layouts:
// - the official one of the FERPlus code: FER2013Train/ FER2013Valid/ FER2013Test/, each holding
//   its images and a `label.csv` (no header: image name, face box, the 10 vote counts);
// - `fer2013new.csv` (Usage, Image name, the 10 vote columns), with the pixels from `fer2013.csv`
//   beside it (row i of one is row i of the other) or from the image folders above.
// The official layout wins when its folders hold a label.csv (`layout: 'votes'` picks the other).
// Label modes (`labelMode`), as the FER+ paper and its code define them:
// - `majority` (default, the official rule): single votes are dropped as outliers; the winner needs
//   more than half of the remaining votes; rows without one, or won by unknown/NF, are left out;
// - `probability`: the official code's vote distribution (the top emotions, at most three, that
//   reach 75% of the votes after outlier removal; rows where they hold half or less, or where
//   unknown/NF ties in, are left out); `labelDist` carries it, `label` is its top class;
// - `plurality`: the top raw vote over the 10 columns, the first on ties, unknown/NF left out
//   (the simple rule some papers use).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
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

const FERPLUS_LABEL_MODES = ['majority', 'probability', 'plurality'] as const;
export type FerplusLabelMode = (typeof FERPLUS_LABEL_MODES)[number];

export interface FerplusLabel {
  /** Canonical class; undefined = the row is left out (`reason` says why). */
  label?: number;
  /** Distribution over the canonical classes (the mode's soft label). */
  labelDist?: number[];
  reason?: string;
}

const toCanonical = (dist8: number[]): number[] => {
  const out = new Array<number>(CANONICAL_CLASSES.length).fill(0);
  for (let i = 0; i < EMOTIONS; i++) out[labelFromCode('ferplus', i)!] = dist8[i]!;
  return out;
};

const argmax = (v: number[]): number => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);

/** One row's label under a mode, from its 10 vote counts. */
export function ferplusLabel(votes: number[], mode: FerplusLabelMode = 'majority'): FerplusLabel {
  if (mode === 'plurality') {
    const best = argmax(votes);
    if (votes[best]! === 0) return { reason: 'no votes' };
    if (best >= EMOTIONS) return { reason: `top vote is ${VOTE_COLUMNS[best]}` };
    const total = votes.slice(0, EMOTIONS).reduce((a, b) => a + b, 0);
    return { label: labelFromCode('ferplus', best)!, labelDist: toCanonical(votes.slice(0, EMOTIONS).map((v) => v / total)) };
  }
  const kept = votes.map((v) => (v <= 1 ? 0 : v)); // single votes are outliers
  const total = kept.reduce((a, b) => a + b, 0);
  if (mode === 'majority') {
    const best = argmax(kept);
    if (total === 0 || kept[best]! * 2 <= total) return { reason: 'no majority vote' };
    if (best >= EMOTIONS) return { reason: `majority vote is ${VOTE_COLUMNS[best]}` };
    const emoTotal = kept.slice(0, EMOTIONS).reduce((a, b) => a + b, 0);
    return { label: labelFromCode('ferplus', best)!, labelDist: toCanonical(kept.slice(0, EMOTIONS).map((v) => v / emoTotal)) };
  }
  // 'probability': the FERPlus code's loop, taking the top vote counts (all columns tied at the top
  // together) until 75% of the votes or three emotions are covered; unknown/NF stop it.
  const left = kept.slice();
  const taken = new Array<number>(kept.length).fill(0);
  let sum = 0;
  let count = 0;
  let valid = true;
  while (sum < 0.75 * total && count < 3 && valid) {
    const max = Math.max(...left);
    for (let i = 0; i < left.length; i++) {
      if (left[i] !== max) continue;
      taken[i] = max;
      left[i] = 0;
      sum += max;
      count++;
      if (i >= EMOTIONS) {
        valid = false;
        if (taken.reduce((a, b) => a + b, 0) > max) {
          taken[i] = 0;
          count--;
        }
        break;
      }
    }
  }
  const takenSum = taken.reduce((a, b) => a + b, 0);
  if (total === 0 || takenSum <= 0.5 * total || count > 3) return { reason: 'votes too spread out' };
  const best = argmax(taken);
  if (best >= EMOTIONS) return { reason: `top vote is ${VOTE_COLUMNS[best]}` };
  return { label: labelFromCode('ferplus', best)!, labelDist: toCanonical(taken.slice(0, EMOTIONS).map((v) => v / takenSum)) };
}

/** The default (official majority) label of a row; kept for callers of the old name. */
export const ferplusVotes = (votes: number[]): FerplusLabel => ferplusLabel(votes, 'majority');

function labelMode(opts: ReadOptions): FerplusLabelMode {
  const m = opts.labelMode ?? 'majority';
  if (!(FERPLUS_LABEL_MODES as readonly string[]).includes(m)) throw new Error(`ferplus: label mode "${m}" is not one of ${FERPLUS_LABEL_MODES.join(', ')}`);
  return m as FerplusLabelMode;
}

function imageFolder(root: string, split: string): string | undefined {
  return (IMAGE_FOLDERS[split] ?? []).map((d) => join(root, d)).find((d) => existsSync(d));
}

/** Checks one row's vote cells; returns the counts or logs the problem. */
function parseVotes(cells: (string | undefined)[], where: string, log: ProblemLog): number[] | undefined {
  const votes = cells.map((c) => Number(c));
  const bad = votes.findIndex((v, i) => cells[i] === undefined || cells[i]!.trim() === '' || !Number.isInteger(v) || v < 0);
  if (bad >= 0) {
    log.problem(where, `vote column ${VOTE_COLUMNS[bad]} is "${cells[bad] ?? ''}", expected a count`);
    return undefined;
  }
  return votes;
}

/** The official layout: <split folder>/label.csv for each split present. */
function readOfficial(root: string, opts: ReadOptions, mode: FerplusLabelMode, log: ProblemLog): ImageSample[] {
  const items: ImageSample[] = [];
  for (const split of Object.keys(IMAGE_FOLDERS)) {
    if (opts.split !== undefined && split !== opts.split) continue;
    const dir = imageFolder(root, split);
    const file = dir && join(dir, 'label.csv');
    if (!file || !existsSync(file)) continue;
    const rows = parse(readFileSync(file, 'utf8'), { relaxColumnCount: true, skipEmptyLines: true }) as string[][];
    rows.forEach((row, i) => {
      const where = `${file}:${i + 1}`;
      if (row.length !== 2 + VOTE_COLUMNS.length) return log.problem(where, `${row.length} columns, expected ${2 + VOTE_COLUMNS.length} (name, face box, 10 vote counts)`);
      const votes = parseVotes(row.slice(2), where, log);
      if (!votes) return;
      const { label, labelDist, reason } = ferplusLabel(votes, mode);
      if (label === undefined) return log.drop(where, reason!);
      const path = join(dir!, row[0]!);
      if (!checkImageFile(path, log)) return;
      items.push({ id: row[0]!, image: { kind: 'file', path }, label, labelDist, split });
    });
  }
  return items;
}

/** fer2013new.csv, with pixels from fer2013.csv or the image folders. */
function readVoteFile(root: string, opts: ReadOptions, mode: FerplusLabelMode, log: ProblemLog): ImageSample[] {
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
    const votes = parseVotes(VOTE_COLUMNS.map((c) => row[c]), where, log);
    if (!votes) return;
    const { label, labelDist, reason } = ferplusLabel(votes, mode);
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
  return items;
}

export const ferplusReader: DatasetReader = {
  kind: 'image',
  async read(root: string, opts: ReadOptions = {}) {
    requireDir(root, 'FER+ root');
    const mode = labelMode(opts);
    const log = new ProblemLog(opts.skipBad);
    const official = Object.keys(IMAGE_FOLDERS).some((s) => {
      const dir = imageFolder(root, s);
      return dir !== undefined && existsSync(join(dir, 'label.csv'));
    });
    if (opts.layout !== undefined && opts.layout !== 'official' && opts.layout !== 'votes') throw new Error(`ferplus: layout "${opts.layout}" is not official or votes`);
    const items = official && opts.layout !== 'votes' ? readOfficial(root, opts, mode, log) : readVoteFile(root, opts, mode, log);
    return finish('ferplus', root, classesOf('ferplus'), items, log);
  },
};
