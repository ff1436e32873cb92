// CK+ (Lucey et al. 2010) in two layouts:
//  - original: `cohn-kanade-images/S005/001/*.png` sequences from neutral to peak, labelled by
//    `Emotion/S005/001/*_emotion.txt` (one code 0-7; unlabelled sequences are skipped);
//  - CK+48: folder per class of `S<subject>_<seq>_<frame>.png`, the last 3 frames of each sequence.
// As images (`ckplus`): every CK+48 image; for the original layout the last 3 frames of each
// labelled sequence, so both layouts give the same kind of samples (peak frames, no neutral).
// As clips (`ckplus-clips`): the whole labelled sequence (original) or the 3-frame groups (CK+48).
// Subject = `S005`; always split CK+ by subject (frames of one sequence are near-duplicates).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { ProblemLog } from '../errors.js';
import { labelFromCode } from '../labels.js';
import type { ClipSample, ImageSample } from '../types.js';
import { readClassFolders } from './folder.js';
import { finish, refuseSplit, listDirs, listFrames, requireDir, type DatasetReader, type ReadOptions } from './common.js';

const PEAK_FRAMES = 3;
const CK48_NAME = /^(S\d+)_(\d+)_(\d+)\.[a-z]+$/i;

interface Sequence {
  id: string;
  subject: string;
  label: number;
  frames: string[];
}

/** Labelled sequences of the original CK+ layout. */
function originalSequences(root: string, log: ProblemLog): Sequence[] {
  const images = join(root, 'cohn-kanade-images');
  const emotion = join(root, 'Emotion');
  requireDir(emotion, 'CK+ Emotion folder');
  const out: Sequence[] = [];
  for (const subject of listDirs(emotion)) {
    for (const seq of listDirs(join(emotion, subject))) {
      const labelDir = join(emotion, subject, seq);
      const labelFiles = listNames(labelDir).filter((f) => f.endsWith('_emotion.txt'));
      if (labelFiles.length === 0) continue; // CK+ labels only some sequences
      const labelFile = join(labelDir, labelFiles[0]!);
      const text = readFileSync(labelFile, 'utf8').trim();
      const code = Number(text);
      const label = Number.isInteger(code) ? labelFromCode('ckplus', code) : undefined;
      if (label === undefined) {
        log.problem(labelFile, `unknown label "${text}" (CK+ emotion codes are 0-7)`);
        continue;
      }
      const frames = listFrames(join(images, subject, seq), log);
      if (frames === undefined) continue;
      if (frames.length === 0) {
        log.problem(join(images, subject, seq), 'sequence folder has no images');
        continue;
      }
      out.push({ id: `${subject}/${seq}`, subject, label, frames });
    }
  }
  return out;
}

/** All file names in a folder (Emotion folders hold .txt files, which listImages skips). */
function listNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** CK+48 images with subjects parsed from their names. */
function ck48Images(root: string, log: ProblemLog): ImageSample[] {
  const items = readClassFolders(root, root, undefined, log);
  const kept: ImageSample[] = [];
  for (const s of items) {
    const m = CK48_NAME.exec(basename(s.id));
    if (!m) {
      log.problem(join(root, s.id), 'file name is not S<subject>_<sequence>_<frame>');
      continue;
    }
    kept.push({ ...s, subject: m[1]! });
  }
  return kept;
}

function ck48Sequences(root: string, log: ProblemLog): Sequence[] {
  const groups = new Map<string, Sequence>();
  for (const s of ck48Images(root, log)) {
    const m = CK48_NAME.exec(basename(s.id))!;
    const id = `${m[1]}_${m[2]}`;
    const path = (s.image as { path: string }).path;
    const g = groups.get(id);
    if (!g) groups.set(id, { id, subject: m[1]!, label: s.label, frames: [path] });
    else if (g.label !== s.label) log.problem(path, `sequence ${id} has frames in two class folders`);
    else g.frames.push(path);
  }
  for (const g of groups.values()) g.frames.sort((a, b) => basename(a).localeCompare(basename(b)));
  return [...groups.values()].sort((a, b) => a.id.localeCompare(b.id));
}

const isOriginal = (root: string): boolean => existsSync(join(root, 'cohn-kanade-images'));

export const ckplusReader: DatasetReader = {
  kind: 'image',
  async read(root: string, opts: ReadOptions = {}) {
    refuseSplit('ckplus', root, opts);
    requireDir(root, 'CK+ root');
    const log = new ProblemLog(opts.skipBad);
    let items: ImageSample[];
    if (isOriginal(root)) {
      items = originalSequences(root, log).flatMap((seq) =>
        seq.frames.slice(-PEAK_FRAMES).map((path) => ({
          id: relative(root, path),
          image: { kind: 'file' as const, path },
          label: seq.label,
          subject: seq.subject,
        })),
      );
    } else {
      items = ck48Images(root, log);
    }
    const classes = [...new Set(items.map((s) => s.label))].sort((a, b) => a - b);
    return finish('ckplus', root, classes, items, log);
  },
};

export const ckplusClipsReader: DatasetReader = {
  kind: 'clip',
  async read(root: string, opts: ReadOptions = {}) {
    refuseSplit('ckplus-clips', root, opts);
    requireDir(root, 'CK+ root');
    const log = new ProblemLog(opts.skipBad);
    const seqs = isOriginal(root) ? originalSequences(root, log) : ck48Sequences(root, log);
    const items: ClipSample[] = seqs.map((s) => ({
      id: s.id,
      frames: s.frames.map((path) => ({ kind: 'file' as const, path })),
      label: s.label,
      subject: s.subject,
    }));
    const classes = [...new Set(items.map((s) => s.label))].sort((a, b) => a - b);
    return finish('ckplus-clips', root, classes, items, log);
  },
};
