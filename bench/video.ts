// `video`: frames analysed per second, end to end (ffmpeg decode, detect or follow, align,
// classify, smooth; the model on a thread of its own, as `ferkit predict` runs a video, and for
// comparison on the main thread, alternating rounds), on a 640x480 25 fps video of real faces made
// at bench time with ffmpeg from face-api's sample photos: each photo scaled to 800 px wide and
// panned under a 640x480 window for 4 s (the faces move across the picture), one segment after
// another (scene cuts between).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath } from '../src/data/video.js';
import { samplePhotos } from './inference.js';

type Log = (line: string) => void;

const FPS = 25;
const SECONDS_PER_PHOTO = 4;

/** Writes the pan video of three sample photos; returns its path. */
export function makePanVideo(dir: string, photos: readonly string[]): string {
  const out = join(dir, 'pan-640x480.mp4');
  const inputs = photos.flatMap((p) => ['-loop', '1', '-framerate', String(FPS), '-t', String(SECONDS_PER_PHOTO), '-i', p]);
  const pans = photos.map((_, i) => `[${i}:v]scale=800:-2,crop=640:480:x='(iw-640)*(0.5+0.5*sin(2*PI*t/${SECONDS_PER_PHOTO}))':y='(ih-480)/2',setsar=1,format=yuv420p[v${i}]`);
  const concat = `${photos.map((_, i) => `[v${i}]`).join('')}concat=n=${photos.length}:v=1:a=0[out]`;
  const args = ['-y', '-v', 'error', ...inputs, '-filter_complex', [...pans, concat].join(';'), '-map', '[out]', '-r', String(FPS), '-c:v', 'libx264', '-crf', '20', '-pix_fmt', 'yuv420p', out];
  const r = spawnSync(ffmpegPath(), args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg could not make the bench video: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
  return out;
}

export async function benchVideo(o: { log: Log }): Promise<void> {
  const { loadRecognizer } = await import('../src/api/recognizer.js');
  const { VIDEO_BATCH_FRAMES } = await import('../src/api/video.js');
  const dir = mkdtempSync(join(tmpdir(), 'ferkit-bench-video-'));
  try {
    const photos = samplePhotos().filter((p) => /sample[136]\.jpg$/.test(p));
    const file = makePanVideo(dir, photos);
    o.log(`video: ${file.replace(/.*\//, '')}, 640x480, ${FPS} fps, ${photos.length * SECONDS_PER_PHOTO} s (${photos.map((p) => p.replace(/.*\//, '')).join(', ')} panned)`);
    // As `ferkit predict` opens it for a video: the model on a thread of its own (modelThread).
    const rec = await loadRecognizer({ onNote: o.log, modelThread: true });
    o.log(`model on ${rec.engine}, face detector on ${rec.detectorEngine}`);
    await rec.recognizeVideo(file, { fps: FPS, maxFrames: 2 * FPS }); // warm-up: sessions, allocations
    // Wall time is the figure; this process's CPU time per frame (onnxruntime's threads included,
    // ffmpeg's decoding not: it runs in its own process) says what the work costs on a busy machine.
    const run = async (detectInterval: number | undefined, maxFrames?: number, on = rec) => {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const r = await on.recognizeVideo(file, { fps: FPS, maxFrames, detectInterval });
      const cpu = process.cpuUsage(c0);
      const s = (performance.now() - t0) / 1000;
      const withFaces = r.frames.filter((f) => f.faces.length > 0).length;
      const faces = r.frames.reduce((a, f) => a + f.faces.length, 0);
      const n = r.frames.length;
      return { fps: n / s, frames: n, withFaces, faces, s, cpuMs: (cpu.user + cpu.system) / 1000 / n };
    };
    const every = await run(0, 3 * FPS);
    o.log(`detector on every frame: ${every.fps.toFixed(1)} fps (${every.frames} frames, ${every.withFaces} with faces, ${(every.faces / every.frames).toFixed(2)} faces/frame, ${every.s.toFixed(1)} s, ${every.cpuMs.toFixed(1)} CPU ms/frame)`);
    // The same with the model on the main thread (no overlap), alternating with the default, medians.
    const here = await loadRecognizer({});
    await here.recognizeVideo(file, { fps: FPS, maxFrames: 2 * FPS });
    const runs: { thread: Awaited<ReturnType<typeof run>>[]; here: Awaited<ReturnType<typeof run>>[] } = { thread: [], here: [] };
    for (let round = 0; round < 3; round++) {
      runs.thread.push(await run(undefined));
      runs.here.push(await run(undefined, undefined, here));
    }
    const median = (rs: Awaited<ReturnType<typeof run>>[]) => rs.slice().sort((a, b) => a.fps - b.fps)[1]!;
    const [r, h] = [median(runs.thread), median(runs.here)];
    o.log(`model on the main thread: ${h.fps.toFixed(1)} fps (${runs.here.map((x) => x.fps.toFixed(1)).join(', ')}); on its own thread: ${runs.thread.map((x) => x.fps.toFixed(1)).join(', ')}; ratio ${(r.fps / h.fps).toFixed(2)}`);
    o.log(`detect every 0.2 s, follow between, ${VIDEO_BATCH_FRAMES} frames per model call, model on its own thread (median of 3): ${r.frames} frames, ${r.withFaces} with faces, ${(r.faces / r.frames).toFixed(2)} faces/frame, ${r.s.toFixed(1)} s, ${r.cpuMs.toFixed(1)} CPU ms/frame (main thread's process, the model thread included); load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
    o.log(`video-640: ${r.fps.toFixed(1)} fps`);
    await Promise.all([rec.dispose(), here.dispose()]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
