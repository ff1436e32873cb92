// Label synonyms and every dataset's label order, against the spec's tables.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classesOf, labelFromCode, labelFromJaffeCode, labelFromName, labelFromNameOrIndex } from '../../src/data/labels.js';
import { CANONICAL_CLASSES } from '../../src/data/types.js';

const idx = (c: (typeof CANONICAL_CLASSES)[number]) => CANONICAL_CLASSES.indexOf(c);
const decode = (ds: Parameters<typeof labelFromCode>[0], codes: number[]) => codes.map((c) => CANONICAL_CLASSES[labelFromCode(ds, c)!]);

describe('label names', () => {
  it('maps every synonym, case-insensitively', () => {
    const cases: Array<[string, string]> = [
      ['Angry', 'angry'], ['ANGER', 'angry'], ['ang', 'angry'],
      ['disgusted', 'disgust'], ['Dis', 'disgust'], ['fearful', 'fear'], ['FEA', 'fear'],
      ['Happiness', 'happy'], ['hap', 'happy'], ['sadness', 'sad'], ['Surprised', 'surprise'],
      ['sur', 'surprise'], ['Neutral', 'neutral'], ['neu', 'neutral'], ['Contempt', 'contempt'], ['other', 'other'],
    ];
    for (const [name, cls] of cases) assert.equal(labelFromName(name), idx(cls as never), name);
  });
  it('rejects names that are not expressions', () => {
    for (const n of ['train', 'val', 'smile', '', 'an']) assert.equal(labelFromName(n), undefined, n);
  });
  it('reads a label as a name or a canonical index', () => {
    assert.equal(labelFromNameOrIndex('Happiness'), 3);
    assert.equal(labelFromNameOrIndex('5'), 5);
    assert.equal(labelFromNameOrIndex('9'), undefined);
    assert.equal(labelFromNameOrIndex('-1'), undefined);
  });
});

describe('dataset label orders', () => {
  it('FER2013 0-6 is the canonical order', () => {
    assert.deepEqual(decode('fer2013', [0, 1, 2, 3, 4, 5, 6]), CANONICAL_CLASSES.slice(0, 7));
  });
  it('RAF-DB 1..7 = Sur, Fea, Dis, Hap, Sad, Ang, Neu (spec §2.1)', () => {
    assert.deepEqual(decode('rafdb', [1, 2, 3, 4, 5, 6, 7]), ['surprise', 'fear', 'disgust', 'happy', 'sad', 'angry', 'neutral']);
    assert.equal(labelFromCode('rafdb', 0), undefined);
    assert.equal(labelFromCode('rafdb', 8), undefined);
  });
  it('DFEW 0..6 = Hap, Sad, Neu, Ang, Sur, Dis, Fea (spec §1.1), 1..7 with base 1', () => {
    assert.deepEqual(decode('dfew', [0, 1, 2, 3, 4, 5, 6]), ['happy', 'sad', 'neutral', 'angry', 'surprise', 'disgust', 'fear']);
    assert.equal(labelFromCode('dfew', 7, 1), idx('fear'));
    assert.equal(labelFromCode('dfew', 1, 1), idx('happy'));
  });
  it('AffectNet 0..7 with contempt, 8+ outside the table', () => {
    assert.deepEqual(decode('affectnet', [0, 1, 2, 3, 4, 5, 6, 7]), ['neutral', 'happy', 'sad', 'surprise', 'fear', 'disgust', 'angry', 'contempt']);
    for (const c of [8, 9, 10]) assert.equal(labelFromCode('affectnet', c), undefined);
  });
  it('Aff-Wild2 0..7 = Neu, Ang, Dis, Fea, Hap, Sad, Sur, Other (spec §3.4); -1 outside', () => {
    assert.deepEqual(decode('affwild2', [0, 1, 2, 3, 4, 5, 6, 7]), ['neutral', 'angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'other']);
    assert.equal(labelFromCode('affwild2', -1), undefined);
  });
  it('CK+ codes 0-7 and FER+ vote columns', () => {
    assert.deepEqual(decode('ckplus', [0, 1, 2, 3, 4, 5, 6, 7]), ['neutral', 'angry', 'contempt', 'disgust', 'fear', 'happy', 'sad', 'surprise']);
    assert.deepEqual(decode('ferplus', [0, 1, 2, 3, 4, 5, 6, 7]), ['neutral', 'happy', 'surprise', 'sad', 'angry', 'disgust', 'fear', 'contempt']);
    assert.deepEqual(decode('ferv39k', [0, 1, 2, 3, 4, 5, 6]), ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']);
  });
  it('label spaces', () => {
    assert.deepEqual(classesOf('affectnet'), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(classesOf('affwild2'), [0, 1, 2, 3, 4, 5, 6, 8]);
  });
  it('JAFFE codes from file names', () => {
    const codes: Array<[string, string]> = [['AN1', 'angry'], ['DI2', 'disgust'], ['FE3', 'fear'], ['HA1', 'happy'], ['NE2', 'neutral'], ['SA1', 'sad'], ['SU3', 'surprise']];
    for (const [code, cls] of codes) assert.equal(labelFromJaffeCode(code), idx(cls as never));
    assert.equal(labelFromJaffeCode('XX1'), undefined);
  });
});
