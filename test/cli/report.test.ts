// `ferkit report --fold k`: a cross-validation fold's model shown on the subjects it never saw. The
// page covers exactly the test part of that fold of the plan `ferkit cv` makes (same dataset, folds
// and fold seed), and none of its subjects is in the fold's training part.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { foldPlan } from '../../src/data/fold-plan.js';
import { CANONICAL_CLASSES, type ImageSample } from '../../src/data/types.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';
import { ferkit } from '../helpers/cli.js';

describe('ferkit report --fold', () => {
  it('reports the bundled model on the test subjects of CK+48 fold 2 (10 folds, fold seed 1)', async () => {
    const root = sharedData('ckplus48');
    const out = tempDir('report-fold');
    const r = ferkit(['--quiet', 'report', '--dataset', 'ckplus', '--root', root, '--folds', '10', '--fold', '2', '--fold-seed', '1', '--out', out, '--max-points', '40']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { n: number; war: number };
    const plan = await foldPlan('ckplus', root, { folds: 10, seed: 1 });
    const { train, test } = await plan.load(2);
    // The bundled model knows the 7 basic classes: CK+'s contempt faces are left out.
    const known = (test as ImageSample[]).filter((x) => CANONICAL_CLASSES[x.label] !== 'contempt');
    assert.equal(s.n, known.length);
    assert.ok(known.length > 20 && known.length < 120, `fold 2 has ${known.length} faces`);
    const trainSubjects = new Set(train.map((x) => x.subject));
    assert.ok(test.every((x) => !trainSubjects.has(x.subject)), 'a test subject is also in training');
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    assert.match(page, /test part of fold 2: 10 subject-independent folds, seed 1/);
    assert.ok(s.war > 0.5, `bundled model WAR ${s.war} on CK+48 fold 2`);
  });

  it('refuses fold flags without --fold, --fold with --split, and a fold outside the plan', () => {
    const root = sharedData('ckplus48');
    const a = ferkit(['--quiet', 'report', '--dataset', 'ckplus', '--root', root, '--folds', '10']);
    assert.equal(a.code, 1);
    assert.match(a.stderr, /--folds and --fold-seed need --fold/);
    const b = ferkit(['--quiet', 'report', '--dataset', 'ckplus', '--root', root, '--fold', '1', '--split', 'test']);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /does not combine with --split/);
    const c = ferkit(['--quiet', 'report', '--dataset', 'ckplus', '--root', root, '--folds', '10', '--fold', '11']);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /fold 11 is not 1\.\.10/);
  });
});
