// Validation of broken data (truncated JPEG, empty file, garbage, bad label folder, missing file),
// skip-bad reports, and `ferkit data check` end to end.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, writeSkipReport } from '../../src/data/errors.js';
import { readDataset } from '../../src/data/registry.js';
import type { Dataset, ImageSample } from '../../src/data/types.js';
import { checkImageFile, validateDataset } from '../../src/data/validate.js';
import { ferImages, sharedData, tempDir } from './data-fixtures.js';
import { ferkit } from '../helpers/cli.js';

let dir = '';
let truncated = '';
let empty = '';
before(() => {
  dir = tempDir('broken');
  for (const cls of ['happy', 'sad']) {
    mkdirSync(join(dir, cls));
    for (const f of ferImages(cls, 3)) copyFileSync(f, join(dir, cls, f.split('/').pop()!));
  }
  truncated = join(dir, 'happy', 'zz_truncated.jpg');
  writeFileSync(truncated, readFileSync(ferImages('happy', 4)[3]!).subarray(0, 600));
  empty = join(dir, 'sad', 'zz_empty.jpg');
  writeFileSync(empty, '');
});

describe('image checks', () => {
  it('header level misses a truncated JPEG that full decoding catches; garbage and missing files named', async () => {
    assert.equal(await checkImageFile(ferImages('fear', 1)[0]!, 'full'), undefined);
    assert.equal(await checkImageFile(truncated, 'header'), undefined);
    assert.match((await checkImageFile(truncated, 'full'))!, /corrupt or unreadable image: .*premature end/i);
    const garbage = join(dir, 'garbage.png');
    writeFileSync(garbage, 'this is not a png');
    assert.match((await checkImageFile(garbage, 'header'))!, /unsupported image format/);
    assert.equal(await checkImageFile(join(dir, 'nope.jpg')), 'missing file');
    assert.equal(await checkImageFile(empty), 'empty file (0 bytes)');
  });
});

describe('folder reader + validateDataset on broken data', () => {
  it('the reader stops at the empty file, naming it; skipBad goes on', async () => {
    await assert.rejects(readDataset('folder', dir), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.message, `${empty}: empty file (0 bytes)`);
      return true;
    });
    const ds = await readDataset('folder', dir, { skipBad: true });
    assert.equal(ds.items.length, 7);
    assert.deepEqual(ds.skipped, [{ file: empty, problem: 'empty file (0 bytes)' }]);
  });
  it('full validation finds the truncated JPEG; skipBad removes it and the report lists both', async () => {
    const read = await readDataset('folder', dir, { skipBad: true });
    await assert.rejects(validateDataset(read, { level: 'full' }), (e: Error) => e.message.startsWith(`${truncated}: corrupt`));
    const { dataset, problems } = await validateDataset(read, { level: 'full', skipBad: true });
    assert.equal(dataset.items.length, 6);
    assert.deepEqual(problems.map((p) => p.file), [truncated]);
    const report = join(dir, 'skipped.json');
    await writeSkipReport(dataset, report);
    const json = JSON.parse(readFileSync(report, 'utf8'));
    assert.equal(json.kept, 6);
    assert.deepEqual(json.skipped.map((p: { file: string }) => p.file), [empty, truncated]);
  });
  it('an unknown class folder, a missing listed file, too-short clips and empty classes', async () => {
    const bad = tempDir('badlabel');
    mkdirSync(join(bad, 'smiling'));
    copyFileSync(ferImages('happy', 1)[0]!, join(bad, 'smiling', 'a.jpg'));
    await assert.rejects(readDataset('folder', bad), (e: Error) => e.message === `${join(bad, 'smiling')}: unknown label "smiling" (folder name is not an expression class)`);
    const ds: Dataset<ImageSample> = {
      name: 't', root: bad, classes: [3, 4], skipped: [],
      items: [{ id: 'x', image: { kind: 'file', path: join(bad, 'gone.jpg') }, label: 3 }],
    };
    await assert.rejects(validateDataset(ds), new RegExp(`${join(bad, 'gone.jpg')}: missing file`));
    const ok: Dataset<ImageSample> = { ...ds, items: [{ id: 'y', image: { kind: 'file', path: ferImages('happy', 1)[0]! }, label: 3 }] };
    const { problems } = await validateDataset(ok);
    assert.deepEqual(problems, [{ file: bad, problem: 'class "sad" has no samples' }]);
    const clip = { id: 'c1', frames: ferImages('sad', 3).map((path) => ({ kind: 'file' as const, path })), label: 4 };
    await assert.rejects(
      validateDataset({ name: 'c', root: bad, classes: [4], skipped: [], items: [clip] }, { minFrames: 16 }),
      /clip c1 has 3 frames, fewer than 16/,
    );
  });
});

describe('ferkit data check', () => {
  it('prints CK+48 counts and subjects as JSON', () => {
    const r = ferkit(['data', 'check', '--dataset', 'ckplus', '--root', sharedData('ckplus48'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.samples, 669);
    assert.deepEqual(report.classes, { angry: 78, disgust: 138, fear: 51, happy: 138, sad: 51, surprise: 180, contempt: 33 });
    assert.equal(typeof report.subjects, 'number');
    assert.deepEqual(report.problems, []);
  });
  it('a table by default; broken data: exit 1 naming the file, or --skip-bad with a report', () => {
    const t = ferkit(['data', 'check', '--dataset', 'folder', '--root', dir, '--skip-bad', '--level', 'full', '--skip-report', join(dir, 'r.json')]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /happy\s+3\n/);
    assert.match(t.stdout, /problems: 2/);
    assert.ok(t.stdout.includes(`${truncated}: corrupt`));
    assert.equal(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')).skipped.length, 2);
    const f = ferkit(['data', 'check', '--dataset', 'folder', '--root', dir]);
    assert.equal(f.code, 1);
    assert.equal(f.stderr.trim(), `ferkit: ${empty}: empty file (0 bytes)`);
  });
});
