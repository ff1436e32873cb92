// The ferkit command as a user runs it: help, info JSON, clear errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

function ferkit(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/ferkit.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ferkit CLI', () => {
  it('--help lists the commands and exits 0', () => {
    const r = ferkit(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: ferkit/);
    assert.match(r.stdout, /info/);
  });

  it('info prints the engine facts as JSON (default backend: wasm)', () => {
    const r = ferkit(['info'], { FERKIT_BACKEND: '' });
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.backend, 'wasm');
    assert.equal(info.tfjs, '4.22.0');
    assert.equal(typeof info.ferkit, 'string');
    assert.equal(typeof info.backendReason, 'string');
    assert.equal(info.threads, 1);
    assert.equal(typeof info.onnxruntime.available, 'boolean');
    assert.equal(typeof info.ffmpeg.available, 'boolean');
  });

  it('FERKIT_BACKEND and --backend choose the backend and say why', () => {
    const env = ferkit(['info'], { FERKIT_BACKEND: 'cpu' });
    assert.equal(env.code, 0, env.stderr);
    assert.equal(JSON.parse(env.stdout).backend, 'cpu');
    assert.match(JSON.parse(env.stdout).backendReason, /FERKIT_BACKEND/);
    const flag = ferkit(['--backend', 'cpu', 'info'], { FERKIT_BACKEND: 'wasm' });
    assert.equal(JSON.parse(flag.stdout).backend, 'cpu');
    assert.match(JSON.parse(flag.stdout).backendReason, /--backend/);
  });

  it('an unknown backend is a clear error with exit code 1', () => {
    const r = ferkit(['--backend', 'gpu9000', 'info']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ferkit: --backend: unknown backend "gpu9000"; expected one of wasm, tensorflow, cpu/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace without FERKIT_DEBUG');
  });

  it('an unknown command fails and shows help', () => {
    const r = ferkit(['bogus']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown command 'bogus'/);
  });
});
