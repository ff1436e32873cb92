// ferkit as a user gets it: `npm pack` (prepack builds dist/ from src/) on a copy of this checkout,
// the tarball's contents checked, then a new app installs it with a plain `npm install` — the npm
// registry the only network, no special environment variables, an empty npm cache inside the temp
// folder — imports the API from a .mjs, type-checks a .ts against the declarations and runs
// `npx ferkit demo`. Everything lives in one temp folder, removed afterwards.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../data/data-fixtures.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** The environment of a user's shell: none of npm's, onnxruntime's or ferkit's variables that
 *  this test run may carry (npm test exports npm_config_* and the repo sets up ORT's skip flag). */
function plainEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|onnxruntime_|ferkit_|node_options$)/i.test(k)));
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 300_000): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

function du(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

const APP_MJS = `
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRecognizer, DataError, CANONICAL_CLASSES } from 'ferkit';
const require = createRequire(import.meta.url);
const photo = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo', 'sample1.jpg');
const notes = [];
const rec = await loadRecognizer({ onNote: (n) => notes.push(n) });
const faces = await rec.recognize(photo);
let dataError;
try {
  await rec.recognize(new Uint8Array([1, 2, 3]));
} catch (e) {
  dataError = { isDataError: e instanceof DataError, message: e.message };
}
const browser = fileURLToPath(import.meta.resolve('ferkit/browser'));
const { buildServer } = await import('ferkit/server');
const app = await buildServer({ recognizer: rec, cors: ['https://app.example.com'] });
const health = await app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://app.example.com' } });
await app.close();
const server = { status: health.statusCode, cors: health.headers['access-control-allow-origin'] };
console.log(JSON.stringify({ engine: rec.engine, classes: rec.classes, canonical: CANONICAL_CLASSES, notes, faces, dataError, browser, browserExists: existsSync(browser), server }));
`;

const APP_TS = `
import { loadRecognizer, DataError, CANONICAL_CLASSES, type FaceResult, type VideoResult, type ExpressionLabel, type ExpressionProbabilities, type Raster, type Recognizer } from 'ferkit';
import type { BrowserRecognizer, BrowserImageResult } from 'ferkit/browser';
import { buildServer, HttpError, type ServerOptions } from 'ferkit/server';

const rec: Recognizer = await loadRecognizer({ engine: 'auto', detector: 'tiny' });
const raster: Raster = { width: 2, height: 1, channels: 3, data: new Uint8Array(6) };
const faces: FaceResult[] = await rec.recognize(raster);
const label: ExpressionLabel = faces[0].label;
const contempt: number | undefined = faces[0].probabilities.contempt;
const probs: ExpressionProbabilities = faces[0].probabilities;
const video: VideoResult = await rec.recognizeVideo('clip.mp4', { fps: 5 });
const dominant: ExpressionLabel | null = video.summary.dominantLabel;
const all: readonly ExpressionLabel[] = CANONICAL_CLASSES;
const err: Error = new DataError('file.jpg', 'broken');
// @ts-expect-error: not an expression name
const wrong: ExpressionLabel = 'joy';
// @ts-expect-error: a probability is a number
const text: string = faces[0].probabilities.happy;
declare const web: BrowserRecognizer;
const inPage: BrowserImageResult = await web.recognizeImage(new Blob());
const webLabel: ExpressionLabel | undefined = inPage.faces[0]?.label;
const serverOptions: ServerOptions = { recognizer: rec, cors: ['https://app.example.com'] };
const server = await buildServer(serverOptions);
const notFound: Error = new HttpError(404, 'no such thing');
export { label, contempt, probs, dominant, all, err, wrong, text, webLabel, server, notFound };
`;

describe('the npm package: pack, plain install into a new app, import, types, npx ferkit demo', () => {
  let work: string;
  let tarball: string;
  let files: string[];

  before(() => {
    work = tempDir('package');
    // A copy of the checkout as git sees it (tracked and new files, nothing ignored), so packing
    // builds dist/ there and never touches this checkout's.
    const src = join(work, 'src-copy');
    const list = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repo, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of list) {
      if (!existsSync(join(repo, f))) continue; // deleted but not yet committed
      mkdirSync(dirname(join(src, f)), { recursive: true });
      cpSync(join(repo, f), join(src, f));
    }
    symlinkSync(join(repo, 'node_modules'), join(src, 'node_modules'), 'dir');
    // FERKIT_NATIVE=0: `prepare` would compile the packer's native kernels, which never ship.
    const out = run(npm, ['pack', '--json', '--pack-destination', work], src, { ...plainEnv(), FERKIT_NATIVE: '0' });
    const info = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
    tarball = join(work, info[0].filename);
    files = info[0].files.map((f) => f.path);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the tarball: dist/ from src/ with declarations, the browser build, models, docs; no tests, benches, sources or binaries', (t) => {
    for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/src/browser/index.d.ts', 'dist/browser/ferkit.js', 'dist/browser/ort-wasm-simd-threaded.wasm',
      'bin/ferkit.js', 'models/fer2013-cnn/model.onnx', 'models/web/model.onnx', 'models/web/config.json', 'src/server/public/index.html', 'native/conv.cc', 'scripts/build-native.mjs', 'README.md', 'LICENSE', 'docs/export.md']) {
      assert.ok(files.includes(f), `${f} is in the package`);
    }
    const unwanted = files.filter((f) => /^(test|bench|dist\/(test|bench|scripts))\//.test(f) || /\.(node|map|tsbuildinfo)$/.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.startsWith('native/build'));
    assert.deepEqual(unwanted, []);
    t.diagnostic(`${tarball}: ${files.length} files`);
  });

  it('a new app: plain npm install, import from .mjs, type-check a .ts, npx ferkit demo', (t) => {
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'ferkit-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
    const env = plainEnv();
    run(npm, ['install', tarball, '--no-audit', '--no-fund', '--cache', join(work, 'npm-cache')], app, env, 600_000);
    const modules = join(app, 'node_modules');
    assert.ok(!existsSync(join(modules, 'playwright-core')) && !existsSync(join(modules, 'tsx')), 'dev-only packages are not installed');
    const ortInstalled = existsSync(join(modules, 'onnxruntime-node'));

    writeFileSync(join(app, 'app.mjs'), APP_MJS);
    const got = JSON.parse(run(process.execPath, ['app.mjs'], app, env).trim().split('\n').pop()!);
    assert.ok(got.canonical.includes('contempt'), 'CANONICAL_CLASSES is exported');
    assert.ok(got.classes.every((c: string) => got.canonical.includes(c)), `model classes ${got.classes} are canonical names`);
    assert.ok(got.faces.length >= 2, `${got.faces.length} faces in sample1.jpg`);
    for (const f of got.faces) assert.ok(got.classes.includes(f.label) && f.landmarks.length === 68);
    assert.deepEqual(got.dataError, { isDataError: true, message: 'image: not an image (unknown or unsupported format)' });
    assert.ok(got.browserExists, `ferkit/browser resolves to ${got.browser}`);
    assert.deepEqual(got.server, { status: 200, cors: 'https://app.example.com' }, 'ferkit/server builds the HTTP app');
    if (ortInstalled) assert.equal(got.engine, 'onnxruntime');
    else {
      // npm dropped the optional onnxruntime-node (its install script could not fetch its CUDA
      // files): TF.js runs the model and a note says why.
      assert.equal(got.engine, 'tfjs-wasm');
      assert.match(got.notes.join('\n'), /onnxruntime-node is not installed .*ONNXRUNTIME_NODE_INSTALL=skip/);
    }

    // Types: with skipLibCheck (as `tsc --init` sets it) the app compiles; without it, no error
    // comes from ferkit's own declarations (TF.js's and face-api's have their own).
    writeFileSync(join(app, 'app.ts'), APP_TS);
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const tscArgs = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--typeRoots', join(repo, 'node_modules', '@types'), 'app.ts'];
    run(process.execPath, [tsc, '--skipLibCheck', ...tscArgs], app, env);
    const full = spawnSync(process.execPath, [tsc, ...tscArgs], { cwd: app, encoding: 'utf8' });
    const ours = full.stdout.split('\n').filter((l) => /^(app\.ts|node_modules\/ferkit\/)/.test(l));
    assert.deepEqual(ours, []);

    const demo = run(npx, ['ferkit', 'demo', '--out', 'demo'], app, env);
    assert.match(demo, /\d+ faces in 6 photos, \d+ ms per photo/);
    assert.equal(readdirSync(join(app, 'demo')).filter((f) => f.endsWith('.png')).length, 6);
    t.diagnostic(`consumer node_modules ${(du(modules) / 2 ** 20).toFixed(0)} MiB; onnxruntime-node ${ortInstalled ? 'installed' : 'left out by npm (TF.js runs)'}; engine ${got.engine}`);
  });
});
