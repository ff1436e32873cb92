// Image-dataset readers on small fixtures built from real FER2013/CK+48 images in a temp folder.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../src/data/errors.js';
import { ferplusLabel, ferplusVotes } from '../../src/data/readers/ferplus.js';
import { readClips, readImages } from '../../src/data/registry.js';
import { CANONICAL_CLASSES, type ImageSample } from '../../src/data/types.js';
import { ckSequences, copyAs, ferImages, pixelString, tempDir } from './data-fixtures.js';

const idx = (c: string) => CANONICAL_CLASSES.indexOf(c as never);
const labels = (items: ImageSample[]) => items.map((s) => CANONICAL_CLASSES[s.label]);

describe('fer2013 CSV', () => {
  let dir = '';
  const rows: Array<{ emotion: number; usage: string; data: Uint8Array }> = [];
  before(async () => {
    dir = tempDir('fer2013');
    const picks: Array<[string, number, string]> = [
      ['angry', 0, 'Training'], ['happy', 3, 'Training'], ['sad', 4, 'PublicTest'], ['neutral', 6, 'PrivateTest'], ['surprise', 5, 'Training'],
    ];
    let csv = 'emotion,pixels,Usage\n';
    for (const [cls, emotion, usage] of picks) {
      const { text, data } = await pixelString(ferImages(cls, 1)[0]!);
      csv += `${emotion},${text},${usage}\n`;
      rows.push({ emotion, usage, data });
    }
    writeFileSync(join(dir, 'fer2013.csv'), csv);
    const bad = csv.split('\n');
    bad[2] = `9,${bad[2]!.split(',')[1]},PublicTest`; // line 3: unknown emotion
    bad[3] = `2,${bad[3]!.split(',')[1]!.split(' ').slice(1).join(' ')},Training`; // line 4: 2303 pixels
    writeFileSync(join(dir, 'broken.csv'), bad.join('\n'));
  });
  it('decodes pixels exactly, maps Usage to splits and labels to the canonical order', async () => {
    const ds = await readImages('fer2013', dir);
    assert.equal(ds.items.length, 5);
    ds.items.forEach((s, i) => {
      const img = s.image as Extract<ImageSample['image'], { kind: 'pixels' }>;
      assert.equal(img.kind, 'pixels');
      assert.deepEqual([img.width, img.height, img.channels], [48, 48, 1]);
      assert.deepEqual(img.data, rows[i]!.data);
      assert.equal(s.label, rows[i]!.emotion);
    });
    assert.deepEqual(ds.items.map((s) => s.split), ['train', 'train', 'val', 'test', 'train']);
    assert.equal((await readImages('fer2013', join(dir, 'fer2013.csv'), { split: 'val' })).items.length, 1);
  });
  it('stops at the first bad row naming file and line; skipBad collects both', async () => {
    const file = join(dir, 'broken.csv');
    await assert.rejects(readImages('fer2013', file), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.file, `${file}:3`);
      assert.match(e.message, /broken\.csv:3: unknown label "9"/);
      return true;
    });
    const ds = await readImages('fer2013', file, { skipBad: true });
    assert.equal(ds.items.length, 3);
    assert.deepEqual(ds.skipped.map((p) => p.file), [`${file}:3`, `${file}:4`]);
    assert.match(ds.skipped[1]!.problem, /pixels has 2303 values, expected 2304/);
  });
});

