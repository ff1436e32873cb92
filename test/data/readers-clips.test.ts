// Clip readers (DFEW, Oulu-CASIA, FERV39k, clip CSVs) and Aff-Wild2 frames on fixtures built
// from real CK+48 sequences, padded to 16+ frames by copying.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../src/data/errors.js';
import { readClips, readImages } from '../../src/data/registry.js';
import { CANONICAL_CLASSES, type ClipSample } from '../../src/data/types.js';
import { ckSequences, tempDir, writeFrames } from './data-fixtures.js';

const seqs = () => [...ckSequences().values()];
const labels = (items: Array<{ label: number }>) => items.map((s) => CANONICAL_CLASSES[s.label]);
const framePaths = (c: ClipSample) => (c.frames as Array<{ path: string }>).map((f) => f.path);

describe('dfew', () => {
  let dir = '';
  before(async () => {
    dir = tempDir('dfew');
    const s = seqs();
    // DFEW order: 0 Hap 1 Sad 2 Neu 3 Ang 4 Sur 5 Dis 6 Fea
    await writeFrames(join(dir, 'dataset', '00001'), s[0]!.frames, 16);
    await writeFrames(join(dir, 'dataset', '00002'), s[1]!.frames, 20);
    await writeFrames(join(dir, 'dataset', '00003'), s[2]!.frames, 3); // short: dropped
    await writeFrames(join(dir, 'dataset', '00004'), s[3]!.frames, 17);
    mkdirSync(join(dir, 'annotation'));
    writeFileSync(join(dir, 'annotation', 'set_1_train.txt'), './dataset/00001 16 0\n./dataset/00002 20 4\n./dataset/00003 3 1\n');
    writeFileSync(join(dir, 'annotation', 'set_1_test.txt'), './dataset/00004 17 6\n');
    writeFileSync(join(dir, 'annotation', 'set_2_train.txt'), './dataset/00004 17 7\n./dataset/00001 16 1\n'); // 1-based
    writeFileSync(join(dir, 'annotation', 'set_2_test.txt'), './dataset/00002 20 5\n');
    writeFileSync(join(dir, 'annotation', 'set_3_train.txt'), './dataset/00002 19 1\n./dataset/00009 16 2\n');
    writeFileSync(join(dir, 'annotation', 'set_3_test.txt'), './dataset/00004 17 9\n');
  });
  it('0-based labels, frames sorted, clips under 16 frames dropped', async () => {
    const ds = await readClips('dfew', dir, { fold: 1 });
    assert.deepEqual(ds.items.map((c) => c.id), ['./dataset/00001', './dataset/00002', './dataset/00004']);
    assert.deepEqual(labels(ds.items), ['happy', 'surprise', 'fear']);
    assert.deepEqual(ds.items.map((c) => c.split), ['train', 'train', 'test']);
    assert.deepEqual(ds.items.map((c) => framePaths(c).length), [16, 20, 17]);
    const f = framePaths(ds.items[1]!);
    assert.deepEqual([...f].sort(), f);
    assert.equal(ds.dropped!.length, 1);
    assert.match(ds.dropped![0]!.problem, /3 frames, fewer than 16/);
    const lax = await readClips('dfew', dir, { fold: 1, split: 'train', minFrames: 3 });
    assert.equal(lax.items.length, 3);
  });
  it('detects 1-based DFEW labels (a 7 present) or takes labelBase', async () => {
    const ds = await readClips('dfew', dir, { fold: 2 });
    assert.deepEqual(labels(ds.items), ['fear', 'happy', 'surprise']);
    // Forcing base 1 on 0-based lines: label 0 is outside 1..7, label 4 reads as Ang.
    const forced = await readClips('dfew', dir, { fold: 1, labelBase: 1, split: 'train', skipBad: true });
    assert.deepEqual(labels(forced.items), ['angry']);
    assert.match(forced.skipped[0]!.problem, /unknown label "0" \(DFEW labels are 1-7\)/);
  });
  it('errors name the file: frame-count mismatch, missing folder, bad label, bad fold', async () => {
    await assert.rejects(readClips('dfew', dir, { fold: 3 }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.file, join(dir, 'dataset', '00002'));
      assert.match(e.problem, /set_3_train\.txt:1 says 19 frames, folder has 20 images/);
      return true;
    });
    const ds = await readClips('dfew', dir, { fold: 3, skipBad: true });
    assert.deepEqual(ds.items, []);
    assert.deepEqual(ds.skipped.map((p) => p.problem.replace(/ \(.*/, '').replace(/annotation .* says/, 'says')), [
      'says 19 frames, folder has 20 images',
      'frame folder not found',
      'unknown label "9"',
    ]);
    await assert.rejects(readClips('dfew', dir, { fold: 6 }), /fold 6 is not 1\.\.5/);
    await assert.rejects(readClips('dfew', dir, { fold: 4 }), /set_4_train\.txt: list file not found/);
  });
});

