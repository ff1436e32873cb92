// Probes for ffmpeg and onnxruntime-node: found, missing, broken, and the version parsed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath, probeFfmpeg, probeOnnxRuntime } from '../../src/util/tools.js';

describe('tool probes', () => {
  let dir: string;
  const saved = process.env.FERKIT_FFMPEG;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferkit-tools-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.FERKIT_FFMPEG;
    else process.env.FERKIT_FFMPEG = saved;
  });

  function script(name: string, body: string): string {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  }

  it('ffmpeg comes from FERKIT_FFMPEG, else ffmpeg on PATH', () => {
    process.env.FERKIT_FFMPEG = '/opt/x/ffmpeg';
    assert.equal(ffmpegPath(), '/opt/x/ffmpeg');
    delete process.env.FERKIT_FFMPEG;
    assert.equal(ffmpegPath(), 'ffmpeg');
  });

  it('reads the version from `ffmpeg -version`', () => {
    process.env.FERKIT_FFMPEG = script('ffmpeg-ok', 'echo "ffmpeg version 9.9.1-test Copyright (c) 2000-2099"');
    assert.deepEqual(probeFfmpeg(), { available: true, path: process.env.FERKIT_FFMPEG, version: '9.9.1-test' });
  });

  it('a missing or failing ffmpeg is unavailable, with the reason', () => {
    process.env.FERKIT_FFMPEG = join(dir, 'absent');
    const missing = probeFfmpeg();
    assert.equal(missing.available, false);
    assert.match(missing.error ?? '', /ENOENT/);
    process.env.FERKIT_FFMPEG = script('ffmpeg-broken', 'exit 3');
    assert.deepEqual(probeFfmpeg(), { available: false, path: process.env.FERKIT_FFMPEG, error: 'exit 3' });
  });

  it('onnxruntime-node reports its installed version', async () => {
    const r = await probeOnnxRuntime();
    // It is a dependency; its version must be the installed package's.
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    let installed: string | undefined;
    try {
      installed = (require('onnxruntime-node/package.json') as { version: string }).version;
    } catch {
      installed = undefined;
    }
    if (installed === undefined) assert.equal(r.available, false);
    else assert.deepEqual(r, { available: true, version: installed });
  });
});
