import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lrSchedules } from '../../src/train/lr-schedule.js';

const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

describe('lr schedules', () => {
  it('cosine goes from lr to minLr over the run after a linear warm-up', () => {
    const f = lrSchedules.get('cosine').create({ base: 0.1, epochs: 10, warmupEpochs: 1, minLr: 0.001 });
    assert.ok(f(0) < 0.001 && f(0.5) > 0.04 && f(0.5) < 0.06);
    near(f(1), 0.1);
    near(f(5.5), 0.001 + (0.099 * (1 + Math.cos(Math.PI * 0.5))) / 2);
    near(f(10), 0.001);
  });
  it('step and exponential change at epoch boundaries as PyTorch StepLR/ExponentialLR', () => {
    const s = lrSchedules.get('step').create({ base: 0.1, epochs: 30, stepSize: 10, gamma: 0.1 });
    near(s(9.99), 0.1);
    near(s(10), 0.01);
    near(s(25), 0.001);
    const e = lrSchedules.get('exponential').create({ base: 1, epochs: 5, gamma: 0.9 });
    near(e(2.7), 0.81);
  });
});
