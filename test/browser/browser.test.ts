// The browser build end to end in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): built with esbuild into a temp folder and served by `ferkit serve`'s app under
// /browser/, it labels a real photo in a page that imports only ferkit.js, and the result is
// checked against Node's recognizer on the same model files (models/web): the same faces, boxes
// within 2 px, the same top labels. Also the webcam path (Chromium's fake camera playing a real
// photo) and the web page's client-side mode.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { Recognizer, type FaceResult, type FrameResult } from '../../src/api/index.js';
import { tfjsFaceDetector } from '../../src/detect/detector.js';
import { loadModelFolder } from '../../src/infer/load.js';
import { bundledModelDir } from '../../src/models/io.js';
import { decodeVideo, ffmpegPath } from '../../src/data/video.js';
import { buildServer } from '../../src/server/app.js';
import { WEB_MODEL } from '../../src/server/browser-assets.js';
import { buildBrowser } from '../../scripts/build-browser.js';
import { samplePhotos } from '../api/fixtures.js';
import { tempDir } from '../data/data-fixtures.js';

const CHROMIUM = process.env.FERKIT_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set FERKIT_CHROMIUM)`;
const webModel = bundledModelDir(WEB_MODEL);

/** Node's and the browser's faces agree: same count and order, boxes within 2 px, same labels. */
function assertSameFaces(browser: FaceResult[], node: FaceResult[], what: string): number {
  assert.equal(browser.length, node.length, `${what}: ${browser.length} faces in the browser, ${node.length} in Node`);
  let worst = 0;
  node.forEach((n, i) => {
    const b = browser[i];
    const d = Math.max(...n.box.map((v, k) => Math.abs(v - b.box[k])));
    worst = Math.max(worst, d);
    assert.ok(d <= 2, `${what} face ${i}: box ${JSON.stringify(b.box)} in the browser, ${JSON.stringify(n.box)} in Node`);
    assert.equal(b.label, n.label, `${what} face ${i}: ${JSON.stringify(b.probabilities)} in the browser, ${JSON.stringify(n.probabilities)} in Node`);
  });
  return worst;
}

describe('browser build in headless Chromium', { skip }, () => {
  let app: FastifyInstance;
  let url: string;
  let browser: Browser;
  let node: Recognizer;
  let camera: string;
  const photo = samplePhotos[0];

  before(async () => {
    const out = tempDir('browser-build');
    const files = await buildBrowser(out);
    const bundle = files[join(out, 'ferkit.js')];
    assert.ok(bundle > 100_000, `ferkit.js is ${bundle} bytes`);
    // Chromium's fake webcam plays a y4m file: the photo at 640 px, five frames.
    camera = join(tempDir('browser-camera'), 'camera.y4m');
    execFileSync(ffmpegPath(), ['-v', 'error', '-loop', '1', '-i', photo, '-vf', 'scale=640:-2,format=yuv420p', '-frames:v', '5', '-r', '5', '-y', camera]);
    // The browser build detects with face-api on TF.js: so does Node here (its default, face-api's
    // nets on onnxruntime, resamples the picture with libvips and moves boxes by a few pixels).
    node = new Recognizer(await loadModelFolder(webModel, { runtime: 'onnx' }), {}, tfjsFaceDetector);
    app = await buildServer({ recognizer: node, browser: { dir: out } });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera}`],
    });
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await node?.dispose();
  });

  /** A blank page at the server's origin (so it can import /browser/ferkit.js) with the photo at /t/photo.jpg. */
  async function testPage(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route(`${url}/t/page.html`, (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>ferkit browser test</title><img id="photo" src="/t/photo.jpg">' }));
    await page.route(`${url}/t/photo.jpg`, (r) => r.fulfill({ contentType: 'image/jpeg', body: readFileSync(photo) }));
    await page.goto(`${url}/t/page.html`);
    return { page, errors };
  }

  it('a page importing only ferkit.js finds the faces and labels of a real photo as Node does', async (t) => {
    const { page, errors } = await testPage();
    const got = await page.evaluate(async () => {
      const ferkit = await import('/browser/ferkit.js' as string);
      const rec = await ferkit.loadRecognizer();
      const img = document.getElementById('photo') as HTMLImageElement;
      await img.decode();
      const fromImage = await rec.recognizeImage(img);
      const blob = await (await fetch('/t/photo.jpg')).blob();
      return { fromImage, fromBlob: await rec.recognize(blob), classes: rec.classes, backend: rec.backend };
    });
    const want = await node.recognize(photo);
    assert.ok(want.length >= 2, `Node finds ${want.length} faces in ${photo}`);
    assert.deepEqual(got.classes, node.classes);
    assert.deepEqual([got.fromImage.width, got.fromImage.height], [1920, 1280]);
    const worst = Math.max(assertSameFaces(got.fromImage.faces, want, 'img element'), assertSameFaces(got.fromBlob, want, 'Blob'));
    t.diagnostic(`${want.length} faces, largest box difference ${worst.toFixed(2)} px; detector backend ${got.backend}; ${got.fromImage.ms.toFixed(0)} ms in the page`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('the webcam: startWebcam() and stream() track the faces of a live video frame by frame', async () => {
    const { page, errors } = await testPage();
    const frames = (await page.evaluate(async () => {
      const ferkit = await import('/browser/ferkit.js' as string);
      const rec = await ferkit.loadRecognizer();
      const { video, stop } = await ferkit.startWebcam();
      const out = [];
      // A loaded test machine takes seconds per frame: tracks must outlive that gap here.
      for await (const frame of rec.stream(video, { fps: 5, maxGap: 120 })) if (out.push(frame) === 3) break;
      stop();
      return out;
    })) as FrameResult[];
    // Node on the same camera picture, as ffmpeg decodes the file Chromium plays.
    const still = (await decodeVideo(camera, { maxFrames: 1 })).frames[0];
    const want = await node.recognize(still);
    assert.equal(frames.length, 3);
    for (const f of frames) {
      assert.deepEqual([f.width, f.height], [still.width, still.height]);
      assert.deepEqual(f.faces.map((x) => x.faceId).sort(), want.map((_, i) => i + 1), 'each face keeps its track id (numbered from 1)');
      assert.deepEqual(f.faces.map((x) => x.label), want.map((x) => x.label), JSON.stringify(f.faces.map((x) => x.probabilities)));
    }
    assert.ok(frames[2].time > frames[0].time);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("the web page's client-side mode labels an upload in the page, without calling the API", async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    const apiCalls: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (r.url().includes('/v1/')) apiCalls.push(r.url());
    });
    await page.goto(url);
    await page.selectOption('#where', 'browser');
    await page.setInputFiles('#file', photo);
    await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 120_000 });
    const status = await page.textContent('#status');
    assert.equal(await page.getAttribute('body', 'data-state'), 'done', `page says: ${status}`);
    assert.match(status ?? '', /onnxruntime-web/);
    const labels = await page.$$eval('#faces li', (lis) => lis.map((li) => (li as HTMLElement).dataset.label));
    assert.deepEqual(labels, (await node.recognize(photo)).map((f) => f.label));
    assert.deepEqual(apiCalls, []);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
