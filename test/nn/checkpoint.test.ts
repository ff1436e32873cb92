// safetensors: round trips, the byte layout, decoding of PyTorch's other dtypes, clear errors on
// broken files, module save/load, and PyTorch-layout conversion.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { decodeSafetensors, encodeSafetensors, loadModule, loadSafetensors, saveModule, saveSafetensors } from '../../src/nn/checkpoint.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Linear } from '../../src/nn/linear.js';
import { Sequential } from '../../src/nn/module.js';
import { BatchNorm2d } from '../../src/nn/norm.js';
import { Rng } from '../../src/util/rng.js';
import { fromTorchLayout, loadTorchStateDict, toTorchLayout, torchStateDict } from '../../src/nn/torch-layout.js';

/** A safetensors file built by hand, as another writer would. */
function handMade(entries: Array<{ name: string; dtype: string; shape: number[]; bytes: Uint8Array }>, headerExtra = ''): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.length] };
    off += e.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header) + headerExtra);
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const e of entries) {
    out.set(e.bytes, p);
    p += e.bytes.length;
  }
  return out;
}

const model = (seed: number) => {
  const rng = new Rng(seed);
  return new Sequential(new Conv2d(3, 4, 3, { stride: 2, padding: 1, rng }), new BatchNorm2d(4), new Conv2d(4, 8, 3, { groups: 4, rng }), new Linear(8, 5, { rng }));
};

