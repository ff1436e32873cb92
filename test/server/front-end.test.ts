// What web front ends need from `ferkit serve`: CORS for an allow-list of origins (off by default,
// preflight OPTIONS answered when on), the --cors flag's checks, and the /browser/ files the web
// page's client-side mode loads (web model, face-api weights, a clear 404 without a build).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadRecognizer, type Recognizer } from '../../src/api/index.js';
import { bundledModelDir } from '../../src/models/io.js';
import { buildServer } from '../../src/server/app.js';
import { WEB_MODEL } from '../../src/server/browser-assets.js';
import { parseCors } from '../../src/cli/commands/serve.js';
import { ferkit } from '../helpers/cli.js';
import { samplePhotos } from '../api/fixtures.js';
import { tempDir } from '../data/data-fixtures.js';

const APP = 'https://app.example.com';
const preflight = (origin: string) => ({
  method: 'OPTIONS' as const,
  url: '/v1/recognize',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
});

describe('ferkit serve for front ends', () => {
  let rec: Recognizer;
  const apps: FastifyInstance[] = [];
  const server = async (opts: Omit<Parameters<typeof buildServer>[0], 'recognizer'>) => {
    const app = await buildServer({ recognizer: rec, ...opts });
    apps.push(app);
    return app;
  };
  before(async () => {
    rec = await loadRecognizer({ model: bundledModelDir(WEB_MODEL), engine: 'onnx' });
  });
  after(async () => {
    for (const app of apps) await app.close();
    await rec.dispose();
  });

  it('no CORS by default: no Access-Control headers, preflight gets 404', async () => {
    const app = await server({});
    const pre = await app.inject(preflight(APP));
    assert.equal(pre.statusCode, 404);
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    const health = await app.inject({ method: 'GET', url: '/health', headers: { origin: APP } });
    assert.equal(health.statusCode, 200);
    assert.equal(health.headers['access-control-allow-origin'], undefined);
  });

  it('an allow-list: listed origins get CORS headers and an answered preflight, others none', async () => {
    const app = await server({ cors: [APP, 'http://localhost:5173'] });
    const pre = await app.inject(preflight(APP));
    assert.equal(pre.statusCode, 204);
    assert.equal(pre.headers['access-control-allow-origin'], APP);
    assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
    assert.match(String(pre.headers['access-control-allow-headers']), /content-type/);
    assert.match(String(pre.headers.vary), /Origin/);
    const photo = readFileSync(samplePhotos[0]);
    const post = await app.inject({ method: 'POST', url: '/v1/recognize', payload: photo, headers: { origin: 'http://localhost:5173', 'content-type': 'image/jpeg' } });
    assert.equal(post.statusCode, 200, post.body);
    assert.equal(post.headers['access-control-allow-origin'], 'http://localhost:5173');
    assert.ok(post.json().faces.length >= 3);
    const other = await app.inject({ ...preflight('https://evil.example.net') });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const otherGet = await app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example.net' } });
    assert.equal(otherGet.headers['access-control-allow-origin'], undefined);
  });

  it("'*' lets any origin call", async () => {
    const app = await server({ cors: ['*'] });
    const r = await app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://anywhere.example' } });
    assert.equal(r.headers['access-control-allow-origin'], '*');
  });

  it('--cors takes origins only, and says what is wrong', () => {
    assert.deepEqual(parseCors(`${APP}, http://localhost:5173`), [APP, 'http://localhost:5173']);
    assert.deepEqual(parseCors('*'), ['*']);
    assert.throws(() => parseCors(`${APP}/`), /not an origin .*did you mean https:\/\/app\.example\.com\?/);
    assert.throws(() => parseCors('app.example.com'), /not an origin/);
    assert.throws(() => parseCors(' , '), /--cors needs origins/);
    const r = ferkit(['serve', '--cors', 'ftp://files.example.com']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ferkit: --cors: "ftp:\/\/files\.example\.com" is not an origin/);
  });

  it('/browser/ serves the web model and face-api weights; a missing browser build is a 404 that says what to run', async () => {
    const app = await server({ browser: { dir: join(tempDir('no-browser-build'), 'browser') } });
    const config = await app.inject({ method: 'GET', url: '/browser/model/config.json' });
    assert.equal(config.statusCode, 200);
    assert.deepEqual(config.json().classes, rec.classes);
    const onnx = await app.inject({ method: 'GET', url: '/browser/model/model.onnx' });
    assert.deepEqual(onnx.rawPayload, readFileSync(join(bundledModelDir(WEB_MODEL), 'model.onnx')));
    const manifest = await app.inject({ method: 'GET', url: '/browser/face-models/ssd_mobilenetv1_model-weights_manifest.json' });
    assert.equal(manifest.statusCode, 200);
    assert.ok(Array.isArray(manifest.json()));
    const bundle = await app.inject({ method: 'GET', url: '/browser/ferkit.js' });
    assert.equal(bundle.statusCode, 404);
    assert.match(bundle.json().message, /browser build is missing .*npm run build/);
    const traversal = await app.inject({ method: 'GET', url: '/browser/model/..%2f..%2fpackage.json' });
    assert.equal(traversal.statusCode, 404);
  });
});
