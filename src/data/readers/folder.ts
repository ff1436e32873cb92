// Folder-per-class images (`<root>/<class>/*.jpg`), optionally under split folders
// (`<root>/<split>/<class>/*`). Class folder names go through the label synonyms.
import { join, relative } from 'node:path';
import { ProblemLog } from '../errors.js';
import { labelFromName } from '../labels.js';
import type { ImageSample } from '../types.js';
import { canonicalSplit, checkImageFile, finish, listDirs, listImages, requireDir, type DatasetReader, type ReadOptions } from './common.js';

/** Reads one `<dir>/<class>/*` level into samples. Exported for readers built on it (CK+48). */
export function readClassFolders(root: string, dir: string, split: string | undefined, log: ProblemLog): ImageSample[] {
  const items: ImageSample[] = [];
  for (const name of listDirs(dir)) {
    const classDir = join(dir, name);
    const label = labelFromName(name);
    if (label === undefined) {
      log.problem(classDir, `unknown label "${name}" (folder name is not an expression class)`);
      continue;
    }
    const files = listImages(classDir);
    if (files.length === 0) {
      log.problem(classDir, `class folder "${name}" has no images`);
      continue;
    }
    for (const f of files) {
      const path = join(classDir, f);
      if (!checkImageFile(path, log)) continue;
      items.push({ id: relative(root, path), image: { kind: 'file', path }, label, ...(split ? { split } : {}) });
    }
  }
  return items;
}

/** Split folders present under root (train/ val/ test/ ...) mapped to canonical split names. */
function splitFolders(root: string): Map<string, string> {
  const splits = new Map<string, string>();
  for (const d of listDirs(root)) {
    const s = canonicalSplit(d);
    if (s !== undefined && labelFromName(d) === undefined) splits.set(s, d);
  }
  return splits;
}

export const folderReader: DatasetReader = {
  kind: 'image',
  async read(root: string, opts: ReadOptions = {}) {
    requireDir(root, 'dataset root');
    const log = new ProblemLog(opts.skipBad);
    const splits = splitFolders(root);
    let items: ImageSample[] = [];
    if (splits.size === 0) {
      if (opts.split !== undefined) {
        log.problem(root, `no split folder "${opts.split}" (no train/val/test folders here)`);
      } else {
        items = readClassFolders(root, root, undefined, log);
      }
    } else {
      const wanted = opts.split === undefined ? [...splits.keys()] : [canonicalSplit(opts.split) ?? opts.split];
      for (const s of wanted) {
        const folder = splits.get(s);
        if (folder === undefined) {
          log.problem(root, `no split folder "${opts.split}" (found: ${[...splits.values()].join(', ')})`);
          continue;
        }
        items.push(...readClassFolders(root, join(root, folder), s, log));
      }
    }
    const classes = [...new Set(items.map((s) => s.label))].sort((a, b) => a - b);
    return finish('folder', root, classes, items, log);
  },
};
