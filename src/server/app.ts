// `ferkit serve`'s HTTP app (Fastify): POST /v1/recognize (image bytes or multipart → faces),
// POST /v1/recognize-video (video bytes or multipart → timelines), GET /health, GET /openapi.json
// and the web page at / (its client-side mode loads the browser build from /browser/,
// browser-assets.ts); CORS for the origins given (off by default). The recognizer runs one request at a time (Recognizer.serial); requests
// beyond limits.maxQueue get 503 instead of queueing without bound.
import { createHash, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import { decodeImageBytes } from '../api/decode.js';
import type { Recognizer } from '../api/recognizer.js';
import { FACE_MODES, type FaceMode } from '../detect/find-faces.js';
import { DataError } from '../data/errors.js';
import { packageRoot, packageVersion } from '../util/package-root.js';
import { DEFAULT_LIMITS, type ServerLimits } from './limits.js';
import { registerBrowserAssets, type BrowserAssets } from './browser-assets.js';
import { addRequestBodies } from './openapi.js';
import type { RecognizePool } from './recognize-pool.js';
import { errorSchema, healthResponse, recognizeResponse, videoResponse } from './schemas.js';

export interface ServerOptions {
  recognizer: Recognizer;
  limits?: Partial<ServerLimits>;
  /** Worker threads for /v1/recognize (default: the recognizer, on this thread). */
  pool?: RecognizePool;
  /** Fastify's logger (default off). */
  logger?: boolean;
  /** When set, /v1/* requests must carry it (X-API-Key header, or Authorization: Bearer). */
  apiKey?: string;
  /** Origins (e.g. https://app.example.com) whose pages may call the API; '*' allows any.
   *  Default: none, no CORS headers (preflight OPTIONS requests get 404). */
  cors?: string[];
  /** Where /browser/ (the page's client-side mode) gets its files from. */
  browser?: BrowserAssets;
}

/** An error the client caused: sent as its status with the message. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const errorName: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 503: 'Service Unavailable' };

// Upload folders still in use: removed at exit too, so a process that ends mid-request (a signal,
// a fatal error) leaves no video behind in the temp folder.
const liveUploads = new Set<string>();
process.once('exit', () => {
  for (const dir of liveUploads) rmSync(dir, { recursive: true, force: true });
});

export const webPagePath = () => join(packageRoot(), 'src', 'server', 'public', 'index.html');

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const rec = opts.recognizer;
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: limits.maxImageBytes });
  let inFlight = 0;
  const started = Date.now();

  await app.register(swagger, {
    openapi: {
      info: { title: 'ferkit', description: 'Facial expression recognition over HTTP', version: packageVersion() },
    },
  });
  if (opts.cors?.length) {
    await app.register(cors, { origin: opts.cors.includes('*') ? '*' : opts.cors, methods: ['GET', 'POST'], maxAge: 600 });
  }
  await app.register(multipart, { limits: { files: 1, fileSize: limits.maxVideoBytes, fields: 10 } });
  // Raw uploads: any image/* or video/* type, or octet-stream, arrive as one buffer.
  app.addContentTypeParser(/^(image|video)\/[\w.+-]+$/, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    let status = err instanceof HttpError ? err.statusCode : err instanceof DataError ? 400 : (err.statusCode ?? 500);
    if (err.code === 'FST_REQ_FILE_TOO_LARGE') status = 413;
    // Unexpected failures are logged and not described to the client; our own HttpErrors are.
    const unexpected = status >= 500 && !(err instanceof HttpError);
    if (unexpected) req.log.error(err);
    let message = unexpected ? 'internal error' : err.message;
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      message = `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '(none)')}: send the picture or video as the request body (image/*, video/* or application/octet-stream) or as the file of a multipart/form-data form`;
    }
    if (status === 503) reply.header('retry-after', '1');
    reply.status(status).send({ statusCode: status, error: errorName[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error'), message });
  });

  // The key is compared as a hash, in constant time, so response times do not give it away.
  const keyHash = opts.apiKey ? createHash('sha256').update(opts.apiKey).digest() : undefined;
  if (keyHash) {
    app.addHook('onRequest', async (req) => {
      // CORS preflights carry no key; the request they announce does.
      if (req.method === 'OPTIONS' || !req.url.startsWith('/v1/')) return;
      const auth = req.headers.authorization;
      const given = (req.headers['x-api-key'] as string | undefined) ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
      if (given === undefined || !timingSafeEqual(createHash('sha256').update(given).digest(), keyHash)) {
        throw new HttpError(401, given === undefined ? 'this server needs an API key: send it in the X-API-Key header (or Authorization: Bearer <key>)' : 'wrong API key');
      }
    });
  }

  /** The uploaded bytes, from a raw body or the first file of a multipart form. */
  async function uploaded(req: FastifyRequest, maxBytes: number, what: string): Promise<{ bytes: Buffer; name: string }> {
    if (req.isMultipart()) {
      let file;
      let bytes: Buffer;
      // A broken form (no boundary, cut short) is the client's problem: a 400 that says so.
      try {
        file = await req.file({ limits: { fileSize: maxBytes } });
        if (!file) throw new HttpError(400, `multipart form has no file; send the ${what} as a file field`);
        bytes = await file.toBuffer();
      } catch (e) {
        const err = e as Error & { statusCode?: number; code?: string };
        if (err instanceof HttpError || err.code === 'FST_REQ_FILE_TOO_LARGE' || (err.statusCode !== undefined && err.statusCode < 500)) throw err;
        throw new HttpError(400, `malformed multipart/form-data (${err.message}); send the ${what} as the file of a well-formed form, or as the raw body`);
      }
      return { bytes, name: file.filename || 'upload' };
    }
    const body = req.body;
    if (!Buffer.isBuffer(body)) throw new HttpError(415, `send the ${what} as the request body (Content-Type image/*, video/* or application/octet-stream) or as multipart/form-data`);
    return { bytes: body, name: 'upload' };
  }

  /** Runs `f` unless too many requests already wait. */
  async function queued<T>(f: () => Promise<T>): Promise<T> {
    if (inFlight >= limits.maxQueue) throw new HttpError(503, `busy: ${inFlight} requests in progress (limit ${limits.maxQueue}); retry later`);
    inFlight++;
    try {
      return await f();
    } finally {
      inFlight--;
    }
  }

  const errors = { 400: errorSchema, 401: errorSchema, 413: errorSchema, 415: errorSchema, 503: errorSchema };

  /** The `faces` query parameter (how faces are found for this request), checked. */
  const facesMode = (req: FastifyRequest): FaceMode | undefined => {
    const v = (req.query as Record<string, unknown> | undefined)?.faces;
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !FACE_MODES.includes(v as FaceMode)) throw new HttpError(400, `faces must be ${FACE_MODES.join(', ')}, got ${JSON.stringify(v)}`);
    return v as FaceMode;
  };
  const facesQuery = { type: 'object', properties: { faces: { type: 'string', enum: [...FACE_MODES], description: "how faces are found: auto (default: detect; a face crop the detector misses is read whole), detect, or whole (the picture is one face)" } } } as const;

  app.post('/v1/recognize', {
    bodyLimit: limits.maxImageBytes,
    schema: { summary: 'Expressions of every face in a photo', tags: ['recognize'], querystring: facesQuery, response: { 200: recognizeResponse, ...errors } },
  }, async (req: FastifyRequest) => {
    const t0 = performance.now();
    const faces = facesMode(req);
    const { bytes, name } = await uploaded(req, limits.maxImageBytes, 'image');
    return queued(async () => {
      if (opts.pool) {
        const r = await opts.pool.recognizeBytes(bytes, name, limits.maxPixels, faces);
        return { ...r, classes: rec.classes, engine: rec.engine, ms: performance.now() - t0 };
      }
      const image = await decodeImageBytes(bytes, name, { maxPixels: limits.maxPixels });
      const r = await rec.recognizeImage(image, { faces });
      return { ...r, classes: rec.classes, engine: rec.engine, ms: performance.now() - t0 };
    });
  });

  app.post('/v1/recognize-video', {
    bodyLimit: limits.maxVideoBytes,
    schema: { summary: 'Per-face expression timelines of a video', tags: ['recognize'], response: { 200: videoResponse, ...errors } },
  }, async (req: FastifyRequest) => {
    const t0 = performance.now();
    const { bytes, name } = await uploaded(req, limits.maxVideoBytes, 'video');
    if (bytes.length === 0) throw new HttpError(400, `${name}: empty video (0 bytes)`);
    return queued(async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ferkit-upload-'));
      liveUploads.add(dir);
      const path = join(dir, 'upload');
      try {
        await writeFile(path, bytes);
        // Decoded frame by frame at the analysis size; length and pixel limits are checked on
        // the frames as well as the metadata; errors name the upload, never the temp file.
        const v = await rec.recognizeVideo(path, { fps: limits.videoFps, maxDuration: limits.maxVideoSeconds, maxPixels: limits.maxPixels, name });
        return { width: v.width, height: v.height, fps: v.fps, classes: rec.classes, engine: rec.engine, ms: performance.now() - t0, temporal: v.temporal, summary: v.summary, timelines: v.timelines };
      } finally {
        await rm(dir, { recursive: true, force: true });
        liveUploads.delete(dir);
      }
    });
  });

  app.get('/health', { schema: { summary: 'Liveness and what runs', tags: ['service'], response: { 200: healthResponse } } }, async () => ({
    status: 'ok',
    engine: rec.engine,
    classes: rec.classes,
    modelInput: `${rec.config.input.kind} ${rec.config.input.size.join('x')}x${rec.config.input.channels}`,
    queue: inFlight,
    workers: opts.pool?.size ?? 1,
    uptime: (Date.now() - started) / 1000,
    apiKey: keyHash !== undefined,
    limits: { ...limits },
  }));

  app.get('/openapi.json', { schema: { hide: true } }, async () => addRequestBodies(app.swagger() as Record<string, unknown>, limits));

  await registerBrowserAssets(app, opts.browser);
  const page = await readFile(webPagePath(), 'utf8');
  app.get('/', { schema: { hide: true } }, async (_req, reply: FastifyReply) => reply.type('text/html; charset=utf-8').send(page));
  return app;
}
