// safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {...}}
// padded with spaces to 8 bytes, then the raw little-endian tensor bytes. The same files load in
// PyTorch (safetensors.torch.load_file) and ours load theirs.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { tf } from '../engine/backend.js';
import type { LoadStateDictOptions, LoadStateDictResult, Module } from './module.js';

export type Metadata = Record<string, string>;

export interface SafetensorsContent {
  tensors: Record<string, tf.Tensor>;
  metadata: Metadata;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Serialises tensors (float32 → F32, int32 → I32, bool → BOOL) and string metadata. */
export function encodeSafetensors(tensors: Record<string, tf.Tensor>, metadata: Metadata = {}): Uint8Array {
  if (!littleEndian) throw new Error('safetensors writing needs a little-endian host');
  const header: Record<string, HeaderEntry | Metadata> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`safetensors metadata "${k}" must be a string, got ${typeof v}`);
  }
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new Error('"__metadata__" cannot be a tensor name');
    let bytes: Uint8Array;
    let dtype: string;
    if (t.dtype === 'float32') {
      dtype = 'F32';
      bytes = new Uint8Array(Float32Array.from(t.dataSync() as Float32Array).buffer);
    } else if (t.dtype === 'int32') {
      dtype = 'I32';
      bytes = new Uint8Array(Int32Array.from(t.dataSync() as Int32Array).buffer);
    } else if (t.dtype === 'bool') {
      dtype = 'BOOL';
      bytes = Uint8Array.from(t.dataSync() as Uint8Array);
    } else {
      throw new Error(`safetensors: tensor "${name}" has dtype ${t.dtype}, which cannot be stored`);
    }
    header[name] = { dtype, shape: t.shape.slice(), data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8); // data starts 8-aligned
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/** Parses a safetensors buffer into tensors (F16/BF16/F64 → float32, integers → int32). */
export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContent {
  const fail = (msg: string): never => {
    throw new Error(`${source}: not a valid safetensors file: ${msg}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.length - 8) fail(`header length ${headerLen} exceeds the file (${bytes.length} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLen).toString('utf8'));
  } catch (e) {
    return fail(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Metadata = {};
  const entries: [string, HeaderEntry][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((raw ?? {}) as Record<string, unknown>)) metadata[k] = String(v);
      continue;
    }
    const e = raw as HeaderEntry;
    if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      fail(`entry "${name}" lacks dtype, shape or data_offsets`);
    }
    if (!(e.dtype in BYTES)) fail(`entry "${name}" has unsupported dtype ${e.dtype}`);
    const [b, end] = e.data_offsets;
    const n = e.shape.reduce((a, d) => a * d, 1);
    if (!(Number.isInteger(b) && Number.isInteger(end) && b >= 0 && end >= b && end <= dataLen)) {
      fail(`entry "${name}" data_offsets [${b}, ${end}] fall outside the ${dataLen} data bytes`);
    }
    if (end - b !== n * BYTES[e.dtype]) fail(`entry "${name}": ${end - b} bytes for shape [${e.shape}] of ${e.dtype}`);
    entries.push([name, e]);
  }
  const tensors: Record<string, tf.Tensor> = {};
  try {
    for (const [name, e] of entries) {
      const [b, end] = e.data_offsets;
      const chunk = bytes.slice(dataStart + b, dataStart + end); // copy: aligned for typed arrays
      tensors[name] = tf.tensor(toTyped(chunk, e.dtype, `${source}: "${name}"`), e.shape, e.dtype === 'BOOL' ? 'bool' : e.dtype.startsWith('F') || e.dtype === 'BF16' ? 'float32' : 'int32');
    }
  } catch (err) {
    tf.dispose(Object.values(tensors));
    throw err;
  }
  return { tensors, metadata };
}

function toTyped(chunk: Uint8Array, dtype: string, where: string): Float32Array | Int32Array | Uint8Array {
  const dv = new DataView(chunk.buffer);
  const n = chunk.length / BYTES[dtype];
  switch (dtype) {
    case 'F32':
      return littleEndian ? new Float32Array(chunk.buffer) : Float32Array.from({ length: n }, (_, i) => dv.getFloat32(4 * i, true));
    case 'F64':
      return Float32Array.from({ length: n }, (_, i) => dv.getFloat64(8 * i, true));
    case 'F16':
      return Float32Array.from({ length: n }, (_, i) => halfToFloat(dv.getUint16(2 * i, true)));
    case 'BF16': {
      const f = new DataView(new ArrayBuffer(4));
      return Float32Array.from({ length: n }, (_, i) => (f.setUint32(0, dv.getUint16(2 * i, true) << 16), f.getFloat32(0)));
    }
    case 'I64':
      return Int32Array.from({ length: n }, (_, i) => {
        const v = dv.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) throw new Error(`${where}: int64 value ${v} does not fit int32`);
        return Number(v);
      });
    case 'I32':
      return littleEndian ? new Int32Array(chunk.buffer) : Int32Array.from({ length: n }, (_, i) => dv.getInt32(4 * i, true));
    case 'I16':
      return Int32Array.from({ length: n }, (_, i) => dv.getInt16(2 * i, true));
    case 'I8':
      return Int32Array.from(new Int8Array(chunk.buffer));
    case 'U8':
      return Int32Array.from(chunk);
    default: // BOOL
      return chunk;
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (m / 1024);
  if (e === 31) return m ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + m / 1024);
}

