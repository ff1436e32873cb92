// Video through ffmpeg on real frames: CK+48 sequences encoded to mp4 and decoded back (count,
// size, timestamps, pixels), frame selection, rotation metadata, variable frame rate, bad files.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../src/data/errors.js';
import { decodeImage, decodeImageFile, resizeBilinear, type Raster } from '../../src/data/image.js';
import { decodeVideo, decodeVideoFrame, encodeVideo, evenlySpaced, probeVideo } from '../../src/data/video.js';
import { ckSequences, tempDir } from './data-fixtures.js';

const meanAbsDiff = (a: Raster, b: Raster) => a.data.reduce((s, v, i) => s + Math.abs(v - b.data[i]), 0) / a.data.length;

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

describe('video decoding (ffmpeg)', () => {
  let dir: string;
  let frames: Raster[];
  let mp4: string;
  before(async () => {
    dir = tempDir('video');
    // Four real CK+48 sequences back to back: 12 frames, 48x48, upscaled to 96x64 (non-square).
    const seqs = [...ckSequences().values()].slice(0, 4);
    frames = [];
    for (const s of seqs) for (const f of s.frames) frames.push(resizeBilinear(await decodeImageFile(f, { channels: 3 }), 96, 64));
    mp4 = join(dir, 'ck.mp4');
    await encodeVideo(frames, mp4, 10);
  });

  it('encodes real frames and decodes them back: count, size, times, pixels', async () => {
    const info = await probeVideo(mp4);
    assert.deepEqual([info.width, info.height, info.frameCount, info.rotation, info.codec], [96, 64, 12, 0, 'h264']);
    assert.ok(Math.abs(info.fps - 10) < 1e-6 && !info.variableFrameRate);
    const d = await decodeVideo(mp4);
    assert.equal(d.frames.length, 12);
    assert.deepEqual(d.indices, Array.from({ length: 12 }, (_, i) => i));
    d.timestamps.forEach((t, i) => assert.ok(Math.abs(t - i / 10) < 1e-6, `frame ${i} at ${t}`));
    for (const [i, f] of d.frames.entries()) {
      assert.deepEqual([f.width, f.height, f.channels], [96, 64, 3]);
      assert.ok(meanAbsDiff(f, frames[i]) < 4, `frame ${i} differs by ${meanAbsDiff(f, frames[i])}`);
    }
    // Frames from different subjects really differ: the comparison above can fail.
    assert.ok(meanAbsDiff(d.frames[0], frames[9]) > 10);
    const grey = await decodeVideo(mp4, { channels: 1, size: [48, 32] });
    assert.deepEqual([grey.frames[0].width, grey.frames[0].height, grey.frames[0].channels], [48, 32, 1]);
  });

  it('selects frames by index (in the order asked), evenly spaced, or at a rate', async () => {
    const all = await decodeVideo(mp4);
    const sel = await decodeVideo(mp4, { indices: [7, 2, 7, 11] });
    assert.deepEqual(sel.indices, [7, 2, 7, 11]);
    assert.deepEqual(sel.timestamps.map((t) => Math.round(t * 10)), [7, 2, 7, 11]);
    [7, 2, 7, 11].forEach((f, i) => assert.deepEqual(sel.frames[i].data, all.frames[f].data));
    assert.deepEqual(evenlySpaced(12, 4), [1, 4, 7, 10]);
    const even = await decodeVideo(mp4, { count: 4 });
    assert.deepEqual(even.indices, [1, 4, 7, 10]);
    const slow = await decodeVideo(mp4, { fps: 5 });
    assert.equal(slow.frames.length, 6);
    slow.timestamps.forEach((t, i) => assert.ok(Math.abs(t - i * 0.2) < 1e-6));
    const one = await decodeVideoFrame(mp4, 5);
    assert.deepEqual(one.data, all.frames[5].data);
    const viaSource = await decodeImage({ kind: 'video-frame', path: mp4, index: 5 }, { channels: 1 });
    assert.equal(viaSource.channels, 1);
    await assert.rejects(decodeVideo(mp4, { indices: [12] }), /ck\.mp4: frame 12 requested; the video has 12 frames/);
  });

  it('applies rotation metadata: frames come out upright, probe reports the displayed size', async () => {
    const rotated = join(dir, 'rotated.mp4');
    ffmpeg(['-i', mp4, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
    const info = await probeVideo(rotated);
    assert.ok(info.rotation === 90 || info.rotation === 270, `rotation ${info.rotation}`);
    assert.deepEqual([info.width, info.height, info.codedWidth, info.codedHeight], [64, 96, 96, 64]);
    const up = await decodeVideo(rotated, { indices: [3] });
    const plain = await decodeVideo(mp4, { indices: [3] });
    const a = plain.frames[0];
    const b = up.frames[0];
    assert.deepEqual([b.width, b.height], [64, 96]);
    // rotation = degrees clockwise: 90 → displayed(x, y) = stored(y, H−1−x); 270 the other way.
    let err = 0;
    for (let y = 0; y < b.height; y++)
      for (let x = 0; x < b.width; x++) {
        const [sx, sy] = info.rotation === 90 ? [y, a.height - 1 - x] : [a.width - 1 - y, x];
        for (let c = 0; c < 3; c++) err += Math.abs(b.data[(y * b.width + x) * 3 + c] - a.data[(sy * a.width + sx) * 3 + c]);
      }
    assert.equal(err, 0, 'the upright frame is the stored frame turned by the reported angle');
    const raw = await decodeVideo(rotated, { indices: [3], autorotate: false });
    assert.deepEqual(raw.frames[0].data, a.data);
  });

  it('reports the true times of a variable-frame-rate video', async () => {
    const vfr = join(dir, 'vfr.mkv');
    ffmpeg(['-i', mp4, '-vf', "setpts='if(lt(N,6),N*0.1,0.6+(N-6)*0.3)/TB'", '-fps_mode', 'passthrough', '-c:v', 'libx264', vfr]);
    const info = await probeVideo(vfr);
    assert.ok(info.variableFrameRate, `fps ${info.fps} vs base ${info.baseFps}`);
    const d = await decodeVideo(vfr);
    assert.equal(d.frames.length, 12);
    const want = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1];
    d.timestamps.forEach((t, i) => assert.ok(Math.abs(t - want[i]) < 1e-3, `frame ${i}: ${t} vs ${want[i]}`));
  });

  it('names the file for missing, empty, non-video and truncated input', async () => {
    const empty = join(dir, 'empty.mp4');
    writeFileSync(empty, '');
    const text = join(dir, 'text.mp4');
    writeFileSync(text, 'not a video at all\n'.repeat(20));
    const cut = join(dir, 'cut.mp4');
    writeFileSync(cut, readFileSync(mp4).subarray(0, 300));
    const cases: [string, RegExp][] = [
      [join(dir, 'missing.mp4'), /file not found/],
      [empty, /empty file/],
      [text, /not a video ffprobe can read/],
      [cut, /not a video ffprobe can read|no video stream|could not decode|no frames/],
    ];
    for (const [file, problem] of cases) {
      await assert.rejects(decodeVideo(file), (e: unknown) => {
        assert.ok(e instanceof DataError, String(e));
        assert.equal(e.file, file);
        assert.match(e.problem, problem);
        return true;
      });
    }
  });
});
