// The one worker pool: tasks see the pool's data and environment, errors come back naming the
// worker's file, sessions hold one thread each with their own state, and closing ends them all
// (the test runner exits: no thread is left behind).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from '../../src/util/workers.js';

const fixture = new URL('../fixtures/pool-worker.js', import.meta.url);

describe('WorkerPool', () => {
  it('runs tasks on every thread with the data and environment, and passes errors back with the stack', async () => {
    const pool = new WorkerPool(fixture, { threads: 2, data: { answer: 42 }, env: { POOL_FIXTURE: 'set' } });
    try {
      const each = await pool.each<{ threadId: number; data: unknown; env: string }>('where');
      assert.equal(new Set(each.map((r) => r.threadId)).size, 2, 'one task per thread');
      for (const r of each) assert.deepEqual({ data: r.data, env: r.env }, { data: { answer: 42 }, env: 'set' });
      await assert.rejects(pool.run('fail'), (e: Error) => {
        assert.equal(e.message, 'asked to fail');
        assert.match(e.stack ?? '', /pool-worker\.ts/);
        return true;
      });
      await assert.rejects(pool.run('import'), /Cannot find module .*no-such-module/);
    } finally {
      await pool.close();
    }
  });

  it('holds one session per thread with its own state; errors and closing reach the caller', async () => {
    const pool = new WorkerPool(fixture, { threads: 2 });
    const [a, b] = pool.sessions();
    try {
      const r1 = await a.request<{ total: number; threadId: number }>({ add: 2 });
      const r2 = await b.request<{ total: number; threadId: number }>({ add: 5 });
      const r3 = await a.request<{ total: number; threadId: number }>({ add: 3 });
      assert.deepEqual([r1.total, r2.total, r3.total], [2, 5, 5]);
      assert.equal(r1.threadId, r3.threadId);
      assert.notEqual(r1.threadId, r2.threadId);
      await assert.rejects(a.request({ add: -1 }), (e: Error) => {
        assert.equal(e.message, 'cannot add -1');
        assert.match(e.stack ?? '', /pool-worker\.ts/);
        return true;
      });
    } finally {
      await pool.close();
    }
    await assert.rejects(a.request({ add: 1 }), /Terminating worker thread/);
  });

  it('says why a worker module cannot load', async () => {
    const pool = new WorkerPool(new URL('../fixtures/no-such-worker.js', import.meta.url), { threads: 1 });
    try {
      await assert.rejects(pool.run('where'), /no-such-worker/);
    } finally {
      await pool.close();
    }
  });
});
