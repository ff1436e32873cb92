// Peak memory of `ferkit predict` on a long full-HD video: a 30 s 1920x1080 30 fps clip (a real
// group photo panned slowly, so faces are found in every frame) is made once in the temp folder,
// then `ferkit predict clip.mp4 --json` runs as a child process while its peak RSS (VmHWM) and
// its ffmpeg decoder's are read from /proc. Target: the node process stays under 1 GB whatever
// the video's length, because frames stream through one at a time.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Log = (line: string) => void;

/** The 30 s clip, made with ffmpeg on first use and kept in the temp folder. */
function benchClip(log: Log): string {
  const dir = join(tmpdir(), 'ferkit-bench');
  const clip = join(dir, 'pan-30s-1920x1080-30fps.mp4');
  if (existsSync(clip)) return clip;
  mkdirSync(dir, { recursive: true });
  const require = createRequire(import.meta.url);
  const photo = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo', 'sample1.jpg');
  log(`making ${clip} (once) from ${photo}`);
  const tmp = `${clip}.${process.pid}.mp4`;
  const vf = "scale=2112:1408,crop=1920:1080:x='96+90*sin(t/3)':y='160+120*sin(t/5)',format=yuv420p";
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-framerate', '30', '-i', photo, '-vf', vf, '-t', '30', '-r', '30', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', tmp], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg could not make the clip: ${r.stderr || r.error?.message}`);
  renameSync(tmp, clip);
  return clip;
}

/** Peak RSS (VmHWM, bytes) of a live process; 0 once it is gone. */
function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Child process ids of a process (all its threads' children). */
function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

export async function benchVideoMemory(o: { log: Log }): Promise<void> {
  if (!existsSync('/proc/self/status')) throw new Error('video-memory reads peak RSS from /proc: Linux only');
  const clip = benchClip(o.log);
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'ferkit.js');
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, 'predict', clip, '--json', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  let node = 0;
  let ffmpeg = 0;
  const poll = setInterval(() => {
    node = Math.max(node, peakRss(child.pid!));
    for (const c of children(child.pid!)) ffmpeg = Math.max(ffmpeg, peakRss(c));
  }, 100);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(poll);
  if (code !== 0) throw new Error(`ferkit predict failed (${code}): ${stderr.slice(-2000)}`);
  const out = JSON.parse(stdout) as { summary: { frames: number; faces: number; framesWithFaces: number } };
  const seconds = (performance.now() - t0) / 1000;
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  o.log(`${out.summary.frames} frames analysed (${out.summary.framesWithFaces} with faces, ${out.summary.faces} face tracks) in ${seconds.toFixed(0)} s`);
  o.log(`video-memory: peak RSS ${mib(node)} MiB (ferkit predict, node) + ${mib(ffmpeg)} MiB (ffmpeg decoder); 30 s 1920x1080 30 fps clip, target ≤ 1024 MiB`);
}
