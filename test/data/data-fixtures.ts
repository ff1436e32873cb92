// Real data for the data-layer tests: the shared folder beside the checkout, and small fixture
// datasets built in a temp folder from real images (never copied into the repo).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `../shared/data` beside the repo; throws a clear error when it is missing. */
export function sharedData(...parts: string[]): string {
  const p = resolve(repoRoot, '../shared/data', ...parts);
  if (!existsSync(p)) {
    throw new Error(`test data not found: ${p} (the data tests need the real datasets in ../shared/data beside the checkout; see its README)`);
  }
  return p;
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `ferkit-${tag}-`));
}

/** The first `n` real FER2013 val images of a class folder. */
export function ferImages(cls: string, n: number): string[] {
  const dir = sharedData('fer2013', 'val', cls);
  return readdirSync(dir).sort().slice(0, n).map((f) => join(dir, f));
}

/** A real 48x48 JPEG as FER2013's space-separated grey pixel string, and the bytes. */
export async function pixelString(file: string): Promise<{ text: string; data: Uint8Array }> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== 48 || info.height !== 48 || info.channels !== 1) throw new Error(`${file}: expected 48x48 grey`);
  return { text: Array.from(data).join(' '), data: new Uint8Array(data) };
}

/** CK+48 sequences: id `S005_001` → sorted frame paths and class folder. */
export function ckSequences(): Map<string, { cls: string; frames: string[] }> {
  const root = sharedData('ckplus48');
  const out = new Map<string, { cls: string; frames: string[] }>();
  for (const cls of readdirSync(root).sort()) {
    for (const f of readdirSync(join(root, cls)).sort()) {
      const id = f.split('_').slice(0, 2).join('_');
      const e = out.get(id) ?? { cls, frames: [] };
      e.frames.push(join(root, cls, f));
      out.set(id, e);
    }
  }
  return out;
}

/** Copies `files` into `dir` as frames 00001.jpg.. (cycling through them) until there are `n`. */
export async function writeFrames(dir: string, files: string[], n: number, ext = '.jpg'): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const dst = join(dir, `${String(i + 1).padStart(5, '0')}${ext}`);
    await copyAs(files[i % files.length]!, dst);
    out.push(dst);
  }
  return out;
}

/** Copies an image, converting when the extension changes (CK+48 PNG → JPEG frames). */
export async function copyAs(src: string, dst: string): Promise<void> {
  mkdirSync(dirname(dst), { recursive: true });
  const ext = (p: string) => p.slice(p.lastIndexOf('.')).toLowerCase();
  if (ext(src) === ext(dst)) copyFileSync(src, dst);
  else await sharp(src).toFile(dst);
}