describe('safetensors', () => {
  let dir: string;
  before(async () => {
    await initEngine();
    dir = mkdtempSync(join(tmpdir(), 'ferkit-ckpt-'));
  });

  it('round-trips float32, int32 and bool tensors with metadata; header is 8-byte aligned', async () => {
    const tensors = {
      w: tf.tensor([[1.5, -2.25, 3e-8], [4, 5, 6]]),
      count: tf.scalar(7, 'int32'),
      idx: tf.tensor([1, -2, 3], [3], 'int32'),
      mask: tf.tensor([true, false, true], [3], 'bool'),
      empty: tf.zeros([0, 4]),
    };
    const path = join(dir, 'sub', 'a.safetensors');
    await saveSafetensors(path, tensors, { epoch: '3', note: 'héllo' });
    const bytes = readFileSync(path);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + headerLen) % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString());
    assert.deepEqual(header.w, { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    assert.deepEqual(header.__metadata__, { epoch: '3', note: 'héllo' });
    assert.equal(bytes.readFloatLE(8 + headerLen + 4), -2.25); // raw little-endian data
    const { tensors: back, metadata } = await loadSafetensors(path);
    assert.deepEqual(metadata, { epoch: '3', note: 'héllo' });
    for (const [k, t] of Object.entries(tensors)) {
      assert.equal(back[k].dtype, t.dtype, k);
      assert.deepEqual(back[k].shape, t.shape, k);
      assert.deepEqual(Array.from(back[k].dataSync()), Array.from(t.dataSync()), k);
    }
  });

  it("decodes PyTorch's F16, BF16, F64, I64, U8 tensors", () => {
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555]).buffer); // 1, -2, 0.33325
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc040]).buffer); // 1, -3
    const f64 = new Uint8Array(new Float64Array([0.1, -1e10]).buffer);
    const i64 = new Uint8Array(new BigInt64Array([5n, -7n]).buffer);
    const bytes = handMade([
      { name: 'h', dtype: 'F16', shape: [3], bytes: f16 },
      { name: 'b', dtype: 'BF16', shape: [2], bytes: bf16 },
      { name: 'd', dtype: 'F64', shape: [2], bytes: f64 },
      { name: 'l', dtype: 'I64', shape: [2, 1], bytes: i64 },
      { name: 'u', dtype: 'U8', shape: [1], bytes: new Uint8Array([200]) },
    ]);
    const { tensors } = decodeSafetensors(bytes, 'torch.safetensors');
    assert.deepEqual(Array.from(tensors.h.dataSync()), [1, -2, 0.333251953125]);
    assert.deepEqual(Array.from(tensors.b.dataSync()), [1, -3]);
    assert.deepEqual(Array.from(tensors.d.dataSync()), [Math.fround(0.1), -1e10]);
    assert.equal(tensors.l.dtype, 'int32');
    assert.deepEqual(Array.from(tensors.l.dataSync()), [5, -7]);
    assert.deepEqual(Array.from(tensors.u.dataSync()), [200]);
    const big = handMade([{ name: 'l', dtype: 'I64', shape: [1], bytes: new Uint8Array(new BigInt64Array([1n << 40n]).buffer) }]);
    assert.throws(() => decodeSafetensors(big, 'big.safetensors'), /big\.safetensors: "l": int64 value 1099511627776 does not fit int32/);
  });

  it('rejects broken files with the file name and the problem', async () => {
    const good = encodeSafetensors({ a: tf.ones([4]) });
    const cases: Array<[Uint8Array, RegExp]> = [
      [good.subarray(0, 5), /shorter than the 8-byte header length/],
      [good.subarray(0, 20), /header length \d+ exceeds the file/],
      [good.subarray(0, good.length - 4), /data_offsets \[0, 16\] fall outside the 12 data bytes/],
      [handMade([{ name: 'a', dtype: 'F32', shape: [3], bytes: new Uint8Array(8) }]), /"a": 8 bytes for shape \[3\] of F32/],
      [handMade([{ name: 'a', dtype: 'Q8', shape: [1], bytes: new Uint8Array(1) }]), /unsupported dtype Q8/],
      [(() => { const b = Uint8Array.from(good); b[10] = 0x7b; b[11] = 0x7b; return b; })(), /header is not JSON/],
    ];
    for (const [i, [bytes, re]] of cases.entries()) {
      const path = join(dir, `broken${i}.safetensors`);
      writeFileSync(path, bytes);
      await assert.rejects(loadSafetensors(path), (e: Error) => e.message.includes(path) && re.test(e.message), `case ${i}`);
    }
    await assert.rejects(loadSafetensors(join(dir, 'nope.safetensors')), /nope\.safetensors: cannot read checkpoint \(ENOENT\)/);
  });

  it('saveModule/loadModule restore every parameter and buffer exactly', async () => {
    const a = model(1);
    a.train();
    tf.tidy(() => a.get(1).forward(tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 1))); // running stats move
    const path = join(dir, 'm.safetensors');
    await saveModule(path, a, { arch: 'test' });
    const b = model(2);
    const { metadata } = await loadModule(path, b);
    assert.equal(metadata.arch, 'test');
    assert.equal(metadata.format, 'ferkit');
    for (const [k, v] of Object.entries(a.stateDict())) assert.deepEqual(Array.from(b.stateDict()[k].dataSync()), Array.from(v.dataSync()), k);
    assert.equal(b.stateDict()['1.num_batches_tracked'].dataSync()[0], 1);
    const c = new Sequential(new Linear(3, 3));
    await assert.rejects(loadModule(path, c), /m\.safetensors: cannot load into Sequential: unexpected keys: 1\.weight, .*shape mismatch: 0\.weight: checkpoint \[3,3,3,4\] vs model \[3,3\]/);
    a.dispose();
    b.dispose();
  });

  it('PyTorch layouts: conv [out,in,kh,kw], depthwise [C·m,1,kh,kw], linear [out,in], and back', () => {
    const m = model(3);
    const sd = torchStateDict(m);
    assert.deepEqual(sd['0.weight'].shape, [4, 3, 3, 3]);
    assert.deepEqual(sd['2.weight'].shape, [8, 1, 3, 3]);
    assert.deepEqual(sd['3.weight'].shape, [5, 8]);
    // element check: ours [kh,kw,in,out][1][2][0][3] is torch [out,in,kh,kw][3][0][1][2]
    const ours = m.get(0).namedParameters()[0][1].arraySync() as number[][][][];
    const theirs = sd['0.weight'].arraySync() as number[][][][];
    assert.equal(theirs[3][0][1][2], ours[1][2][0][3]);
    // depthwise: torch output channel c·m + j is ours [.., c, j]
    const dOurs = m.get(2).namedParameters()[0][1].arraySync() as number[][][][];
    const dTheirs = sd['2.weight'].arraySync() as number[][][][];
    assert.equal(dTheirs[2 * 2 + 1][0][0][2], dOurs[0][2][2][1]);
    const back = fromTorchLayout(sd['2.weight'], 'depthwise', [3, 3, 4, 2]);
    assert.deepEqual(Array.from(back.dataSync()), Array.from(m.get(2).namedParameters()[0][1].dataSync()));
    const other = model(4);
    loadTorchStateDict(other, sd);
    for (const [k, v] of Object.entries(m.stateDict())) assert.deepEqual(Array.from(other.stateDict()[k].dataSync()), Array.from(v.dataSync()), k);
    const lin = toTorchLayout(tf.tensor([[1, 2, 3], [4, 5, 6]]), 'linear');
    assert.deepEqual(lin.arraySync(), [[1, 4], [2, 5], [3, 6]]);
    rmSync(dir, { recursive: true, force: true });
  });
});
