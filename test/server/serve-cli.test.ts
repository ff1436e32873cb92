// `ferkit serve` as a process: bound beyond loopback without a key it says so on stderr (even with
// --quiet); with FERKIT_API_KEY it requires the key and gives no warning.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { freePort } from '../helpers/ports.js';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/ferkit.js');


/** Starts `ferkit serve`, waits until /health answers, runs `f`, stops it; returns its stderr. */
async function withServe(args: string[], env: Record<string, string>, f: (base: string) => Promise<void>): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'serve', '--port', String(port), ...args], { env: { ...process.env, FERKIT_API_KEY: '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  try {
    const until = Date.now() + 180_000;
    const base = `http://127.0.0.1:${port}`;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`ferkit serve exited: ${stderr}`);
      if (Date.now() > until) throw new Error(`ferkit serve did not start: ${stderr}`);
      if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 300)); // the warning is written just after listening starts
    await f(base);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
  return stderr;
}

describe('ferkit serve (process)', () => {
  it('warns when bound beyond loopback without an API key', async () => {
    const stderr = await withServe(['--host', '0.0.0.0', '--quiet'], {}, async (base) => {
      const h = (await (await fetch(`${base}/health`)).json()) as { apiKey: boolean };
      assert.equal(h.apiKey, false);
    });
    assert.match(stderr, /warning: listening on 0\.0\.0\.0 without an API key: anyone who can reach this machine can use the API; set --api-key or FERKIT_API_KEY/);
  });

  it('with FERKIT_API_KEY: no warning, /v1/* needs the key', async () => {
    const stderr = await withServe(['--host', '0.0.0.0'], { FERKIT_API_KEY: 'a long enough key' }, async (base) => {
      const post = (headers: Record<string, string>) => fetch(`${base}/v1/recognize`, { method: 'POST', body: new Uint8Array([1, 2, 3]), headers: { 'content-type': 'image/png', ...headers } });
      assert.equal((await post({})).status, 401);
      assert.equal((await post({ 'x-api-key': 'a long enough key' })).status, 400, 'past the key check: the bytes are not an image');
    });
    assert.match(stderr, /ferkit serve: http/);
    assert.doesNotMatch(stderr, /warning/);
  });
});
