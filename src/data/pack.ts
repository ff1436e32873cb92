// A packed image dataset: one file holding every sample's pixels (one size, grey or RGB), canonical
// labels, ids and subjects. Decoding and resizing happen once, when packing; reading is a single
// file read, and the file moves to another machine (a training box) with nothing else.
// Layout: "FKPACK01", u32 header length, JSON header, then N·H·W·C bytes of pixels.
import { readFile, writeFile, rename } from 'node:fs/promises';
import { DataError } from './errors.js';
import type { Raster } from './image.js';

const MAGIC = 'FKPACK01';

export interface PackHeader {
  format: 'ferkit-pack';
  version: 1;
  width: number;
  height: number;
  channels: 1 | 3;
  count: number;
  /** Canonical label per sample. */
  labels: number[];
  ids: string[];
  subjects?: (string | null)[];
  /** Where the samples came from (dataset, root, split). */
  source?: Record<string, unknown>;
}

export async function writePack(path: string, samples: ReadonlyArray<{ id: string; label: number; subject?: string; raster: Raster }>, source: Record<string, unknown> = {}): Promise<void> {
  if (samples.length === 0) throw new Error(`${path}: nothing to pack`);
  const { width, height, channels } = samples[0].raster;
  const per = width * height * channels;
  const pixels = Buffer.alloc(per * samples.length);
  samples.forEach((s, i) => {
    const r = s.raster;
    if (r.width !== width || r.height !== height || r.channels !== channels) throw new Error(`${s.id}: ${r.width}x${r.height}x${r.channels}, the pack is ${width}x${height}x${channels}`);
    pixels.set(r.data, i * per);
  });
  const header: PackHeader = {
    format: 'ferkit-pack',
    version: 1,
    width,
    height,
    channels,
    count: samples.length,
    labels: samples.map((s) => s.label),
    ids: samples.map((s) => s.id),
    ...(samples.some((s) => s.subject !== undefined) ? { subjects: samples.map((s) => s.subject ?? null) } : {}),
    source,
  };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, Buffer.concat([Buffer.from(MAGIC), len, json, pixels]));
  await rename(tmp, path);
}

export async function readPack(path: string): Promise<{ header: PackHeader; frame: (i: number) => Raster }> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new DataError(path, `cannot read pack (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) throw new DataError(path, 'not a ferkit pack (bad magic)');
  const len = buf.readUInt32LE(8);
  let header: PackHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + len)) as PackHeader;
  } catch {
    throw new DataError(path, 'corrupt pack header');
  }
  const per = header.width * header.height * header.channels;
  const start = 12 + len;
  if (buf.length - start !== per * header.count) throw new DataError(path, `truncated pack: ${buf.length - start} pixel bytes for ${header.count} samples of ${per}`);
  if (header.labels.length !== header.count || header.ids.length !== header.count) throw new DataError(path, 'pack header lists do not match its count');
  const pixels = new Uint8Array(buf.buffer, buf.byteOffset + start, per * header.count);
  return {
    header,
    frame: (i) => ({ width: header.width, height: header.height, channels: header.channels, data: pixels.subarray(i * per, (i + 1) * per) }),
  };
}
