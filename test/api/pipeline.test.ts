// One photo through recognizeImage is one straight pipeline: decode → detect → align → preprocess
// → run, each stage once, in that order (the recognizer's onStage hook), on the real ONNX face
// detector and the real bundled model, watched by counting wrappers that call them unchanged. On
// ONNX Runtime end to end, TF.js is never started.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Recognizer, type PipelineStage } from '../../src/api/index.js';
import { engineInfo } from '../../src/engine/backend.js';
import { loadFaceDetector, type FaceDetectorBackend } from '../../src/detect/detector.js';
import { loadModelFolder } from '../../src/infer/load.js';
import type { ModelRunner } from '../../src/infer/runner.js';
import { samplePhotos } from './fixtures.js';

describe('predict pipeline (real photo, real detector, real model)', () => {
  it('decodes, detects, aligns, preprocesses and runs once each, in order, without starting TF.js', async () => {
    const runner = await loadModelFolder(undefined, { runtime: 'onnx' });
    const detector = await loadFaceDetector({ runtime: 'onnx' });
    const runs: { n: number; values: number }[] = [];
    let detections = 0;
    const countedRunner: ModelRunner = {
      config: runner.config,
      engine: runner.engine,
      run: (x, shape) => (runs.push({ n: shape[0], values: x.length }), runner.run(x, shape)),
      dispose: () => runner.dispose(),
    };
    const countedDetector: FaceDetectorBackend = {
      engine: detector.engine,
      detect: (r, o) => (detections++, detector.detect(r, o)),
      landmarks: detector.landmarks?.bind(detector),
      dispose: () => detector.dispose(),
    };
    const stages: PipelineStage[] = [];
    const rec = new Recognizer(countedRunner, { onStage: (s) => stages.push(s) }, countedDetector);
    const result = await rec.recognizeImage(samplePhotos[0]);
    await rec.dispose();

    assert.deepEqual(stages, ['decode', 'detect', 'align', 'preprocess', 'run']);
    assert.ok(result.faces.length >= 3, `sample1 shows a group (${result.faces.length} faces)`);
    assert.equal(detections, 1, 'one detector pass over the photo');
    const [h, w] = runner.config.input.size;
    assert.deepEqual(runs, [{ n: result.faces.length, values: result.faces.length * h * w * runner.config.input.channels }], 'one model call for all faces, on the preprocessed floats');
    assert.equal(rec.engine, 'onnxruntime');
    assert.throws(() => engineInfo(), /engine not initialised/, 'TF.js was never started');
  });
});
