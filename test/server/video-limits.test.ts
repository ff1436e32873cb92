// Videos of any size or length: frames stream through at the analysis size with bounded memory;
// length and pixel limits hold on what the frames are, not on what the container says; the server
// survives what used to crash it (a 52 KB 4096x4096 video), refuses a 60 s raw H.264 stream that
// has no duration, and leaves no temp folder or temp path behind. Videos are made with ffmpeg here.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadRecognizer, type Recognizer } from '../../src/api/index.js';
import { DataError } from '../../src/data/errors.js';
import { openVideo } from '../../src/data/video.js';
import { buildServer } from '../../src/server/app.js';
import { tempDir } from '../data/data-fixtures.js';

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

/** Highest RSS while `f` runs (sampled every 20 ms and after each await it makes). */
async function peakRssDuring<T>(f: (sample: () => void) => Promise<T>): Promise<{ result: T; growth: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 20);
  try {
    const result = await f(sample);
    sample();
    return { result, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

const MB = 2 ** 20;

describe('videos of any size and length', () => {
  let dir: string;
  let big: string;
  let raw60: string;
  let rec: Recognizer;
  let app: FastifyInstance;
  before(async () => {
    dir = tempDir('video-limits');
    // The input: 18 s of flat grey at 4096x4096 (52 KB; 50 MB per decoded frame).
    big = join(dir, 'grey-4096.mp4');
    ffmpeg(['-f', 'lavfi', '-i', 'color=c=gray:s=4096x4096:r=5', '-t', '18', '-c:v', 'libx264', '-preset', 'ultrafast', big]);
    // A raw H.264 elementary stream: no container, no duration; 60 s at 5 fps.
    raw60 = join(dir, 'sixty.h264');
    ffmpeg(['-f', 'lavfi', '-i', 'color=c=gray:s=64x64:r=5', '-t', '60', '-c:v', 'libx264', '-f', 'h264', raw60]);
    rec = await loadRecognizer();
    app = await buildServer({ recognizer: rec, limits: { videoFps: 1 } });
    // Warm the detector and model at the analysis size, so memory measured later is the video's.
    await rec.recognize({ width: 1280, height: 1280, channels: 3, data: new Uint8Array(1280 * 1280 * 3).fill(128) });
  });
  after(async () => {
    await app.close();
  });

  it('openVideo streams a 4096x4096 video frame by frame at the analysis size, memory bounded', async () => {
    const { result, growth } = await peakRssDuring(async (sample) => {
      const v = await openVideo(big, { maxSide: 1280 });
      assert.deepEqual([v.info.width, v.info.height, v.width, v.height, v.fps], [4096, 4096, 1280, 1280, 5]);
      const times: number[] = [];
      for await (const f of v.frames) {
        assert.deepEqual([f.image.width, f.image.height, f.image.data.length], [1280, 1280, 1280 * 1280 * 3]);
        times.push(f.time);
        sample();
      }
      return times;
    });
    assert.equal(result.length, 90);
    result.forEach((t, i) => assert.ok(Math.abs(t - i / 5) < 1e-6, `frame ${i} at ${t}`));
    // All 90 frames at full size would be 4.5 GB; a few frames in flight are well under 200 MB.
    assert.ok(growth < 200 * MB, `RSS grew ${(growth / MB).toFixed(0)} MB`);
  });

  it('limits hold on the frames themselves: a stream whose frames grow past the pixel limit mid-way', async () => {
    const small = join(dir, 'small.h264');
    const large = join(dir, 'large.h264');
    ffmpeg(['-f', 'lavfi', '-i', 'color=c=gray:s=64x64:r=5', '-t', '2', '-c:v', 'libx264', '-f', 'h264', small]);
    ffmpeg(['-f', 'lavfi', '-i', 'color=c=gray:s=128x128:r=5', '-t', '2', '-c:v', 'libx264', '-f', 'h264', large]);
    const mixed = join(dir, 'mixed.h264');
    writeFileSync(mixed, Buffer.concat([readFileSync(small), readFileSync(large)]));
    const v = await openVideo(mixed, { maxPixels: 64 * 64, name: 'mixed upload' });
    assert.deepEqual([v.info.width, v.info.height], [64, 64], 'the metadata shows only the first frames');
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const f of v.frames) seen.push(f.index);
      })(),
      (e: unknown) => e instanceof DataError && e.file === 'mixed upload' && /frame 10 is 128x128 = 16384 pixels; the limit is 4096/.test(e.problem),
    );
    assert.equal(seen.length, 10);
  });

  it('the server analyses the 4096x4096 video with bounded memory and still answers /health', async () => {
    const bytes = readFileSync(big);
    assert.ok(bytes.length < 100_000, `${bytes.length} bytes`);
    const { result: r, growth } = await peakRssDuring(() => app.inject({ method: 'POST', url: '/v1/recognize-video', payload: bytes, headers: { 'content-type': 'video/mp4' } }));
    assert.equal(r.statusCode, 200, r.body);
    const v = r.json();
    assert.deepEqual([v.width, v.height, v.fps, v.summary.frames, v.summary.faces], [4096, 4096, 1, 18, 0]);
    assert.ok(growth < 400 * MB, `RSS grew ${(growth / MB).toFixed(0)} MB (18 full frames would be 900 MB)`);
    assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  });

  it('a 60 s raw H.264 stream (no duration in the file) is refused by its counted frames; /health answers', async () => {
    const strict = await buildServer({ recognizer: rec });
    try {
      const t0 = performance.now();
      const r = await strict.inject({ method: 'POST', url: '/v1/recognize-video', payload: readFileSync(raw60), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(r.statusCode, 400, r.body);
      assert.match(r.json().message, /^upload: video is 60\.0 s long; the limit is 30 s$/);
      assert.ok(performance.now() - t0 < 20_000, 'refused before analysing it');
      assert.equal((await strict.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    } finally {
      await strict.close();
    }
  });

  it('random bytes: a 400 naming the upload, never the temp path, and no temp folder left behind', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ferkit-test-tmp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const junk = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919 + 13) % 251));
      const r = await app.inject({ method: 'POST', url: '/v1/recognize-video', payload: junk, headers: { 'content-type': 'video/mp4' } });
      assert.equal(r.statusCode, 400, r.body);
      const msg = r.json().message as string;
      assert.match(msg, /^upload: /);
      assert.ok(!msg.includes(tmp) && !msg.includes('ferkit-upload'), msg);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    assert.deepEqual(readdirSync(tmp), []);
  });
});
