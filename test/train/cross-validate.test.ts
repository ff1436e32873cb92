// `ferkit cv` end to end on a tiny DFEW-format dataset (annotation/set_<k>_{train,test}.txt and
// 16-frame folders built in a temp folder from real CK+48 sequences): the small IAL model, U2×V2
// sampling, 2 steps per fold, folds 1 and 2. A first run stopped by --time-budget 0 leaves fold 1
// as a checkpoint; the second resumes it and runs fold 2; a third skips both; other settings in
// the same folder are refused. Per-fold files, mean ± sd recomputed from them, the Table-4 column
// order, and the fold's WAR equal to the trainer's last validation. Also: CK+48's computed folds
// are subject-independent.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { foldPlan } from '../../src/data/fold-plan.js';
import { cvFoldPlan } from '../../src/cli/commands/cv.js';
import { meanSd, summarize, table4Markdown, table4Order } from '../../src/eval/cv-summary.js';
import { IAL_SMALL } from '../../src/models/ial/method.js';
import { ckSequences, sharedData, tempDir, writeFrames } from '../data/data-fixtures.js';
import { ferkit } from '../helpers/cli.js';

// DFEW label codes (0 Hap 1 Sad 2 Neu 3 Ang 4 Sur 5 Dis 6 Fea) of the CK+48 classes used.
const CODES: Record<string, number> = { happy: 0, sadness: 1, anger: 3, surprise: 4 };

/** 3 clips per class; fold k tests clip k−1 of each class and trains on the others. */
async function dfewFixture(): Promise<string> {
  const dir = tempDir('cv-dfew');
  const byClass = new Map<string, string[][]>();
  for (const { cls, frames } of ckSequences().values()) {
    if (CODES[cls] === undefined) continue;
    const list = byClass.get(cls) ?? [];
    if (list.length < 3) list.push(frames);
    byClass.set(cls, list);
  }
  const lines: Array<{ fold: number; line: string }> = [];
  let id = 0;
  for (const [cls, clips] of [...byClass].sort()) {
    for (const [j, frames] of clips.entries()) {
      const name = String(++id).padStart(5, '0');
      await writeFrames(join(dir, 'clips', name), frames, 16);
      lines.push({ fold: j + 1, line: `clips/${name} 16 ${CODES[cls]}` });
    }
  }
  mkdirSync(join(dir, 'annotation'));
  for (const k of [1, 2]) {
    writeFileSync(join(dir, 'annotation', `set_${k}_train.txt`), lines.filter((l) => l.fold !== k).map((l) => l.line).join('\n') + '\n');
    writeFileSync(join(dir, 'annotation', `set_${k}_test.txt`), lines.filter((l) => l.fold === k).map((l) => l.line).join('\n') + '\n');
  }
  return dir;
}

