// Images and videos told apart by their file extension (a table, so a new format is one line).
// Shared by `ferkit predict` and `ferkit batch`.
import { extname } from 'node:path';

export type MediaKind = 'image' | 'video';

const MEDIA_EXTENSIONS: Readonly<Record<string, MediaKind>> = {
  '.jpg': 'image', '.jpeg': 'image', '.png': 'image', '.webp': 'image', '.bmp': 'image', '.tif': 'image', '.tiff': 'image', '.gif': 'image', '.avif': 'image',
  '.mp4': 'video', '.mov': 'video', '.m4v': 'video', '.avi': 'video', '.mkv': 'video', '.webm': 'video', '.mpg': 'video', '.mpeg': 'video', '.wmv': 'video',
};

export function kindOf(path: string): MediaKind | undefined {
  return MEDIA_EXTENSIONS[extname(path).toLowerCase()];
}

/** The extensions of one kind, for messages. */
export function extensionsOf(kind: MediaKind): string[] {
  return Object.keys(MEDIA_EXTENSIONS).filter((e) => MEDIA_EXTENSIONS[e] === kind);
}
