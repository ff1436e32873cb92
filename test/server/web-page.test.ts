// The web page end to end in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): upload a real photo, wait for the server's answer, check the faces listed and
// the boxes drawn on the canvas, and keep a screenshot as a test artifact (path printed).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadRecognizer } from '../../src/api/index.js';
import { buildServer } from '../../src/server/app.js';
import { samplePhotos } from '../api/fixtures.js';

const CHROMIUM = process.env.FERKIT_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set FERKIT_CHROMIUM)`;

describe('web page in headless Chromium', { skip }, () => {
  let app: FastifyInstance;
  let url: string;
  before(async () => {
    app = await buildServer({ recognizer: await loadRecognizer() });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app.close();
  });

  it('uploads a real photo and draws boxes and expression bars for every face', async (t) => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url);
      assert.equal(await page.title(), 'ferkit: facial expressions');
      await page.setInputFiles('#file', samplePhotos[0]);
      await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 120_000 });
      const status = await page.textContent('#status');
      assert.equal(await page.getAttribute('body', 'data-state'), 'done', `page says: ${status}`);
      assert.match(status ?? '', /^3 faces in sample1\.jpg/);
      const labels = await page.$$eval('#faces li', (lis) => lis.map((li) => (li as HTMLElement).dataset.label));
      assert.equal(labels.length, 3);
      const classes = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
      for (const l of labels) assert.ok(classes.includes(l!), `label ${l}`);
      assert.equal(await page.$$eval('#faces li .bar', (bars) => bars.length), 3 * classes.length);
      // The canvas shows the photo (scaled to 960 wide) with a box stroke in the face's colour.
      const canvas = await page.$eval('#view', (c) => {
        const cv = c as HTMLCanvasElement;
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        const colours = new Set<string>();
        for (let i = 0; i < d.length; i += 4 * 97) colours.add(`${d[i] >> 4},${d[i + 1] >> 4},${d[i + 2] >> 4}`);
        return { width: cv.width, height: cv.height, colours: colours.size };
      });
      assert.deepEqual([canvas.width, canvas.height], [960, 640]);
      assert.ok(canvas.colours > 200, `the canvas holds a photo (${canvas.colours} colours)`);
      // Each face's box is stroked in its expression's colour (the page's COLOURS table).
      const hex: Record<string, string> = { angry: '#e53935', disgust: '#43a047', fear: '#8e24aa', happy: '#fdd835', sad: '#1e88e5', surprise: '#fb8c00', neutral: '#9e9e9e' };
      for (const l of new Set(labels)) {
        const n = await page.$eval('#view', (c, h) => {
          const cv = c as HTMLCanvasElement;
          const want = [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16));
          const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
          let count = 0;
          for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - want[0]) + Math.abs(d[i + 1] - want[1]) + Math.abs(d[i + 2] - want[2]) < 12) count++;
          return count;
        }, hex[l!]);
        assert.ok(n > 300, `${n} pixels in ${l}'s colour ${hex[l!]}: its box is drawn`);
      }
      // Cards are numbered 1, 2, 3 like the boxes, in reading order (the server's order).
      const cards = await page.$$eval('#faces li', (lis) => lis.map((li) => ({ face: (li as HTMLElement).dataset.face, box: (li as HTMLElement).dataset.box!.split(',').map(Number), text: li.querySelector('strong')!.textContent })));
      assert.deepEqual(cards.map((c) => c.face), ['1', '2', '3']);
      cards.forEach((c, i) => assert.match(c.text ?? '', new RegExp(`^face ${i + 1}: `)));
      for (let i = 1; i < cards.length; i++) assert.ok(cards[i].box[0] > cards[i - 1].box[0], 'one row of faces: left to right');
      const shot = join(tmpdir(), 'ferkit-web-page.png');
      await page.screenshot({ path: shot, fullPage: true });
      t.diagnostic(`screenshot: ${shot}`);

      // Labels stay readable in a narrow window: at least 12 screen pixels high.
      const labelScreenPx = () => page.$eval('#view', (c) => (Number((c as HTMLCanvasElement).dataset.labelPx) * (c as HTMLCanvasElement).clientWidth) / (c as HTMLCanvasElement).width);
      assert.ok((await labelScreenPx()) >= 12);
      await page.setViewportSize({ width: 360, height: 800 });
      await page.waitForTimeout(300);
      assert.ok((await labelScreenPx()) >= 12, `label ${await labelScreenPx()} screen px at 360 px wide`);

      // An error clears the previous result: no old picture or cards stay up.
      await page.setInputFiles('#file', { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a picture') });
      await page.waitForSelector('body[data-state="error"]', { timeout: 60_000 });
      assert.equal(await page.$$eval('#faces li', (lis) => lis.length), 0);
      const blank = await page.$eval('#view', (c) => {
        const cv = c as HTMLCanvasElement;
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        return d.every((v) => v === 0);
      });
      assert.ok(blank, 'the canvas is cleared');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  it('a 24 MP photo, over the server\'s pixel limit, is shrunk in the browser and recognised', async () => {
    const { chromium } = await import('playwright-core');
    const sharp = (await import('sharp')).default;
    const big = await sharp(samplePhotos[0]).resize(6000, 4000).jpeg({ quality: 85 }).toBuffer();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      await page.goto(url);
      await page.setInputFiles('#file', { name: 'big.jpg', mimeType: 'image/jpeg', buffer: big });
      await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 120_000 });
      const status = await page.textContent('#status');
      assert.equal(await page.getAttribute('body', 'data-state'), 'done', `page says: ${status}`);
      assert.match(status ?? '', /^3 faces in big\.jpg .*sent at 2048x1365\)$/);
    } finally {
      await browser.close();
    }
  });
});
