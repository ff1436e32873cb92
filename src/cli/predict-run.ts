// The work behind `ferkit predict` and `ferkit demo`: recognise a list of images or one video,
// optionally writing annotated copies, with a progress bar on a terminal.
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { Recognizer } from '../api/recognizer.js';
import { DataError } from '../data/errors.js';
import type { VideoResult } from '../api/types.js';
import type { ImageRecord } from './results-format.js';

export interface RunOptions {
  /** Folder for annotated copies. */
  annotate?: string;
  progress: boolean;
  /** Stop at a file that cannot be read (one file asked for) instead of reporting and skipping it. */
  stopOnError?: boolean;
}

function bar(label: string, total: number, show: boolean): SingleBar | undefined {
  if (!show) return undefined;
  const b = new SingleBar({ format: `${label} {bar} {value}/{total} {eta_formatted}`, stream: process.stderr }, Presets.shades_classic);
  b.start(total, 0);
  return b;
}

/** Recognises each image; annotated PNGs go to `<annotate>/<name>.png`. */
export async function recognizeImages(rec: Recognizer, files: readonly string[], opts: RunOptions): Promise<{ records: ImageRecord[]; written: string[] }> {
  const { decodeImageFile } = await import('../data/image.js');
  const { annotatePng } = await import('../api/annotate.js');
  if (opts.annotate) await mkdir(opts.annotate, { recursive: true });
  const b = bar('recognising', files.length, opts.progress && files.length > 1);
  const records: ImageRecord[] = [];
  const written: string[] = [];
  // The next picture decodes (sharp, on libuv's threads) while this one is analysed: two decoded
  // pictures in memory at most. A failed decode is kept as a value until its turn.
  const decode = (file: string) => decodeImageFile(file, { channels: 3 }).then((img) => ({ img }), (error: unknown) => ({ error }));
  let ahead = files.length ? decode(files[0]) : undefined;
  try {
    for (const [i, file] of files.entries()) {
      // In a folder, a picture that cannot be read or recognised is reported and skipped, not fatal.
      let img;
      let result;
      const decoded = await ahead!;
      ahead = i + 1 < files.length ? decode(files[i + 1]) : undefined;
      try {
        if ('error' in decoded) throw decoded.error;
        img = decoded.img;
        result = await rec.recognizeImage(img);
      } catch (e) {
        if (opts.stopOnError) throw e;
        records.push({ file, width: img?.width ?? 0, height: img?.height ?? 0, faces: [], droppedFaces: 0, error: e instanceof DataError ? e.problem : (e as Error).message });
        b?.increment();
        continue;
      }
      const faces = result.faces;
      records.push({ file, ...result });
      if (opts.annotate) {
        const out = join(opts.annotate, `${basename(file, extname(file))}.png`);
        await writeFile(out, await annotatePng(img, faces));
        written.push(out);
      }
      b?.increment();
    }
  } finally {
    b?.stop();
  }
  return { records, written };
}

export interface VideoRunOptions extends RunOptions {
  fps?: number;
  tau?: number;
  maxDuration?: number;
}

/** Recognises a video as it decodes; the annotated copy `<annotate>/<name>.annotated.mp4` is
 *  written frame by frame at the analysis rate and size. */
export async function recognizeVideoFile(rec: Recognizer, file: string, opts: VideoRunOptions): Promise<{ result: VideoResult; written: string[] }> {
  const { annotateRaster } = await import('../api/annotate.js');
  const { VideoWriter } = await import('../data/video.js');
  let b: SingleBar | undefined;
  let writer: InstanceType<typeof VideoWriter> | undefined;
  const out = opts.annotate ? join(opts.annotate, `${basename(file, extname(file))}.annotated.mp4`) : undefined;
  if (opts.annotate) await mkdir(opts.annotate, { recursive: true });
  let result: VideoResult;
  try {
    result = await rec.recognizeVideo(file, {
      fps: opts.fps,
      tau: opts.tau,
      maxDuration: opts.maxDuration,
      onStart: (s) => {
        b = bar('frames', s.frames, opts.progress);
        if (out) writer = new VideoWriter(out, s.width, s.height, 3, s.fps);
      },
      onFrame: async (image, fr) => {
        if (writer) await writer.write(await annotateRaster(image, fr.faces));
      },
      onProgress: (done, total) => {
        b?.setTotal(total);
        b?.update(done);
      },
    });
    await writer?.close();
  } catch (e) {
    await writer?.abort();
    throw e;
  } finally {
    b?.stop();
  }
  return { result, written: out ? [out] : [] };
}
