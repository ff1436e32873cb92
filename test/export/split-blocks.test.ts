// The ONNX pass that splits block-diagonal convs: the blocks it finds on hand-made weights, and on a
// folded (mirrored) ensemble the split graph has no zero blocks left and still matches TF.js.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { foldEnsemble } from '../../src/models/ce/fold-ensemble.js';
import { buildOnnxGraph, writeOnnx } from '../../src/export/onnx/export.js';
import { diagonalBlocks } from '../../src/export/onnx/split-blocks.js';
import { verifyOnnx } from '../../src/export/onnx/verify.js';
import { smallFerCnn as member } from '../helpers/small-fer-cnn.js';

before(async () => {
  await initEngine('wasm');
});

/** A [cout, cin, 1] weight with ones where `pattern` (rows = outputs) has '#'. */
function weight(pattern: string[]): Float32Array {
  return Float32Array.from(pattern.join('').split(''), (c) => (c === '#' ? 1 : 0));
}

describe('diagonalBlocks', () => {
  it('finds unequal diagonal blocks, an all-zero output joining the block it sits in', () => {
    const w = weight([
      '##....', //
      '#.....',
      '..###.',
      '......',
      '...#..',
      '.....#',
    ]);
    assert.deepEqual(diagonalBlocks(w, 6, 6, 1), [
      { out0: 0, out1: 2, in0: 0, in1: 2 },
      { out0: 2, out1: 5, in0: 2, in1: 5 },
      { out0: 5, out1: 6, in0: 5, in1: 6 },
    ]);
  });

  it('keeps a weight whole when a nonzero crosses the diagonal blocks', () => {
    const w = weight(['##..', '#...', '..##', '#..#']);
    assert.deepEqual(diagonalBlocks(w, 4, 4, 1), [{ out0: 0, out1: 4, in0: 0, in1: 4 }]);
    assert.equal(diagonalBlocks(new Float32Array(12).fill(1), 3, 4, 1).length, 1);
  });
});

describe('ONNX export of a folded ensemble', () => {
  it('splits every conv after the first into its members, drops the zero blocks and matches TF.js', async () => {
    const folded = foldEnsemble([member([[4, 6], [8]], 1), member([[2, 3], [5]], 2)], { mirror: true });
    const dense = buildOnnxGraph(folded, { splitBlocks: false });
    const split = buildOnnxGraph(folded);
    const floats = (g: typeof dense) => [...g.initializers.values()].reduce((n, i) => n + (i.data instanceof Float32Array ? i.data.length : 0), 0);
    assert.equal(dense.nodes.filter((n) => n.op === 'Split').length, 0);
    // The two convs after the input conv, each split into the 4 members (2 models, 2 mirror images).
    assert.equal(split.nodes.filter((n) => n.op === 'Split').length, 2);
    assert.equal(split.nodes.filter((n) => n.op === 'Conv').length, 1 + 2 * 4);
    // The zero blocks are gone: conv weights are those of the members (2 x (4·6 + 6·8) + 2 x (2·3 + 3·5) taps of 9, mirrored twice).
    const memberTaps = 2 * 9 * (4 * 6 + 6 * 8 + 2 * 3 + 3 * 5);
    const denseTaps = 9 * (12 * 18 + 18 * 26);
    assert.equal(floats(dense) - floats(split), denseTaps - memberTaps);
    const dir = mkdtempSync(join(tmpdir(), 'ferkit-split-'));
    try {
      const diff = await verifyOnnx(folded, await writeOnnx(folded, dir));
      assert.ok(diff < 1e-4, `split ONNX vs TF.js: ${diff}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