describe('ferkit cv', () => {
  let root = '';
  let out = '';
  let args: string[] = [];
  before(async () => {
    root = await dfewFixture();
    out = join(tempDir('cv-out'), 'run');
    const m = IAL_SMALL.methodOptions!;
    args = [
      'cv', '--method', 'ial', '--dataset', 'dfew', '--root', root, '--only-folds', '1,2', '--out', out,
      '--sampling', '2x2', '--size', '48', '--channels', '1', '--width', '0.25',
      '--method-options', JSON.stringify({ ...m, layers: [1, 1, 1, 1] }),
      '--optimizer', 'adamw', '--lr', '0.002', '--batch-size', '4', '--epochs', '1', '--max-steps', '2', '--workers', '1',
    ];
  });

  it('runs, resumes, summarises and skips finished folds', () => {
    // 1. The budget stops fold 1 after its first step.
    const first = ferkit([...args, '--time-budget', '0']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).finished, false);
    assert.ok(existsSync(join(out, 'fold-1', 'checkpoint.safetensors')));
    assert.ok(!existsSync(join(out, 'fold-1', 'result.json')));
    assert.match(first.stderr, /time budget/);

    // 2. The same command resumes fold 1 at step 1 and runs fold 2.
    const second = ferkit(args);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /\[fold 1\] resumed from .*checkpoint\.safetensors at epoch 1, step 1/);
    const s = JSON.parse(second.stdout);
    assert.deepEqual([s.finished, s.ran, s.skipped, s.folds], [true, [1, 2], [], [1, 2]]);

    const folds = [1, 2].map((k) => JSON.parse(readFileSync(join(out, `fold-${k}`, 'result.json'), 'utf8')));
    for (const [i, f] of folds.entries()) {
      assert.equal(f.fold, i + 1);
      assert.equal(f.n, 4, 'one test clip per class');
      assert.deepEqual(f.classes, ['angry', 'happy', 'sad', 'surprise']);
      assert.deepEqual(Object.values(f.support), [1, 1, 1, 1]);
      // The last epoch's model scores its fold exactly as the trainer's last validation did.
      assert.equal(f.war, f.trainer.lastVal.war);
      assert.equal(f.uar, f.trainer.lastVal.uar);
      assert.ok(existsSync(join(out, `fold-${i + 1}`, 'last', 'config.json')));
      const config = JSON.parse(readFileSync(join(out, `fold-${i + 1}`, 'last', 'config.json'), 'utf8'));
      assert.deepEqual([config.input.frames, config.input.framesPerSegment], [4, 2]);
    }

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
    for (const key of ['war', 'uar'] as const) {
      const xs = folds.map((f) => f[key] as number);
      assert.ok(Math.abs(summary[key].mean - mean(xs)) < 1e-12 && Math.abs(summary[key].sd - sd(xs)) < 1e-12, key);
    }
    for (const c of ['angry', 'happy', 'sad', 'surprise']) {
      const xs = folds.map((f) => f.perClass[c] as number);
      assert.ok(Math.abs(summary.perClass[c].mean - mean(xs)) < 1e-12 && Math.abs(summary.perClass[c].sd - sd(xs)) < 1e-12, c);
    }
    assert.deepEqual(summary.columns, ['happy', 'sad', 'angry', 'surprise'], 'Table 4 order: Happiness, Sadness, Neutral, Anger, Surprise, Disgust, Fear');
    const md = readFileSync(join(out, 'summary.md'), 'utf8').trim().split('\n');
    assert.deepEqual(md[0]!.split('|').map((x) => x.trim()).filter(Boolean), ['Method', 'Happiness', 'Sadness', 'Anger', 'Surprise', 'UAR', 'WAR']);
    const pct = (m: { mean: number; sd: number }) => `${(m.mean * 100).toFixed(2)} ± ${(m.sd * 100).toFixed(2)}`;
    assert.deepEqual(md[2]!.split('|').map((x) => x.trim()).filter(Boolean), ['ial (U2×V2)', ...['happy', 'sad', 'angry', 'surprise'].map((c) => pct(summary.perClass[c])), pct(summary.uar), pct(summary.war)]);

    // 3. A re-run skips both folds and leaves their results alone.
    const before = statSync(join(out, 'fold-1', 'result.json')).mtimeMs;
    const third = ferkit(args);
    assert.equal(third.code, 0, third.stderr);
    assert.deepEqual([JSON.parse(third.stdout).ran, JSON.parse(third.stdout).skipped], [[], [1, 2]]);
    assert.equal(statSync(join(out, 'fold-1', 'result.json')).mtimeMs, before);

    // 4. Other settings in the same folder are refused, naming cv.json and the difference.
    const other = ferkit(args.map((a) => (a === '0.002' ? '0.01' : a)));
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /cv\.json: this folder holds a run with other settings \(settings: .*"lr":0\.002.*then, .*"lr":0\.01.* now\)/);
  });

  it('CK+48 clips get 5 subject-independent folds covering every sequence once', async () => {
    const plan = await foldPlan('ckplus-clips', sharedData('ckplus48'), { seed: 0 });
    assert.equal(plan.count, 5);
    assert.match(plan.how, /5 subject-independent folds, seed 0/);
    const seen = new Set<string>();
    for (let k = 1; k <= 5; k++) {
      const { train, test } = await plan.load(k);
      const testSubjects = new Set(test.map((s) => s.subject));
      assert.ok(train.every((s) => !testSubjects.has(s.subject)), `fold ${k}: a test subject in training`);
      for (const s of test) seen.add(s.id);
    }
    assert.equal(seen.size, 223);
    await assert.rejects(foldPlan('dfew', '/nonexistent', { folds: 3 }), /dataset dfew ships its own 5 folds; --folds 3 does not apply/);
  });

  it('--fold-seed fixes the fold plan across training seeds (default: --seed)', async () => {
    const root = sharedData('ckplus48');
    const testIds = async (seed: string, foldSeed?: string) => {
      const plan = await cvFoldPlan({ dataset: 'ckplus', root, folds: '10', seed, foldSeed });
      const out: string[][] = [];
      for (let k = 1; k <= plan.count; k++) out.push((await plan.load(k)).test.map((s) => s.id).sort());
      return { how: plan.how, out };
    };
    const a = await testIds('1', '7');
    const b = await testIds('2', '7');
    assert.deepEqual(b, a, 'same fold seed, other training seed: the same plan');
    assert.match(a.how, /10 subject-independent folds, seed 7/);
    const c = await testIds('1', '8');
    assert.notDeepEqual(c.out, a.out, 'another fold seed: another plan');
    assert.equal(c.out.flat().length, a.out.flat().length);
    // Without --fold-seed the plan is drawn from --seed, as before the flag (earlier runs keep their folds).
    assert.deepEqual(await testIds('7'), a);
    await assert.rejects(cvFoldPlan({ dataset: 'ckplus', root, folds: '10', seed: '1', foldSeed: '1.5' }), /--fold-seed must be an integer/);
  });

  it('mean ± sd and the Table-4 order', () => {
    const m = meanSd([0.5, 0.7]);
    assert.ok(Math.abs(m.mean - 0.6) < 1e-15 && Math.abs(m.sd - Math.sqrt(0.02)) < 1e-15, JSON.stringify(m));
    assert.deepEqual(m.values, [0.5, 0.7]);
    assert.equal(meanSd([0.4]).sd, 0);
    // A class without test samples in a fold (null) is summarised over the other folds.
    const s = summarize([
      { fold: 2, war: 0.6, uar: 0.5, perClass: { fear: 0.2, happy: 0.9, contempt: null } },
      { fold: 1, war: 0.8, uar: 0.7, perClass: { fear: 0.4, happy: 0.7, contempt: 0.5 } },
    ]);
    assert.deepEqual(s.folds, [1, 2]);
    assert.deepEqual(s.war.values, [0.8, 0.6]);
    assert.deepEqual(s.perClass.contempt, { mean: 0.5, sd: 0, values: [0.5] });
    assert.deepEqual(s.columns, ['happy', 'fear', 'contempt']);
    assert.equal(table4Markdown(s, 'x').split('\n')[2], '| x | 80.00 ± 14.14 | 30.00 ± 14.14 | 50.00 ± 0.00 | 60.00 ± 14.14 | 70.00 ± 14.14 |');
    assert.deepEqual(table4Order(['fear', 'contempt', 'angry', 'neutral', 'happy', 'disgust', 'sad', 'surprise']), ['happy', 'sad', 'neutral', 'angry', 'surprise', 'disgust', 'fear', 'contempt']);
  });
});
