// `ferkit train` and `ferkit eval` as a user runs them, on a small folder of real FER2013 faces
// (made at test time) with one JPEG that passes the header check but whose pixel data is cut
// short: a diverged run ships nothing; --out holds one run; --resume keeps the run's settings;
// --skip-bad skips and counts what fails to decode.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ferImages, tempDir } from '../data/data-fixtures.js';
import { ferkit } from '../helpers/cli.js';

const TINY = ['--method', 'ce', '--dataset', 'folder', '--epochs', '1', '--batch-size', '16', '--max-steps', '2', '--width', '0.25', '--workers', '1'];

describe('ferkit train: runs that ship nothing broken', () => {
  let clean: string;
  let withBad: string;
  let work: string;
  before(() => {
    work = tempDir('train-cli');
    clean = join(work, 'clean');
    withBad = join(work, 'with-bad');
    for (const root of [clean, withBad]) {
      for (const cls of ['happy', 'sad']) {
        mkdirSync(join(root, cls), { recursive: true });
        for (const f of ferImages(cls, 24)) copyFileSync(f, join(root, cls, basename(f)));
      }
    }
    // A real JPEG cut after 400 bytes: its header reads, its pixels do not.
    writeFileSync(join(withBad, 'happy', 'zz-cut.jpg'), readFileSync(ferImages('happy', 1)[0]).subarray(0, 400));
  });

  it('a diverged run (--lr 1e6) stops with exit 1 and a clear error, and writes no model or checkpoint', () => {
    const out = join(work, 'diverged');
    const r = ferkit(['--quiet', 'train', ...TINY, '--root', clean, '--lr', '1e6', '--max-steps', '3', '--epochs', '2', '--out', out]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /ferkit: training diverged: .*(NaN|Infinity).*lower --lr or add --clip-grad-norm/);
    assert.ok(!existsSync(join(out, 'best')) && !existsSync(join(out, 'checkpoint.safetensors')), 'nothing of the diverged weights is saved');
  });

  it('--skip-bad skips a file that fails to decode; --out holds one run; --resume refuses changed settings', () => {
    const out = join(work, 'run');
    const first = ferkit(['train', ...TINY, '--root', withBad, '--lr', '0.01', '--skip-bad', '--out', out]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /skipped .*zz-cut\.jpg: cannot decode image/);
    assert.match(first.stderr, /--skip-bad: 1 unreadable samples skipped \(0 when reading, 1 when decoding\)/);
    assert.match(first.stderr, /on 48 images/);
    assert.ok(existsSync(join(out, 'best', 'model.safetensors')));

    const again = ferkit(['train', ...TINY, '--root', withBad, '--lr', '0.01', '--skip-bad', '--out', out]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds a training run \(log\.jsonl, checkpoint\.safetensors, best\): --resume continues it, --overwrite replaces it/);

    const changed = ferkit(['train', ...TINY, '--root', withBad, '--lr', '0.02', '--batch-size', '8', '--skip-bad', '--out', out, '--resume']);
    assert.equal(changed.code, 1);
    assert.match(changed.stderr, /--resume: these settings differ from the run in .*: --batch-size "16" → "8", --lr "0\.01" → "0\.02"; .*--allow-changes/);

    const told = ferkit(['train', ...TINY, '--root', withBad, '--lr', '0.02', '--skip-bad', '--out', out, '--resume', '--allow-changes', '--epochs', '2']);
    assert.equal(told.code, 0, told.stderr);
    assert.match(told.stderr, /resuming with changed settings: --epochs "1" → "2", --lr "0\.01" → "0\.02"/);
    assert.equal(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').length, 2, 'the resumed run continues the log');

    const replaced = ferkit(['train', ...TINY, '--root', withBad, '--lr', '0.01', '--skip-bad', '--out', out, '--overwrite']);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.equal(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').length, 1, 'one run in the log, not two');
  });

  it('eval --skip-bad scores the readable faces and counts the one that fails to decode', () => {
    const stop = ferkit(['--quiet', 'eval', '--data', withBad, '--json']);
    assert.equal(stop.code, 1);
    assert.match(stop.stderr, /zz-cut\.jpg: cannot decode image/);
    const r = ferkit(['eval', '--data', withBad, '--json', '--skip-bad']);
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout);
    assert.deepEqual([e.n, e.skipped], [48, 1]);
    assert.match(r.stderr, /--skip-bad: 1 unreadable samples skipped \(0 when reading, 1 when decoding\)/);
  });
});
