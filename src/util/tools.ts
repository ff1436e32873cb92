// Probes for the optional tools ferkit uses: ffmpeg (video) and onnxruntime-node (fast inference).
import { spawnSync } from 'node:child_process';

export interface ToolStatus {
  available: boolean;
  version?: string;
  path?: string;
  error?: string;
}

/** The ffmpeg binary: `FERKIT_FFMPEG`, else `ffmpeg` on PATH (Debian's package). */
export function ffmpegPath(): string {
  return process.env.FERKIT_FFMPEG || 'ffmpeg';
}

export function probeFfmpeg(): ToolStatus {
  const path = ffmpegPath();
  const r = spawnSync(path, ['-version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error || r.status !== 0) return { available: false, path, error: r.error?.message ?? `exit ${r.status}` };
  const version = /ffmpeg version (\S+)/.exec(r.stdout)?.[1];
  return { available: true, path, version };
}

export async function probeOnnxRuntime(): Promise<ToolStatus> {
  try {
    const ort = await import('onnxruntime-node');
    const version = (ort as unknown as { env?: { versions?: { node?: string; common?: string } } }).env?.versions;
    return { available: true, version: version?.node ?? version?.common };
  } catch (e) {
    return { available: false, error: (e as Error).message.split('\n')[0] };
  }
}
