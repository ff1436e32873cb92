// What `ferkit batch` was pointed at, as a list of sources (absolute paths or http(s) URLs): every
// image and video under a folder (recursively, sorted), the lines of a list file (paths relative
// to the list, or URLs; # comments), the files a glob matches, or one file. Entries of a list are
// kept even when missing or of an unknown type: they become failed items with their error.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { extensionsOf, kindOf } from '../data/media-kinds.js';
import type { ItemTask } from './item.js';

export interface Source {
  source: string;
  kind: ItemTask['kind'];
}

const LIST_EXTENSIONS = ['.txt', '.list', '.lst'];

const isUrl = (s: string) => /^https?:\/\//i.test(s);

function urlSource(url: string): Source {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return { source: url, kind: 'unknown' };
  }
  return { source: url, kind: kindOf(pathname) ?? 'auto' };
}

function walk(dir: string): Source[] {
  const names = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  return names
    .filter((n) => kindOf(n) !== undefined)
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile())
    .sort()
    .map((p) => ({ source: p, kind: kindOf(p)! }));
}

function readList(file: string): Source[] {
  const base = dirname(file);
  const out: Source[] = [];
  for (const raw of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (isUrl(line)) {
      out.push(urlSource(line));
      continue;
    }
    const path = isAbsolute(line) ? line : resolve(base, line);
    if (existsSync(path) && statSync(path).isDirectory()) out.push(...walk(path));
    else out.push({ source: path, kind: kindOf(path) ?? 'unknown' });
  }
  return out;
}

const usage = `give a folder, a list file (${LIST_EXTENSIONS.join(' ')}: one path or http(s) URL a line), a glob ("photos/**/*.jpg"), an image or a video`;

/** The sources of one command-line argument. */
export async function sourcesOf(arg: string): Promise<Source[]> {
  if (isUrl(arg)) return [urlSource(arg)];
  if (existsSync(arg)) {
    const path = resolve(arg);
    if (statSync(path).isDirectory()) {
      const found = walk(path);
      if (found.length === 0) throw new Error(`${arg}: no images or videos under the folder (looked for ${[...extensionsOf('image'), ...extensionsOf('video')].join(' ')})`);
      return found;
    }
    const kind = kindOf(path);
    if (kind) return [{ source: path, kind }];
    if (LIST_EXTENSIONS.includes(extname(path).toLowerCase())) return readList(path);
    throw new Error(`${arg}: unknown file type "${extname(path) || '(none)'}"; ${usage}`);
  }
  if (isDynamicPattern(arg)) {
    const files = (await glob([arg], { absolute: true, onlyFiles: true, caseSensitiveMatch: false })).filter((f) => kindOf(f) !== undefined).sort();
    if (files.length === 0) throw new Error(`${arg}: the glob matches no images or videos`);
    return files.map((f) => ({ source: f, kind: kindOf(f)! }));
  }
  throw new Error(`${arg}: no such file or folder; ${usage}`);
}

/** Sources of all arguments, first occurrence kept. */
export async function collectSources(args: readonly string[]): Promise<Source[]> {
  const seen = new Set<string>();
  const out: Source[] = [];
  for (const arg of args) {
    for (const s of await sourcesOf(arg)) {
      if (seen.has(s.source)) continue;
      seen.add(s.source);
      out.push(s);
    }
  }
  return out;
}