// Weights fingerprints: SHA-256 over every tensor, in name order, of its name, dtype (as stored:
// F32, I32, BOOL), shape and little-endian bytes. The same weights give the same fingerprint in
// memory and in any file that holds them, whatever the file's tensor order or metadata.
const FINGERPRINT_PREFIX = 'sha256:';
const STORED: Record<string, string> = { float32: 'F32', int32: 'I32', bool: 'BOOL' };

function fingerprintOf(entries: [string, string, readonly number[], Uint8Array][]): string {
  const h = createHash('sha256');
  for (const [name, dtype, shape, bytes] of entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    h.update(`${name}\n${dtype}\n${shape.join(',')}\n`).update(bytes);
  }
  return FINGERPRINT_PREFIX + h.digest('hex');
}

/** Fingerprint of tensors in memory (a module's state dict). */
export function fingerprintTensors(tensors: Record<string, tf.Tensor>): string {
  return fingerprintOf(
    Object.entries(tensors).map(([name, t]) => {
      const dtype = STORED[t.dtype];
      if (!dtype) throw new Error(`fingerprint: tensor "${name}" has dtype ${t.dtype}`);
      const data = t.dataSync();
      const bytes = t.dtype === 'bool' ? Uint8Array.from(data as Uint8Array) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return [name, dtype, t.shape, bytes];
    }),
  );
}

/** Fingerprint of the weights in a safetensors file: read from its bytes when they are stored as
 *  ferkit stores them, else from the decoded tensors. */
function fingerprintSafetensors(bytes: Uint8Array, source = '<buffer>'): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = bytes.length >= 8 ? Number(view.getBigUint64(0, true)) : -1;
  let header: Record<string, HeaderEntry> | undefined;
  try {
    if (headerLen >= 0 && headerLen <= bytes.length - 8) header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLen).toString('utf8'));
  } catch {
    header = undefined;
  }
  const entries = header && Object.entries(header).filter(([k]) => k !== '__metadata__');
  if (entries && entries.every(([, e]) => Object.values(STORED).includes(e.dtype) && Array.isArray(e.data_offsets))) {
    const start = 8 + headerLen;
    return fingerprintOf(entries.map(([name, e]) => [name, e.dtype, e.shape, bytes.subarray(start + e.data_offsets[0], start + e.data_offsets[1])]));
  }
  const { tensors } = decodeSafetensors(bytes, source);
  try {
    return fingerprintTensors(tensors);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** Fingerprint of a safetensors file's weights. */
export async function fingerprintFile(path: string): Promise<string> {
  const bytes = await readFile(path);
  return fingerprintSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** Names of the float tensors of a safetensors buffer holding NaN or ±Infinity (read in place). */
export function nonFiniteSafetensors(bytes: Uint8Array, source = '<buffer>'): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLen).toString('utf8')) as Record<string, HeaderEntry>;
  const start = 8 + headerLen;
  const bad: string[] = [];
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__' || e.dtype !== 'F32') continue;
    const [a, z] = e.data_offsets;
    if (start + z > bytes.length) throw new Error(`${source}: entry "${name}" runs past the end of the file`);
    for (let p = start + a; p < start + z; p += 4) {
      if (!Number.isFinite(view.getFloat32(p, true))) {
        bad.push(name);
        break;
      }
    }
  }
  return bad;
}

/** Names of tensors holding NaN or ±Infinity. */
export function nonFiniteTensors(tensors: Record<string, tf.Tensor>): string[] {
  return Object.entries(tensors)
    .filter(([, t]) => t.dtype === 'float32' && !(t.dataSync() as Float32Array).every(Number.isFinite))
    .map(([name]) => name);
}

/** Writes atomically (temp file, then rename) so a crash never leaves half a checkpoint. */
export async function saveSafetensors(path: string, tensors: Record<string, tf.Tensor>, metadata: Metadata = {}): Promise<void> {
  const bytes = encodeSafetensors(tensors, metadata);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

export async function loadSafetensors(path: string): Promise<SafetensorsContent> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot read checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** Saves a module's state dict (our layouts) with metadata. */
export async function saveModule(path: string, module: Module, metadata: Metadata = {}): Promise<void> {
  await saveSafetensors(path, module.stateDict(), { format: 'ferkit', ...metadata });
}

/** Loads a file written by saveModule into `module`; returns the file's metadata. */
export async function loadModule(path: string, module: Module, options: LoadStateDictOptions = {}): Promise<LoadStateDictResult & { metadata: Metadata }> {
  const { tensors, metadata } = await loadSafetensors(path);
  try {
    return { metadata, ...module.loadStateDict(tensors, { source: path, ...options }) };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
