// The ferkit command as a user runs it (spawned through bin/ferkit.js): help, version, info JSON,
// clear errors and exit codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ferkit } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

describe('ferkit CLI', () => {
  it('--help lists the global options and every registered command, exit 0', () => {
    const r = ferkit(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: ferkit \[options\] \[command\]/);
    for (const text of ['--backend <name>', '--quiet', '--version', 'info', 'data']) {
      assert.ok(r.stdout.includes(text), `help mentions ${text}`);
    }
  });

  it('--version prints the version from package.json', () => {
    const r = ferkit(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('info prints the engine and tool facts as JSON (default backend: wasm)', () => {
    const r = ferkit(['info'], { FERKIT_BACKEND: '' });
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(info).sort(), ['backend', 'backendReason', 'ferkit', 'ffmpeg', 'native', 'node', 'onnxruntime', 'platform', 'tfjs', 'threads']);
    assert.equal(info.ferkit, pkg.version);
    assert.equal(info.tfjs, '4.22.0');
    assert.equal(info.backend, 'wasm');
    assert.match(info.backendReason, /default/);
    assert.equal(info.threads, 1, 'wasm in Node computes on one thread');
    assert.equal(info.node, process.version);
    assert.equal(info.platform, `${process.platform}-${process.arch}`);
    assert.equal(typeof info.onnxruntime.available, 'boolean');
    if (info.onnxruntime.available) assert.match(info.onnxruntime.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof info.ffmpeg.available, 'boolean');
    assert.equal(info.ffmpeg.path, process.env.FERKIT_FFMPEG || 'ffmpeg');
    if (info.ffmpeg.available) assert.equal(typeof info.ffmpeg.version, 'string');
  });

  it('FERKIT_BACKEND and --backend choose the backend and say why; --backend wins', () => {
    const env = ferkit(['info'], { FERKIT_BACKEND: 'cpu' });
    assert.equal(env.code, 0, env.stderr);
    const fromEnv = JSON.parse(env.stdout);
    assert.equal(fromEnv.backend, 'cpu');
    assert.match(fromEnv.backendReason, /FERKIT_BACKEND=cpu/);
    const flag = ferkit(['--backend', 'cpu', 'info'], { FERKIT_BACKEND: 'wasm' });
    assert.equal(flag.code, 0, flag.stderr);
    const fromFlag = JSON.parse(flag.stdout);
    assert.equal(fromFlag.backend, 'cpu');
    assert.match(fromFlag.backendReason, /--backend cpu/);
  });

  it('a missing ffmpeg is reported as unavailable, not an error', () => {
    const r = ferkit(['--backend', 'cpu', 'info'], { FERKIT_FFMPEG: '/nonexistent/ffmpeg' });
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.ffmpeg.available, false);
    assert.equal(info.ffmpeg.path, '/nonexistent/ffmpeg');
    assert.equal(info.ffmpeg.version, undefined);
  });

  it('an unknown backend is a clear error with exit code 1 and no stack trace', () => {
    const flag = ferkit(['--backend', 'gpu9000', 'info']);
    assert.equal(flag.code, 1);
    assert.equal(flag.stdout, '');
    assert.equal(flag.stderr, 'ferkit: --backend: unknown backend "gpu9000"; expected one of wasm, tensorflow, cpu\n');
    const env = ferkit(['info'], { FERKIT_BACKEND: 'tpu' });
    assert.equal(env.code, 1);
    assert.match(env.stderr, /^ferkit: FERKIT_BACKEND: unknown backend "tpu"/);
  });

  it('FERKIT_DEBUG=1 adds the stack trace', () => {
    const r = ferkit(['--backend', 'gpu9000', 'info'], { FERKIT_DEBUG: '1' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ferkit: --backend: unknown backend/);
    assert.match(r.stderr, /\n\s+at .*backend\.(ts|js):\d+/);
  });

  it('an unknown command fails with exit 1, names it, and suggests the near one', () => {
    const r = ferkit(['bogus']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ferkit: unknown command 'bogus'/);
    assert.match(r.stderr, /--help/);
    const near = ferkit(['inf']);
    assert.equal(near.code, 1);
    assert.match(near.stderr, /Did you mean info\?/);
  });

  it('bin/ferkit.js runs dist/ unless the sources changed after the build, then the sources with a note', () => {
    // A checkout laid out as the real one: bin/, node_modules (for tsx), dist/src/cli/main.js and
    // src/cli/main.ts that say which one ran.
    const root = mkdtempSync(join(tmpdir(), 'ferkit-bin-'));
    try {
      mkdirSync(join(root, 'bin'));
      copyFileSync('bin/ferkit.js', join(root, 'bin', 'ferkit.js'));
      symlinkSync(resolve('node_modules'), join(root, 'node_modules'));
      writeFileSync(join(root, 'package.json'), '{"type":"module"}');
      const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
      const source = join(root, 'src', 'cli', 'main.ts');
      const run = () => spawnSync(process.execPath, [join(root, 'bin', 'ferkit.js')], { encoding: 'utf8' });
      const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);
      mkdirSync(join(root, 'src', 'cli'), { recursive: true });
      writeFileSync(source, "const from: string = 'sources';\nconsole.log(from);\n");
      let r = run();
      assert.equal(r.stdout.trim(), 'sources', `no build: ${r.stderr}`);
      assert.equal(r.stderr, '');
      mkdirSync(join(root, 'dist', 'src', 'cli'), { recursive: true });
      writeFileSync(compiled, "console.log('compiled');\n");
      at(source, 1_000_000);
      at(compiled, 2_000_000);
      r = run();
      assert.equal(r.stdout.trim(), 'compiled', `fresh build: ${r.stderr}`);
      assert.equal(r.stderr, '');
      at(source, 3_000_000);
      r = run();
      assert.equal(r.stdout.trim(), 'sources', `stale build: ${r.stderr}`);
      assert.match(r.stderr, /src\/ changed after the last build .*running the sources/);
      // An installed package ships dist/ without src/.
      rmSync(join(root, 'src'), { recursive: true });
      r = run();
      assert.equal(r.stdout.trim(), 'compiled', r.stderr);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
