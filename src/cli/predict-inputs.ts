// What `ferkit predict` was pointed at: a folder of images, one image, or a video, told apart by
// the file extension (src/data/media-kinds.ts).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { extensionsOf, kindOf } from '../data/media-kinds.js';

export interface PredictInput {
  kind: 'images' | 'video';
  files: string[];
  /** The argument was a folder (its unreadable files are skipped, not fatal). */
  folder: boolean;
}

/** Image files of a folder, sorted; with `recursive`, of its subfolders too (hidden ones and
 *  symbolic links to folders are not entered). */
function folderImages(dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive && !e.name.startsWith('.')) out.push(...folderImages(p, true));
    } else if (kindOf(e.name) === 'image') out.push(p);
  }
  return out;
}

/** Resolves the argument to image files (a folder's images, sorted; subfolders with `recursive`)
 *  or one video. */
export function resolveInput(path: string, opts: { recursive?: boolean } = {}): PredictInput {
  if (!existsSync(path)) throw new Error(`${path}: no such file or folder`);
  if (statSync(path).isDirectory()) {
    const files = folderImages(path, opts.recursive ?? false);
    if (files.length === 0) {
      const sub = !opts.recursive && readdirSync(path, { withFileTypes: true }).some((e) => e.isDirectory()) ? '; it has subfolders: --recursive reads them' : '';
      throw new Error(`${path}: no images in the folder (looked for ${extensionsOf('image').join(' ')})${sub}`);
    }
    return { kind: 'images', files, folder: true };
  }
  const kind = kindOf(path);
  if (!kind) throw new Error(`${path}: unknown file type "${extname(path) || '(none)'}"; give an image (${extensionsOf('image').join(' ')}), a video or a folder`);
  return { kind: kind === 'image' ? 'images' : 'video', files: [path], folder: false };
}
