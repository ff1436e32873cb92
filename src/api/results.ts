// Model outputs → the API's result objects.
import type { Face } from '../detect/align.js';
import type { ExpressionLabel, FaceResult } from './types.js';

/** The label with the highest probability (model classes are canonical expression names). */
export function topLabel(probs: Record<string, number>): ExpressionLabel {
  let best = '' as ExpressionLabel;
  let bestP = -Infinity;
  for (const [k, p] of Object.entries(probs)) if (p > bestP) [best, bestP] = [k as ExpressionLabel, p];
  return best;
}

/** A face's result; `detected` is false for a picture read whole as a face crop (default true:
 *  a detector's face). */
export function faceResult(f: Face & { detected?: boolean }, probabilities: Record<string, number>, confidence: number, faceId: number): FaceResult {
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return {
    faceId,
    box: f.box.map(r2) as FaceResult['box'],
    detectionScore: f.score,
    detected: f.detected ?? true,
    landmarks: f.landmarks.map(([x, y]) => [r2(x), r2(y)]),
    probabilities,
    label: topLabel(probabilities),
    confidence,
  };
}

