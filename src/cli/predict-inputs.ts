// What `ferkit predict` was pointed at: a folder of images, one image, or a video, told apart by
// the file extension (src/data/media-kinds.ts).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { extensionsOf, kindOf } from '../data/media-kinds.js';

export interface PredictInput {
  kind: 'images' | 'video';
  files: string[];
}

/** Resolves the argument to image files (a folder's images, sorted, top level) or one video. */
export function resolveInput(path: string): PredictInput {
  if (!existsSync(path)) throw new Error(`${path}: no such file or folder`);
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path).filter((f) => kindOf(f) === 'image').sort().map((f) => join(path, f));
    if (files.length === 0) throw new Error(`${path}: no images in the folder (looked for ${extensionsOf('image').join(' ')})`);
    return { kind: 'images', files };
  }
  const kind = kindOf(path);
  if (!kind) throw new Error(`${path}: unknown file type "${extname(path) || '(none)'}"; give an image (${extensionsOf('image').join(' ')}), a video or a folder`);
  return { kind: kind === 'image' ? 'images' : 'video', files: [path] };
}