describe('ferplus votes', () => {
  it('majority after dropping single votes; no majority, unknown and NF are dropped', () => {
    // columns: neutral happiness surprise sadness anger disgust fear contempt unknown NF
    const a = ferplusVotes([0, 8, 1, 0, 0, 0, 1, 0, 0, 0]);
    assert.equal(a.label, idx('happy'));
    assert.equal(a.labelDist![idx('happy')], 1); // single votes are outliers
    const b = ferplusVotes([4, 0, 0, 6, 0, 0, 0, 0, 0, 0]);
    assert.equal(b.label, idx('sad'));
    assert.ok(Math.abs(b.labelDist![idx('neutral')]! - 0.4) < 1e-12 && Math.abs(b.labelDist![idx('sad')]! - 0.6) < 1e-12);
    assert.equal(ferplusVotes([5, 5, 0, 0, 0, 0, 0, 0, 0, 0]).label, undefined); // tie: no majority
    assert.equal(ferplusVotes([2, 0, 0, 0, 0, 0, 0, 0, 0, 8]).reason, 'majority vote is NF');
  });
  it('reads fer2013new.csv with pixels from fer2013.csv, or images from folders', async () => {
    const dir = tempDir('ferplus');
    const files = [...ferImages('happy', 2), ...ferImages('sad', 2)];
    let pix = 'emotion,pixels,Usage\n';
    for (const f of files) pix += `3,${(await pixelString(f)).text},Training\n`;
    writeFileSync(join(dir, 'fer2013.csv'), pix);
    const votes = [
      'Training,fer0000000.png,0,10,0,0,0,0,0,0,0,0',
      'Training,fer0000001.png,2,0,0,0,0,0,0,0,0,8', // NF: dropped
      'Training,,0,0,0,10,0,0,0,0,0,0', // removed by FER+: dropped
      'PublicTest,fer0000003.png,3,0,0,7,0,0,0,0,0,0',
    ];
    writeFileSync(join(dir, 'fer2013new.csv'), `Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n${votes.join('\n')}\n`);
    const ds = await readImages('ferplus', dir);
    assert.deepEqual(labels(ds.items), ['happy', 'sad']);
    assert.deepEqual(ds.items.map((s) => s.split), ['train', 'val']);
    assert.deepEqual((ds.items[1]!.image as { data: Uint8Array }).data, (await pixelString(files[3]!)).data);
    assert.equal(ds.dropped!.length, 2);
    // image folders instead of the pixel CSV
    const dir2 = tempDir('ferplus-img');
    writeFileSync(join(dir2, 'fer2013new.csv'), `Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n${votes.join('\n')}\n`);
    await copyAs(files[0]!, join(dir2, 'FER2013Train', 'fer0000000.png'));
    mkdirSync(join(dir2, 'FER2013Valid'));
    await assert.rejects(readImages('ferplus', dir2), /FER2013Valid\/fer0000003\.png: missing file/);
    await copyAs(files[3]!, join(dir2, 'FER2013Valid', 'fer0000003.png'));
    const ds2 = await readImages('ferplus', dir2);
    assert.deepEqual(labels(ds2.items), ['happy', 'sad']);
    assert.equal((ds2.items[0]!.image as { path: string }).path, join(dir2, 'FER2013Train', 'fer0000000.png'));
  });

  it("label modes: the FERPlus code's probability rule and the simple plurality rule", () => {
    const dist = (l: ReturnType<typeof ferplusLabel>) => Object.fromEntries(l.labelDist!.flatMap((p, i) => (p ? [[CANONICAL_CLASSES[i], +p.toFixed(6)]] : [])));
    // top emotions until 75% of the (outlier-free) votes: sad 6, then neutral 4
    const b = ferplusLabel([4, 0, 0, 6, 0, 0, 0, 0, 0, 0], 'probability');
    assert.equal(b.label, idx('sad'));
    assert.deepEqual(dist(b), { sad: 0.6, neutral: 0.4 });
    // a tie at the top is taken together (no majority, but a valid distribution); the first wins the hard label
    const t = ferplusLabel([5, 5, 0, 0, 0, 0, 0, 0, 0, 0], 'probability');
    assert.deepEqual([CANONICAL_CLASSES[t.label!], dist(t)], ['neutral', { neutral: 0.5, happy: 0.5 }]);
    // four emotions needed to reach 75%: too spread out
    assert.equal(ferplusLabel([3, 3, 2, 2, 0, 0, 0, 0, 0, 0], 'probability').reason, 'votes too spread out');
    assert.equal(ferplusLabel([3, 3, 2, 2, 0, 0, 0, 0, 0, 0], 'majority').reason, 'no majority vote');
    // unknown tying with an emotion stops the loop and is not counted: 4 of 10 votes is too few
    assert.equal(ferplusLabel([4, 0, 0, 0, 0, 0, 0, 0, 4, 2], 'probability').reason, 'votes too spread out');
    assert.equal(ferplusLabel([2, 0, 0, 0, 0, 0, 0, 0, 0, 8], 'probability').reason, 'top vote is NF');
    // plurality: raw top vote, first on ties, single votes kept in the distribution
    const p = ferplusLabel([0, 8, 1, 0, 0, 0, 1, 0, 0, 0], 'plurality');
    assert.deepEqual([CANONICAL_CLASSES[p.label!], dist(p)], ['happy', { happy: 0.8, surprise: 0.1, fear: 0.1 }]);
    assert.equal(CANONICAL_CLASSES[ferplusLabel([5, 5, 0, 0, 0, 0, 0, 0, 0, 0], 'plurality').label!], 'neutral');
    assert.equal(ferplusLabel([1, 0, 0, 0, 0, 0, 0, 0, 6, 3], 'plurality').reason, 'top vote is unknown');
  });

  it('reads the official layout (label.csv per split folder) as the vote file gives it', async () => {
    const dir = tempDir('ferplus-official');
    const files = [...ferImages('happy', 2), ...ferImages('sad', 2)];
    const rows: Array<[string, string, string]> = [
      ['FER2013Train', 'fer0000000.png', '0,10,0,0,0,0,0,0,0,0'],
      ['FER2013Train', 'fer0000001.png', '4,0,0,6,0,0,0,0,0,0'],
      ['FER2013Train', 'fer0000002.png', '2,0,0,0,0,0,0,0,0,8'],
      ['FER2013Valid', 'fer0000003.png', '5,5,0,0,0,0,0,0,0,0'],
    ];
    const csv = new Map<string, string>();
    for (const [i, [folder, name, votes]] of rows.entries()) {
      await copyAs(files[i]!, join(dir, folder, name));
      csv.set(folder, (csv.get(folder) ?? '') + `${name},"(0, 0, 48, 48)",${votes}\n`);
    }
    for (const [folder, text] of csv) writeFileSync(join(dir, folder, 'label.csv'), text);
    const voteRows = rows.map(([f, n, v]) => `${f === 'FER2013Train' ? 'Training' : 'PublicTest'},${n},${v}`);
    writeFileSync(join(dir, 'fer2013new.csv'), `Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n${voteRows.join('\n')}\n`);
    const summary = (items: ImageSample[]) => items.map((s) => [s.id, s.split, CANONICAL_CLASSES[s.label]]);
    const official = await readImages('ferplus', dir);
    assert.deepEqual(summary(official.items), [
      ['fer0000000.png', 'train', 'happy'],
      ['fer0000001.png', 'train', 'sad'],
    ]);
    assert.deepEqual(summary((await readImages('ferplus', dir, { layout: 'votes' })).items), summary(official.items));
    const prob = await readImages('ferplus', dir, { labelMode: 'probability' });
    assert.deepEqual(summary(prob.items).map((r) => r[2]), ['happy', 'sad', 'neutral']);
    assert.deepEqual(summary((await readImages('ferplus', dir, { split: 'val', labelMode: 'plurality' })).items), [['fer0000003.png', 'val', 'neutral']]);
    await assert.rejects(readImages('ferplus', dir, { labelMode: 'mean' }), /label mode "mean" is not one of majority, probability, plurality/);
    writeFileSync(join(dir, 'FER2013Valid', 'label.csv'), 'fer0000003.png,"(0, 0, 48, 48)",5,5,x,0,0,0,0,0,0,0\n');
    await assert.rejects(readImages('ferplus', dir), /FER2013Valid\/label\.csv:1.*vote column surprise is "x"/);
  });
});

