// `ferkit serve`: the HTTP API and web page (src/server) on a port, until interrupted.
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';

interface ServeFlags {
  port: string;
  host: string;
  model?: string;
  engine: string;
  detector: string;
  maxImageMb: string;
  maxVideoMb: string;
  maxPixels: string;
  maxVideoSeconds: string;
  videoFps: string;
  maxQueue: string;
  workers: string;
  cors?: string;
  log?: boolean;
  apiKey?: string;
  faces: string;
  maxFaces: string;
}

/** Addresses only this machine can reach. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';
}

/** --cors: '*' or comma-separated origins (scheme://host[:port], as browsers send them). */
export function parseCors(v: string): string[] {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new Error('--cors needs origins, e.g. --cors https://app.example.com,http://localhost:5173 (or * for any)');
  for (const o of list) {
    if (o === '*') continue;
    let u: URL | undefined;
    try {
      u = new URL(o);
    } catch {
      u = undefined;
    }
    if (!u || !/^https?:$/.test(u.protocol) || u.origin !== o) throw new Error(`--cors: "${o}" is not an origin (scheme://host[:port], no path or trailing slash${u && /^https?:$/.test(u.protocol) ? `; did you mean ${u.origin}?` : ''})`);
  }
  return list;
}

function num(name: string, v: string, integer = false): number {
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x))) throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${v}"`);
  return x;
}

async function run(flags: ServeFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  const say = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
  if (!['auto', 'tfjs', 'onnx'].includes(flags.engine)) throw new Error(`--engine must be auto, tfjs or onnx, got "${flags.engine}"`);
  if (!['ssd', 'tiny'].includes(flags.detector)) throw new Error(`--detector must be ssd or tiny, got "${flags.detector}"`);
  const limits = {
    maxImageBytes: Math.round(num('max-image-mb', flags.maxImageMb) * 1024 * 1024),
    maxVideoBytes: Math.round(num('max-video-mb', flags.maxVideoMb) * 1024 * 1024),
    maxPixels: num('max-pixels', flags.maxPixels, true),
    maxVideoSeconds: num('max-video-seconds', flags.maxVideoSeconds),
    videoFps: num('video-fps', flags.videoFps),
    maxQueue: num('max-queue', flags.maxQueue, true),
  };
  const port = num('port', flags.port, true);
  const { faceFlags } = await import('./predict.js');
  const { faces, maxFaces } = faceFlags(flags);
  const apiKey = flags.apiKey ?? (process.env.FERKIT_API_KEY || undefined);
  if (apiKey !== undefined && apiKey.length < 8) throw new Error('--api-key (or FERKIT_API_KEY) must be at least 8 characters');
  const cors = flags.cors === undefined ? undefined : parseCors(flags.cors);
  await startEngine(cmd);
  const { loadRecognizer } = await import('../../api/recognizer.js');
  const { buildServer } = await import('../../server/app.js');
  const options = { model: flags.model, engine: flags.engine as 'auto', detector: flags.detector as 'ssd' | 'tiny', faces, maxFaces };
  const recognizer = await loadRecognizer({ ...options, onNote: say });
  // Load the detector now so the first request does not pay for it.
  await recognizer.recognize({ width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3) });
  const workers = num('workers', flags.workers, true);
  let pool: import('../../server/recognize-pool.js').RecognizePool | undefined;
  if (workers > 1) {
    const { RecognizePool } = await import('../../server/recognize-pool.js');
    pool = new RecognizePool(workers, options);
    await pool.ready;
  }
  const app = await buildServer({ recognizer, limits, pool, logger: Boolean(flags.log), apiKey, cors });
  const address = await app.listen({ port, host: flags.host });
  // Always said, even with --quiet: the machine is open to whoever can reach it.
  if (!isLoopback(flags.host) && apiKey === undefined) {
    process.stderr.write(`ferkit serve: warning: listening on ${flags.host} without an API key: anyone who can reach this machine can use the API; set --api-key or FERKIT_API_KEY\n`);
  }
  say(`ferkit serve: ${address} (web page at /, API at /v1/recognize and /v1/recognize-video, OpenAPI at /openapi.json) on ${recognizer.engine}${pool ? `, ${pool.size} image workers` : ''}${cors ? `, CORS for ${cors.join(', ')}` : ''}`);
  const stop = async () => {
    await app.close();
    await pool?.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('HTTP API (POST /v1/recognize, /v1/recognize-video; GET /health, /openapi.json) and a web page at /')
    .option('--port <n>', 'port', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--model <dir>', 'model folder (default: the bundled FER2013 model)')
    .option('--engine <name>', 'auto, tfjs or onnx', 'auto')
    .option('--detector <name>', 'ssd or tiny', 'ssd')
    .option('--max-image-mb <n>', 'largest image upload, MB', '10')
    .option('--max-video-mb <n>', 'largest video upload, MB', '50')
    .option('--max-pixels <n>', 'largest image or video frame, pixels', String(4096 * 4096))
    .option('--max-video-seconds <n>', 'longest video, seconds', '30')
    .option('--video-fps <n>', 'frames per second analysed in videos', '5')
    .option('--max-queue <n>', 'requests in progress before new ones get 503', '64')
    .option('--workers <n>', 'threads recognising images (each its own TF.js instance; videos run on the main thread)', '1')
    .option('--cors <origins>', 'let pages from these origins call the API (comma-separated, e.g. https://app.example.com; * for any); off by default')
    .option('--log', 'log every request (JSON lines on stdout)')
    .option('--api-key <key>', 'require this key on /v1/* requests (X-API-Key header or Authorization: Bearer); default: FERKIT_API_KEY when set')
    .option('--faces <mode>', 'how faces are found in photos: auto, detect or whole (a request can ask with ?faces=)', 'auto')
    .option('--max-faces <n>', 'at most this many faces per photo or video frame (answers count those left out)', '100')
    .action(run);
}
