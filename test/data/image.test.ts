// Image decoding on real files (CK+48 PNG, FER2013 JPEG), every format we claim, EXIF orientation,
// broken files, PIL-bilinear resize golden values and the raster → tensor conversion.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { DataError } from '../../src/data/errors.js';
import {
  crop,
  decodeImage,
  decodeImageFile,
  rastersToFloat,
  resizeBilinear,
  toGrey,
  type Raster,
} from '../../src/data/image.js';
import { sharedData, tempDir } from './data-fixtures.js';

const ckFile = () => join(sharedData('ckplus48', 'happy'), readdirSync(sharedData('ckplus48', 'happy')).sort()[0]);
const ferFile = () => join(sharedData('fer2013', 'train', 'happy'), readdirSync(sharedData('fer2013', 'train', 'happy')).sort()[0]);
const row = (vals: number[]): Raster => ({ width: vals.length, height: 1, channels: 1, data: Uint8Array.from(vals) });

describe('decodeImage', () => {
  let dir: string;
  before(() => {
    dir = tempDir('image');
  });

  it('reads a CK+48 PNG as grey 48x48, and as RGB with equal channels', async () => {
    const g = await decodeImageFile(ckFile(), { channels: 1 });
    assert.deepEqual([g.width, g.height, g.channels, g.data.length], [48, 48, 1, 48 * 48]);
    const rgb = await decodeImage({ kind: 'file', path: ckFile() });
    assert.equal(rgb.channels, 3);
    for (let i = 0; i < 48 * 48; i++) {
      assert.equal(rgb.data[3 * i], g.data[i]);
      assert.equal(rgb.data[3 * i + 2], g.data[i]);
    }
    const keep = await decodeImageFile(ckFile(), { channels: 'keep' });
    assert.equal(keep.channels, 1);
    const { data, info } = await sharp(ckFile()).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual(Array.from(g.data), Array.from({ length: 48 * 48 }, (_, i) => data[i * info.channels]));
    assert.ok(new Set(g.data).size > 50, 'a real face has many grey levels');
  });

  it('reads the same pixels from PNG, WebP (lossless), TIFF, GIF and BMP', async () => {
    const src = await decodeImageFile(ferFile(), { channels: 3 });
    const raw = { raw: { width: src.width, height: src.height, channels: 3 as const } };
    const png = join(dir, 'x.png');
    await sharp(Buffer.from(src.data), raw).png().toFile(png);
    await sharp(Buffer.from(src.data), raw).webp({ lossless: true }).toFile(join(dir, 'x.webp'));
    await sharp(Buffer.from(src.data), raw).tiff({ compression: 'lzw' }).toFile(join(dir, 'x.tiff'));
    const bmp = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', png, join(dir, 'x.bmp')]);
    assert.equal(bmp.status, 0, 'ffmpeg wrote the BMP');
    for (const ext of ['png', 'webp', 'tiff', 'bmp']) {
      const r = await decodeImageFile(join(dir, `x.${ext}`), { channels: 3 });
      assert.deepEqual([r.width, r.height, r.channels], [48, 48, 3], ext);
      assert.deepEqual(Buffer.from(r.data), Buffer.from(src.data), `${ext} pixels`);
    }
    // GIF is palette-based: a grey image has ≤ 256 levels and survives; check the first frame size.
    const grey = toGrey(src);
    await sharp(Buffer.from(grey.data), { raw: { width: 48, height: 48, channels: 1 } }).gif().toFile(join(dir, 'x.gif'));
    const gif = await decodeImageFile(join(dir, 'x.gif'), { channels: 1 });
    assert.deepEqual([gif.width, gif.height], [48, 48]);
    const mad = gif.data.reduce((a, v, i) => a + Math.abs(v - grey.data[i]), 0) / gif.data.length;
    assert.ok(mad < 3, `gif mean abs diff ${mad}`);
  });

  it('applies EXIF orientation (6 = rotate 90° clockwise for display)', async () => {
    const src = await decodeImageFile(ferFile(), { channels: 1 });
    const wide = crop(src, 0, 0, 48, 24); // non-square so the turn shows in the size
    const file = join(dir, 'exif.jpg');
    await sharp(Buffer.from(wide.data), { raw: { width: 48, height: 24, channels: 1 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(file);
    const r = await decodeImageFile(file, { channels: 1 });
    assert.deepEqual([r.width, r.height], [24, 48]);
    // Clockwise: displayed (x, y) = stored (y, H − 1 − x).
    let err = 0;
    for (let y = 0; y < 48; y++) for (let x = 0; x < 24; x++) err += Math.abs(r.data[y * 24 + x] - wide.data[(23 - x) * 48 + y]);
    assert.ok(err / (24 * 48) < 4, `rotated content differs by ${err / (24 * 48)} per pixel`);
  });

  it('names the file and the problem for truncated, empty, garbage and missing files', async () => {
    const bytes = readFileSync(ferFile());
    const cut = join(dir, 'truncated.jpg');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const empty = join(dir, 'empty.jpg');
    writeFileSync(empty, '');
    const junk = join(dir, 'junk.png');
    writeFileSync(junk, 'this is not an image');
    const cases: [string, RegExp][] = [
      [cut, /cannot decode image/],
      [empty, /empty file/],
      [junk, /not an image/],
      [join(dir, 'missing.png'), /file not found/],
    ];
    for (const [file, problem] of cases) {
      await assert.rejects(decodeImageFile(file), (e: unknown) => {
        assert.ok(e instanceof DataError, `${file}: ${String(e)}`);
        assert.equal(e.file, file);
        assert.match(e.problem, problem);
        assert.ok(e.message.startsWith(`${file}: `));
        return true;
      });
    }
  });

  it('checks pixel sources and converts their channels', async () => {
    const r = await decodeImage({ kind: 'pixels', width: 2, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0, 0, 0, 255]), origin: 'row 7' }, { channels: 1 });
    assert.deepEqual(Array.from(r.data), [76, 29]); // PIL 'L' of pure red and pure blue
    await assert.rejects(decodeImage({ kind: 'pixels', width: 3, height: 1, channels: 1, data: new Uint8Array(2), origin: 'row 9' }), /row 9: raster buffer holds 2 bytes/);
  });
});

describe('resizeBilinear (PIL bilinear)', () => {
  it('upscales with half-pixel centres and clamped edges', () => {
    assert.deepEqual(Array.from(resizeBilinear(row([0, 255]), 4, 1).data), [0, 64, 191, 255]);
  });
  it('downscales with a widened (antialiasing) triangle filter', () => {
    // centre 1: weights .75,.75,.25 over [0,100,200] → 71.4; centre 3: .25,.75,.75 over [100,200,255] → 209.3
    assert.deepEqual(Array.from(resizeBilinear(row([0, 100, 200, 255]), 2, 1).data), [71, 209]);
  });
  it('keeps a constant image constant and resizes a crop box like crop-then-resize', async () => {
    const c: Raster = { width: 5, height: 4, channels: 3, data: new Uint8Array(60).fill(77) };
    assert.ok(resizeBilinear(c, 9, 7).data.every((v) => v === 77));
    const face = await decodeImageFile(ferFile(), { channels: 1 });
    const a = resizeBilinear(face, 112, 112, [5, 7, 30, 33]);
    const b = resizeBilinear(crop(face, 5, 7, 30, 33), 112, 112);
    assert.deepEqual(a.data, b.data);
    assert.deepEqual([a.width, a.height], [112, 112]);
  });
});

describe('rastersToFloat', () => {
  it('gives NHWC float in [0,1], or (x − mean)/std', () => {
    const r: Raster = { width: 2, height: 1, channels: 3, data: Uint8Array.from([0, 51, 255, 255, 255, 255]) };
    const v = rastersToFloat([r, r]);
    assert.equal(v.length, 2 * 1 * 2 * 3);
    assert.ok(Math.abs(v[1] - 0.2) < 1e-6 && v[2] === 1 && v[0] === 0);
    const w = rastersToFloat([r], { mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1] });
    assert.ok(Math.abs(w[0] - -2) < 1e-6 && Math.abs(w[1] - -0.6) < 1e-6 && Math.abs(w[2] - 0.5) < 1e-6);
    assert.throws(() => rastersToFloat([r, { ...r, width: 1, data: new Uint8Array(3) }]), /image 1 is 1x1x3/);
  });
});