describe('rafdb', () => {
  it('list + Image/aligned, labels 1..7 in RAF order, split by prefix, missing image named', async () => {
    const dir = tempDir('rafdb');
    mkdirSync(join(dir, 'EmoLabel'));
    const entries: Array<[string, number, string]> = [
      ['train_00001.jpg', 1, 'surprise'], ['train_00002.jpg', 4, 'happy'], ['test_0001.jpg', 6, 'angry'], ['test_0002.jpg', 7, 'neutral'],
    ];
    for (const [name, , cls] of entries) await copyAs(ferImages(cls, 1)[0]!, join(dir, 'Image', 'aligned', name.replace('.jpg', '_aligned.jpg')));
    writeFileSync(join(dir, 'EmoLabel', 'list_patition_label.txt'), entries.map(([n, l]) => `${n} ${l}`).join('\n') + '\n');
    const ds = await readImages('rafdb', dir);
    assert.deepEqual(labels(ds.items), entries.map((e) => e[2]));
    assert.deepEqual(ds.items.map((s) => s.split), ['train', 'train', 'test', 'test']);
    assert.equal((await readImages('rafdb', dir, { split: 'test' })).items.length, 2);
    writeFileSync(join(dir, 'EmoLabel', 'list_patition_label.txt'), 'train_00001.jpg 1\ntrain_00009.jpg 2\ntest_0001.jpg 8\n');
    await assert.rejects(readImages('rafdb', dir), (e: Error) => e.message === `${join(dir, 'Image', 'aligned', 'train_00009_aligned.jpg')}: missing file`);
    const skipped = await readImages('rafdb', dir, { skipBad: true });
    assert.equal(skipped.items.length, 1);
    assert.match(skipped.skipped[1]!.file, /list_patition_label\.txt:3$/);
    assert.match(skipped.skipped[1]!.problem, /unknown label "8"/);
  });
});

