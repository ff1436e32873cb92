// The HTTP API in-process (Fastify inject): health, recognize on a real photo (raw and multipart),
// a video, the OpenAPI document, 4xx for garbage and over-limit input, and concurrent requests that
// are all answered (or refused with 503 past the queue limit), never crashed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { loadRecognizer, Recognizer } from '../../src/api/index.js';
import { buildServer } from '../../src/server/app.js';
import { ckVideo, samplePhotos } from '../api/fixtures.js';

function multipart(field: string, filename: string, type: string, bytes: Buffer): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----ferkit-test-boundary';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`);
  return { payload: Buffer.concat([head, bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('ferkit serve (HTTP API)', () => {
  let rec: Recognizer;
  let app: FastifyInstance;
  let photo: Buffer;
  before(async () => {
    rec = await loadRecognizer();
    app = await buildServer({ recognizer: rec, limits: { maxVideoSeconds: 5 } });
    photo = readFileSync(samplePhotos[0]);
  });
  after(async () => {
    await app.close();
  });

  it('GET /health says what runs', async () => {
    const r = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(r.statusCode, 200);
    const h = r.json();
    assert.equal(h.status, 'ok');
    assert.equal(h.engine, rec.engine);
    assert.deepEqual(h.classes, rec.classes);
    assert.equal(h.queue, 0);
  });

  it('POST /v1/recognize: a real photo as raw bytes and as multipart gives the same faces', async () => {
    const raw = await app.inject({ method: 'POST', url: '/v1/recognize', payload: photo, headers: { 'content-type': 'image/jpeg' } });
    assert.equal(raw.statusCode, 200, raw.body);
    const a = raw.json();
    assert.deepEqual([a.width, a.height], [1920, 1280]);
    assert.ok(a.faces.length >= 3);
    for (const f of a.faces) {
      assert.equal(f.landmarks.length, 68);
      assert.ok(Math.abs(a.classes.reduce((s: number, c: string) => s + f.probabilities[c], 0) - 1) < 1e-4);
      assert.ok(a.classes.includes(f.label) && f.confidence > 0);
    }
    const mp = await app.inject({ method: 'POST', url: '/v1/recognize', ...multipart('file', 'sample1.jpg', 'image/jpeg', photo) });
    assert.equal(mp.statusCode, 200, mp.body);
    assert.deepEqual(mp.json().faces.map((f: { label: string }) => f.label), a.faces.map((f: { label: string }) => f.label));
  });

  it('4xx with a clear message: garbage, wrong content type, empty multipart, too many bytes or pixels', async () => {
    const garbage = await app.inject({ method: 'POST', url: '/v1/recognize', payload: Buffer.from('definitely not a picture'), headers: { 'content-type': 'image/png' } });
    assert.equal(garbage.statusCode, 400);
    assert.match(garbage.json().message, /upload: not an image/);
    const named = await app.inject({ method: 'POST', url: '/v1/recognize', ...multipart('file', 'holiday.jpg', 'image/jpeg', Buffer.from('junk')) });
    assert.equal(named.statusCode, 400);
    assert.match(named.json().message, /holiday\.jpg: not an image/);
    const json = await app.inject({ method: 'POST', url: '/v1/recognize', payload: { image: 'x' } });
    assert.equal(json.statusCode, 415);
    const empty = await app.inject({ method: 'POST', url: '/v1/recognize', payload: Buffer.alloc(0), headers: { 'content-type': 'image/jpeg' } });
    assert.ok(empty.statusCode === 400, `empty body: ${empty.statusCode} ${empty.body}`);
    const small = await buildServer({ recognizer: rec, limits: { maxImageBytes: 100_000, maxPixels: 1_000_000 } });
    try {
      const big = await small.inject({ method: 'POST', url: '/v1/recognize', payload: photo, headers: { 'content-type': 'image/jpeg' } });
      assert.equal(big.statusCode, 413);
      assert.equal(big.json().error, 'Payload Too Large');
      const bigMp = await small.inject({ method: 'POST', url: '/v1/recognize', ...multipart('file', 'sample1.jpg', 'image/jpeg', photo) });
      assert.equal(bigMp.statusCode, 413, bigMp.body);
      const sharp = (await import('sharp')).default;
      const wide = await sharp({ create: { width: 2000, height: 600, channels: 3, background: '#808080' } }).jpeg().toBuffer();
      const px = await small.inject({ method: 'POST', url: '/v1/recognize', payload: wide, headers: { 'content-type': 'image/jpeg' } });
      assert.equal(px.statusCode, 400);
      assert.match(px.json().message, /2000x600 = 1200000 pixels; the limit is 1000000/);
    } finally {
      await small.close();
    }
  });

  it('POST /v1/recognize-video: timelines for a CK+48 mp4; a too-long or broken video is a 400', async () => {
    const video = await ckVideo();
    const bytes = readFileSync(video.path);
    const r = await app.inject({ method: 'POST', url: '/v1/recognize-video', payload: bytes, headers: { 'content-type': 'video/mp4' } });
    assert.equal(r.statusCode, 200, r.body);
    const v = r.json();
    assert.equal(v.timelines.length, 2);
    assert.equal(v.summary.faces, 2);
    assert.equal(v.fps, 5, 'analysed at the server rate');
    assert.ok(v.summary.frames >= 4 && v.summary.frames <= 6, `${v.summary.frames} frames at 5 fps over 1 s`);
    const strict = await buildServer({ recognizer: rec, limits: { maxVideoSeconds: 0.5 } });
    try {
      const long = await strict.inject({ method: 'POST', url: '/v1/recognize-video', ...multipart('file', 'party.mp4', 'video/mp4', bytes) });
      assert.equal(long.statusCode, 400);
      assert.match(long.json().message, /party\.mp4: video is 1\.0 s long; the limit is 0\.5 s/);
    } finally {
      await strict.close();
    }
    const broken = await app.inject({ method: 'POST', url: '/v1/recognize-video', payload: bytes.subarray(0, 300), headers: { 'content-type': 'video/mp4' } });
    assert.equal(broken.statusCode, 400);
    assert.match(broken.json().message, /^upload: /);
  });

  it('every malformed request is a 4xx with a reason: broken multipart, a 5000x2 picture, an unknown faces mode', async () => {
    const form = (payload: string, type = 'multipart/form-data; boundary=abc') => app.inject({ method: 'POST', url: '/v1/recognize', payload, headers: { 'content-type': type } });
    const noBoundary = await form('xxxx', 'multipart/form-data');
    assert.equal(noBoundary.statusCode, 400, noBoundary.body);
    assert.match(noBoundary.json().message, /malformed multipart\/form-data/);
    const cut = await form('--abc\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\nxxxx');
    assert.equal(cut.statusCode, 400, cut.body);
    const video = await app.inject({ method: 'POST', url: '/v1/recognize-video', payload: '--abc\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\nxx', headers: { 'content-type': 'multipart/form-data; boundary=abc' } });
    assert.equal(video.statusCode, 400, video.body);
    const none = await app.inject({ method: 'POST', url: '/v1/recognize', payload: 'hello' });
    assert.equal(none.statusCode, 415);
    assert.match(none.json().message, /unsupported Content-Type/);
    const sharp = (await import('sharp')).default;
    for (const [w, h] of [[5000, 2], [2, 5000]]) {
      const thin = await sharp({ create: { width: w, height: h, channels: 3, background: '#808080' } }).png().toBuffer();
      const r = await app.inject({ method: 'POST', url: '/v1/recognize', payload: thin, headers: { 'content-type': 'image/png' } });
      assert.equal(r.statusCode, 200, `${w}x${h}: ${r.body}`);
      assert.deepEqual([r.json().width, r.json().height, r.json().faces], [w, h, []]);
    }
    const mode = await app.inject({ method: 'POST', url: '/v1/recognize?faces=sometimes', payload: photo, headers: { 'content-type': 'image/jpeg' } });
    assert.equal(mode.statusCode, 400);
  });

  it('?faces=whole reads the photo as one face crop; answers number faces and count those beyond --max-faces', async () => {
    const whole = await app.inject({ method: 'POST', url: '/v1/recognize?faces=whole', payload: photo, headers: { 'content-type': 'image/jpeg' } });
    assert.equal(whole.statusCode, 200, whole.body);
    assert.deepEqual(whole.json().faces.map((f: { faceId: number; detected: boolean; box: number[] }) => [f.faceId, f.detected, f.box]), [[1, false, [0, 0, 1920, 1280]]]);
    const capped = await buildServer({ recognizer: new Recognizer(rec.runner, { maxFaces: 1 }) });
    try {
      const r = (await capped.inject({ method: 'POST', url: '/v1/recognize', payload: photo, headers: { 'content-type': 'image/jpeg' } })).json();
      assert.equal(r.faces.length, 1);
      assert.ok(r.droppedFaces >= 2, `dropped ${r.droppedFaces}`);
    } finally {
      await capped.close();
    }
  });

  it('--api-key: /v1/* needs the key (X-API-Key or Bearer); /health says so and stays open', async () => {
    const keyed = await buildServer({ recognizer: rec, apiKey: 'correct horse battery' });
    try {
      const post = (headers: Record<string, string>) => keyed.inject({ method: 'POST', url: '/v1/recognize', payload: photo, headers: { 'content-type': 'image/jpeg', ...headers } });
      const missing = await post({});
      assert.equal(missing.statusCode, 401);
      assert.match(missing.json().message, /needs an API key: send it in the X-API-Key header/);
      assert.equal((await post({ 'x-api-key': 'wrong horse' })).statusCode, 401);
      const video = await keyed.inject({ method: 'POST', url: '/v1/recognize-video', payload: Buffer.from('x'), headers: { 'content-type': 'video/mp4' } });
      assert.equal(video.statusCode, 401);
      assert.equal((await post({ 'x-api-key': 'correct horse battery' })).statusCode, 200);
      assert.equal((await post({ authorization: 'Bearer correct horse battery' })).statusCode, 200);
      const health = await keyed.inject({ method: 'GET', url: '/health' });
      assert.equal(health.statusCode, 200);
      assert.equal(health.json().apiKey, true);
      assert.equal((await app.inject({ method: 'GET', url: '/health' })).json().apiKey, false);
    } finally {
      await keyed.close();
    }
  });

  it('serves an OpenAPI document and the web page', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.match(doc.openapi, /^3\./);
    assert.ok(doc.paths['/v1/recognize'].post.requestBody.content['image/jpeg']);
    assert.ok(doc.paths['/v1/recognize'].post.requestBody.content['multipart/form-data']);
    assert.ok(doc.paths['/v1/recognize-video'].post.responses['200']);
    assert.ok(doc.paths['/health'].get);
    const page = await app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    assert.match(page.body, /<input id="file" type="file"/);
  });

  it('concurrent requests are all answered; past the queue limit they get 503, and the server goes on', async () => {
    const one = () => app.inject({ method: 'POST', url: '/v1/recognize', payload: photo, headers: { 'content-type': 'image/jpeg' } });
    const all = await Promise.all([one(), one(), one(), one(), one()]);
    assert.deepEqual(all.map((r) => r.statusCode), [200, 200, 200, 200, 200]);
    const labels = all.map((r) => JSON.stringify(r.json().faces.map((f: { label: string }) => f.label)));
    assert.equal(new Set(labels).size, 1, 'every answer is the same');
    const tight = await buildServer({ recognizer: rec, limits: { maxQueue: 2 } });
    try {
      const burst = await Promise.all(Array.from({ length: 5 }, () => tight.inject({ method: 'POST', url: '/v1/recognize', payload: photo, headers: { 'content-type': 'image/jpeg' } })));
      const codes = burst.map((r) => r.statusCode).sort();
      assert.deepEqual(codes, [200, 200, 503, 503, 503]);
      assert.match(burst.find((r) => r.statusCode === 503)!.json().message, /busy/);
      assert.equal((await tight.inject({ method: 'POST', url: '/v1/recognize', payload: photo, headers: { 'content-type': 'image/jpeg' } })).statusCode, 200);
    } finally {
      await tight.close();
    }
  });
});

describe('ferkit serve --workers (recognition on worker threads)', () => {
  it('answers like the in-process recognizer, concurrently, with the same 4xx for garbage', async () => {
    const { RecognizePool } = await import('../../src/server/recognize-pool.js');
    const rec = await loadRecognizer();
    const pool = new RecognizePool(2);
    await pool.ready;
    const app = await buildServer({ recognizer: rec, pool });
    try {
      const photo = readFileSync(samplePhotos[0]);
      const post = (payload: Buffer) => app.inject({ method: 'POST', url: '/v1/recognize', payload, headers: { 'content-type': 'image/jpeg' } });
      const [a, b, c] = await Promise.all([post(photo), post(photo), post(photo)]);
      assert.deepEqual([a.statusCode, b.statusCode, c.statusCode], [200, 200, 200]);
      const local = await rec.recognize(photo);
      for (const r of [a, b, c]) {
        const faces = r.json().faces as { label: string; probabilities: Record<string, number> }[];
        assert.deepEqual(faces.map((f) => f.label), local.map((f) => f.label));
        faces.forEach((f, i) => rec.classes.forEach((k) => assert.ok(Math.abs(f.probabilities[k] - local[i].probabilities[k]!) < 1e-5)));
      }
      const bad = await post(Buffer.from('nope'));
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().message, /upload: not an image/);
      assert.equal((await app.inject({ method: 'GET', url: '/health' })).json().workers, 2);
    } finally {
      await app.close();
      await pool.close();
    }
  });
});
