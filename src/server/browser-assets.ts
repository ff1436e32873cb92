// What the web page's client-side mode loads, under /browser/: the browser build (ferkit.js and
// onnxruntime-web's wasm, dist/browser), the web model folder (config.json + model.onnx) at
// /browser/model/ and face-api's weights at /browser/face-models/ — the layout ferkit.js expects
// beside itself, and the one `ferkit browser --out DIR` writes.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { faceModelDir, type DetectorName } from '../detect/face-api.js';
import { bundledModelDir, CONFIG_FILE, ONNX_FILE } from '../models/files.js';
import { packageRoot } from '../util/package-root.js';

export interface BrowserAssets {
  /** The browser build folder (default: dist/browser of the package, made by `npm run build`). */
  dir?: string;
  /** The web model folder (default: the bundled models/web). */
  model?: string;
  /** face-api's weights folder (default: the installed @vladmandic/face-api's model/). */
  faceModels?: string;
}

export const WEB_MODEL = 'web';
const browserBuildDir = () => join(packageRoot(), 'dist', 'browser');

/** Serves the three folders; a missing browser build answers 404 saying how to make it. */
export async function registerBrowserAssets(app: FastifyInstance, assets: BrowserAssets = {}): Promise<void> {
  const dir = assets.dir ?? browserBuildDir();
  const folders: [string, string][] = [
    ['/browser/model/', assets.model ?? bundledModelDir(WEB_MODEL)],
    ['/browser/face-models/', assets.faceModels ?? faceModelDir()],
    ['/browser/', dir],
  ];
  let decorated = false;
  for (const [prefix, root] of folders) {
    if (!existsSync(root)) continue;
    await app.register(fastifyStatic, { root, prefix, index: false, list: false, decorateReply: !decorated, wildcard: true });
    decorated = true;
  }
  if (!existsSync(join(dir, 'ferkit.js'))) {
    app.get('/browser/ferkit.js', { schema: { hide: true } }, async (_req, reply) =>
      reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `the browser build is missing (${dir}): run \`npm run build\`` }),
    );
  }
}

/** face-api's weight files for a detector (and the 68-point landmarks every detector needs). */
function faceModelFiles(detector: DetectorName): string[] {
  const nets = [detector === 'ssd' ? 'ssd_mobilenetv1_model' : 'tiny_face_detector_model', 'face_landmark_68_model'];
  return nets.flatMap((n) => [`${n}-weights_manifest.json`, `${n}.bin`]);
}

/**
 * Copies what a page needs to run ferkit in the browser into one folder to serve: the browser
 * build (ferkit.js, .wasm files), model/ (config.json + model.onnx of the web model) and
 * face-models/ (face-api's weights for the detectors). Returns each file written and its size.
 */
export async function copyBrowserAssets(out: string, assets: BrowserAssets = {}, detectors: DetectorName[] = ['ssd']): Promise<Record<string, number>> {
  const dir = assets.dir ?? browserBuildDir();
  const model = assets.model ?? bundledModelDir(WEB_MODEL);
  const faces = assets.faceModels ?? faceModelDir();
  if (!existsSync(join(dir, 'ferkit.js'))) throw new Error(`${dir}: no browser build (ferkit.js); run \`npm run build\` in the ferkit checkout`);
  for (const f of [CONFIG_FILE, ONNX_FILE]) {
    if (!existsSync(join(model, f))) throw new Error(`${model}: no ${f} (a web model folder holds config.json and model.onnx: \`ferkit export --format onnx --quantize int8 --out DIR\`)`);
  }
  const copies: [string, string][] = (await readdir(dir)).filter((f) => /\.(js|wasm)$/.test(f)).map((f) => [join(dir, f), f]);
  copies.push([join(model, CONFIG_FILE), `model/${CONFIG_FILE}`], [join(model, ONNX_FILE), `model/${ONNX_FILE}`]);
  for (const f of new Set(detectors.flatMap(faceModelFiles))) copies.push([join(faces, f), `face-models/${f}`]);
  const written: Record<string, number> = {};
  for (const [from, to] of copies) {
    const dest = join(out, to);
    await mkdir(join(dest, '..'), { recursive: true });
    await copyFile(from, dest);
    written[dest] = (await stat(dest)).size;
  }
  return written;
}
