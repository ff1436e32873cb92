// `ferkit predict` and `ferkit demo` as a user runs them: JSON and CSV that parse, annotated PNGs
// and an annotated mp4 that decode, clear errors for bad arguments.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { probeVideo } from '../../src/data/video.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';
import { ckVideo, samplePhotos, type CkVideo } from '../api/fixtures.js';
import { ferkit } from '../helpers/cli.js';

async function assertPng(path: string): Promise<void> {
  const meta = await sharp(path).metadata();
  assert.equal(meta.format, 'png', path);
  assert.ok((meta.width ?? 0) > 100 && (meta.height ?? 0) > 100);
}

describe('ferkit predict', () => {
  let dir: string;
  let video: CkVideo;
  before(async () => {
    dir = tempDir('predict');
    mkdirSync(join(dir, 'photos'));
    // Real photos from the installed face-api package, in a temp folder (never in the repo).
    for (const p of samplePhotos.slice(0, 2)) copyFileSync(p, join(dir, 'photos', basename(p)));
    writeFileSync(join(dir, 'photos', 'notes.txt'), 'not an image; predict skips it');
    writeFileSync(join(dir, 'photos', 'broken.png'), 'a text file with an image name');
    video = await ckVideo();
  });

  it('--json on one photo: faces with boxes and probability rows', () => {
    const r = ferkit(['predict', samplePhotos[0], '--json', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.images.length, 1);
    assert.ok(out.images[0].faces.length >= 3);
    for (const f of out.images[0].faces) {
      assert.equal(f.box.length, 4);
      assert.ok(Math.abs(out.classes.reduce((a: number, c: string) => a + f.probabilities[c], 0) - 1) < 1e-4);
      assert.ok(out.classes.includes(f.label));
    }
  });

  it('--csv --annotate on a folder: one row per face, an annotated PNG per photo', async () => {
    const ann = join(dir, 'annotated');
    const r = ferkit(['predict', join(dir, 'photos'), '--csv', '--annotate', ann]);
    assert.equal(r.code, 0, r.stderr);
    const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
    assert.ok(rows.length >= 6, `${rows.length} faces in two group photos`);
    const classes = Object.keys(rows[0]).slice(9);
    assert.deepEqual(Object.keys(rows[0]).slice(0, 9), ['file', 'face', 'x', 'y', 'width', 'height', 'detected', 'label', 'confidence']);
    for (const row of rows) {
      const sum = classes.reduce((a, c) => a + Number(row[c]), 0);
      assert.ok(Math.abs(sum - 1) < 1e-4, `row sums to ${sum}`);
      assert.ok(classes.includes(row.label));
    }
    assert.deepEqual(new Set(rows.map((x) => basename(x.file))), new Set(['sample1.jpg', 'sample2.jpg']));
    assert.deepEqual(readdirSync(ann).sort(), ['sample1.png', 'sample2.png']);
    for (const f of readdirSync(ann)) await assertPng(join(ann, f));
    assert.match(r.stderr, /wrote 2 files/);
    // The broken picture in the folder is named and skipped; the others are still recognised.
    assert.match(r.stderr, /skipped .*broken\.png: not an image/);
    const one = ferkit(['predict', join(dir, 'photos', 'broken.png')]);
    assert.equal(one.code, 1);
    assert.match(one.stderr, /ferkit: .*broken\.png: not an image/);
  });

  it('a video: --json timelines per face and an annotated mp4 with every analysed frame', async () => {
    const ann = join(dir, 'video-out');
    const r = ferkit(['predict', video.path, '--json', '--annotate', ann, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.kind, 'video');
    assert.equal(out.timelines.length, 2);
    assert.equal(out.summary.frames, video.frames.length);
    for (const t of out.timelines) assert.equal(t.points.length, video.frames.length);
    const info = await probeVideo(join(ann, 'ck-two-faces.annotated.mp4'));
    assert.deepEqual([info.width, info.height, info.frameCount], [480, 240, video.frames.length]);
    const csv = ferkit(['predict', video.path, '--csv', '--quiet']);
    assert.equal(csv.code, 0, csv.stderr);
    const rows = parse(csv.stdout, { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, 2 * video.frames.length);
    assert.deepEqual(new Set(rows.map((x) => x.face)), new Set(['1', '2']));
  });

  it('--recursive reads subfolders; each unreadable file is reported once; a face crop is read whole', () => {
    const root = join(dir, 'nested');
    mkdirSync(join(root, 'crops'), { recursive: true });
    const ferFace = join(sharedData('fer2013', 'val', 'happy'), 'PublicTest_10181609.jpg');
    copyFileSync(ferFace, join(root, 'crops', 'fer.jpg'));
    writeFileSync(join(root, 'broken.png'), 'not a png');
    const flat = ferkit(['predict', join(root, 'crops', '..'), '--quiet']);
    assert.equal(flat.code, 0, flat.stderr);
    assert.doesNotMatch(flat.stdout, /fer\.jpg/, 'without --recursive the subfolder is not read');
    const r = ferkit(['predict', root, '--recursive']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stdout + r.stderr).match(/broken\.png/g)?.length, 1, `reported once:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /crops\/fer\.jpg: 1 face\n {2}face 1 \(the whole picture: no face detected, read as a face crop\)/);
    const detectOnly = ferkit(['predict', join(root, 'crops'), '--faces', 'detect', '--json', '--quiet']);
    assert.equal(detectOnly.code, 0, detectOnly.stderr);
    assert.deepEqual(JSON.parse(detectOnly.stdout).images[0].faces, []);
    const bad = ferkit(['predict', root, '--faces', 'sometimes']);
    assert.match(bad.stderr, /--faces must be auto, detect or whole, got "sometimes"/);
    assert.match(ferkit(['predict', root, '--max-faces', '0']).stderr, /--max-faces must be a positive integer/);
  });

  it('clear errors: a missing input, an unknown file type, both --json and --csv', () => {
    const missing = ferkit(['predict', join(dir, 'nope.jpg')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ferkit: .*nope\.jpg: no such file or folder/);
    const txt = ferkit(['predict', join(dir, 'photos', 'notes.txt')]);
    assert.equal(txt.code, 1);
    assert.match(txt.stderr, /notes\.txt: unknown file type "\.txt"/);
    const both = ferkit(['predict', samplePhotos[0], '--json', '--csv']);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /--json or --csv, not both/);
  });
});

describe('ferkit demo', () => {
  it('runs the bundled model on the sample photos, writes annotated PNGs and prints the results', async () => {
    const out = join(tempDir('demo'), 'ferkit-demo');
    const r = ferkit(['demo', '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.images.length, samplePhotos.length);
    const faces = res.images.reduce((a: number, i: { faces: unknown[] }) => a + i.faces.length, 0);
    assert.ok(faces >= 15, `${faces} faces in ${samplePhotos.length} group photos`);
    assert.equal(readdirSync(out).length, samplePhotos.length);
    for (const f of res.annotated) await assertPng(f);
    // Most faces in these party photos smile: the bundled model should call at least a third happy.
    const labels = res.images.flatMap((i: { faces: { label: string }[] }) => i.faces.map((f) => f.label));
    assert.ok(labels.filter((l: string) => l === 'happy').length >= faces / 3, `labels: ${labels.join(' ')}`);
  });
});
