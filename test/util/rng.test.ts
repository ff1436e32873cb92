// The one RNG (src/util/rng.ts). Its streams are pinned: resume checkpoints and every seeded test
// depend on them, so the golden values below were drawn by the three RNG classes it replaced
// (nn/random.ts Random, data/rng.ts Rng, util/rng.ts Rng) and must never change.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';

describe('Rng', () => {
  it('draws the pinned mulberry32 / Box-Muller stream', () => {
    const r = new Rng(7);
    const drawn = [r.uniform(), r.normal(), r.normal(), r.normal(0.5, 2), r.int(10), r.tfSeed(), ...r.permutation(6), ...r.fillUniform(2, -1, 1), ...r.fillNormal(3)];
    assert.deepEqual(drawn, [
      0.011704753153026104, 0.35390320258759356, -0.05171249453602224, -2.5712489142681405, 4, 1001226954, 5, 3, 0, 4, 2, 1, 0.5281797647476196,
      0.03680509328842163, -0.2081785351037979, -0.4474014937877655, 0.4888506233692169,
    ]);
    assert.deepEqual(r.getState(), { s: 3535249239, spare: null });
    const d = new Rng(7);
    assert.deepEqual([d.next(), d.int(10), d.intIn(3, 5), d.uniform(2, 3), d.chance(0.5), d.seed32()], [0.011704753153026104, 0, 5, 2.699028705712408, false, 1741702388]);
    assert.deepEqual(d.getState(), { s: 2399460293, spare: null });
  });

  it('normal() has mean 0 and variance 1; a saved state (spare included) resumes the same stream', () => {
    const rng = new Rng(77);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
    }
    assert.ok(Math.abs(s / n) < 0.03 && Math.abs(s2 / n - 1) < 0.04, `mean ${s / n}, var ${s2 / n}`);
    rng.normal(); // leaves a spare
    const st = rng.getState();
    assert.notEqual(st.spare, null);
    const a = [rng.normal(), rng.uniform(2, 3), rng.intIn(4, 6), rng.normal()];
    const again = new Rng(1);
    again.setState(JSON.parse(JSON.stringify(st)));
    assert.deepEqual([again.normal(), again.uniform(2, 3), again.intIn(4, 6), again.normal()], a);
    assert.throws(() => again.setState({ s: 'x' } as never), /invalid random state/);
  });
});