describe('affectnet', () => {
  it('CSV with boxes, valence/arousal; expression 8+ dropped', async () => {
    const dir = tempDir('affectnet');
    const rows: Array<[string, number, string | undefined]> = [
      ['1/a.jpg', 0, 'neutral'], ['1/b.jpg', 1, 'happy'], ['2/c.jpg', 6, 'angry'], ['2/d.jpg', 8, undefined], ['3/e.jpg', 7, 'contempt'],
    ];
    const src = { neutral: 'neutral', happy: 'happy', angry: 'angry', contempt: 'disgust' } as Record<string, string>;
    for (const [p, , cls] of rows) if (cls) await copyAs(ferImages(src[cls]!, 1)[0]!, join(dir, 'Manually_Annotated_Images', p));
    const csv = ['subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal',
      ...rows.map(([p, e], i) => `${p},${i},${i + 1},40,41,"1;2;3",${e},${e === 8 ? -2 : 0.25 * i},-0.5`)];
    writeFileSync(join(dir, 'training.csv'), csv.join('\n') + '\n');
    const ds = await readImages('affectnet', dir);
    assert.deepEqual(labels(ds.items), ['neutral', 'happy', 'angry', 'contempt']);
    assert.deepEqual(ds.items[1]!.box, [1, 2, 40, 41]);
    assert.equal(ds.items[2]!.valence, 0.5);
    assert.equal(ds.items[2]!.arousal, -0.5);
    assert.ok(ds.items.every((s) => s.split === 'train'));
    assert.deepEqual(ds.dropped, [{ file: `${join(dir, 'training.csv')}:5`, problem: 'expression 8 (none/uncertain/non-face)' }]);
  });
});

describe('jaffe and ckplus original layout', () => {
  it('JAFFE names give labels and subjects (real images converted to TIFF)', async () => {
    const dir = tempDir('jaffe');
    const names: Array<[string, string]> = [['KA.AN1.39.tiff', 'angry'], ['KA.HA2.30.tiff', 'happy'], ['KL.SU1.164.tiff', 'surprise'], ['YM.NE3.51.tiff', 'neutral']];
    for (const [n, cls] of names) await copyAs(ferImages(cls, 1)[0]!, join(dir, n));
    writeFileSync(join(dir, 'README'), 'not an image');
    const ds = await readImages('jaffe', dir);
    assert.deepEqual(labels(ds.items), names.map((n) => n[1]));
    assert.deepEqual(ds.items.map((s) => s.subject), ['KA', 'KA', 'KL', 'YM']);
    await copyAs(ferImages('sad', 1)[0]!, join(dir, 'KA.XX1.40.tiff'));
    await assert.rejects(readImages('jaffe', dir), /KA\.XX1\.40\.tiff: unknown label in file name/);
  });
  it('original CK+: last 3 frames of labelled sequences; clips neutral→peak; unlabelled skipped', async () => {
    const dir = tempDir('ckplus');
    const seqs = [...ckSequences().entries()].slice(0, 3);
    for (const [i, [id, seq]] of seqs.entries()) {
      const [subj, num] = id.split('_') as [string, string];
      const frames = [...seq.frames, ...seq.frames].slice(0, 5);
      for (const [j, f] of frames.entries()) await copyAs(f, join(dir, 'cohn-kanade-images', subj, num, `${id}_${String(j + 1).padStart(8, '0')}.png`));
      mkdirSync(join(dir, 'Emotion', subj, num), { recursive: true });
      if (i < 2) writeFileSync(join(dir, 'Emotion', subj, num, `${id}_00000005_emotion.txt`), `   ${i === 0 ? '3' : '7'}.0000000e+00\n`);
    }
    const images = await readImages('ckplus', dir);
    assert.equal(images.items.length, 6);
    assert.deepEqual([...new Set(labels(images.items))], ['disgust', 'surprise']);
    assert.ok(images.items[0]!.id.endsWith('00000003.png'));
    const clips = await readClips('ckplus-clips', dir);
    assert.equal(clips.items.length, 2);
    assert.equal((clips.items[0]!.frames as unknown[]).length, 5);
    assert.equal(clips.items[0]!.subject, seqs[0]![0].split('_')[0]);
  });
});