describe('oulu, ferv39k, affwild2, clips', () => {
  it('oulu: <Subject>/<Expression>/ sequences as clips and as peak images', async () => {
    const dir = tempDir('oulu');
    const s = seqs();
    await writeFrames(join(dir, 'P001', 'Happiness'), s[0]!.frames, 6, '.jpeg');
    await writeFrames(join(dir, 'P001', 'Surprise'), s[1]!.frames, 5, '.jpeg');
    await writeFrames(join(dir, 'P002', 'Anger'), s[2]!.frames, 4, '.jpeg');
    const clips = await readClips('oulu', dir);
    assert.deepEqual(labels(clips.items), ['happy', 'surprise', 'angry']);
    assert.deepEqual(clips.items.map((c) => c.subject), ['P001', 'P001', 'P002']);
    assert.deepEqual(clips.items.map((c) => framePaths(c).length), [6, 5, 4]);
    const peak = await readImages('oulu-peak', dir);
    assert.equal(peak.items.length, 9);
    assert.ok(peak.items[0]!.id.endsWith('00004.jpeg'));
  });
  it('ferv39k: list of frame folders with names or indices', async () => {
    const dir = tempDir('ferv39k');
    const s = seqs();
    await writeFrames(join(dir, '2_ClipsforFaceCrop', 'Action', 'Fight', '0001'), s[0]!.frames, 8);
    await writeFrames(join(dir, '2_ClipsforFaceCrop', 'Daily', 'Talk', '0002'), s[1]!.frames, 9);
    mkdirSync(join(dir, '4_setups', 'All_scenes'), { recursive: true });
    writeFileSync(join(dir, '4_setups', 'All_scenes', 'train_All.csv'), 'Action/Fight/0001 Happy\n');
    writeFileSync(join(dir, '4_setups', 'All_scenes', 'test_All.csv'), 'Daily/Talk/0002 4\n');
    const ds = await readClips('ferv39k', dir);
    assert.deepEqual(labels(ds.items), ['happy', 'neutral']);
    assert.deepEqual(ds.items.map((c) => c.split), ['train', 'test']);
    assert.deepEqual(ds.items.map((c) => framePaths(c).length), [8, 9]);
  });
  it('affwild2: per-frame labels, header skipped, -1 and frames without a face dropped', async () => {
    const dir = tempDir('affwild2');
    const s = seqs();
    const frames = await writeFrames(join(dir, 'cropped_aligned', '1-30-1280x720'), s[0]!.frames, 5);
    rmSync(frames[3]!); // frame 4 has no face crop
    const labelDir = join(dir, 'Annotations', 'EXPR_Classification_Challenge', 'Train_Set');
    mkdirSync(labelDir, { recursive: true });
    writeFileSync(join(labelDir, '1-30-1280x720.txt'), 'Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n0\n4\n-1\n6\n7\n');
    const ds = await readImages('affwild2', dir);
    assert.deepEqual(labels(ds.items), ['neutral', 'happy', 'other']);
    assert.deepEqual(ds.items.map((x) => x.id.split('/')[1]), ['00001.jpg', '00002.jpg', '00005.jpg']);
    assert.ok(ds.items.every((x) => x.subject === '1-30-1280x720' && x.split === 'train'));
    assert.equal(ds.dropped!.length, 2);
    writeFileSync(join(labelDir, '1-30-1280x720.txt'), 'header\n0\n12\n');
    await assert.rejects(readImages('affwild2', dir), /1-30-1280x720\.txt:3: unknown label "12"/);
  });
  it('clips CSV: frame folders and video files, labels by name or index, subjects', async () => {
    const dir = tempDir('clips');
    const s = seqs();
    await writeFrames(join(dir, 'a'), s[0]!.frames, 4);
    await writeFrames(join(dir, 'b'), s[1]!.frames, 3);
    writeFileSync(join(dir, 'c.mp4'), 'not decoded by the reader'); // videos are only listed here
    writeFileSync(join(dir, 'labels.csv'), 'path,label,subject\na,Happiness,s1\nb,5,s2\nc.mp4,anger,s1\n');
    const ds = await readClips('clips', dir);
    assert.deepEqual(labels(ds.items), ['happy', 'surprise', 'angry']);
    assert.deepEqual(ds.items.map((c) => c.subject), ['s1', 's2', 's1']);
    assert.equal(framePaths(ds.items[0]!).length, 4);
    assert.deepEqual(ds.items[2]!.frames, { kind: 'video', path: join(dir, 'c.mp4') });
    writeFileSync(join(dir, 'bad.csv'), 'a,joy\nmissing,sad\n');
    const bad = await readClips('clips', join(dir, 'bad.csv'), { skipBad: true });
    assert.deepEqual(bad.skipped, [
      { file: `${join(dir, 'bad.csv')}:1`, problem: 'unknown label "joy"' },
      { file: join(dir, 'missing'), problem: `missing file (listed at ${join(dir, 'bad.csv')}:2)` },
    ]);
  });
});
