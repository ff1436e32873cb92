// What the recognition API returns: plain JSON-safe objects (the server sends them as they are).
import type { ExpressionClass } from '../data/types.js';

/** An expression name, one of CANONICAL_CLASSES; a model predicts those in its `config.classes`. */
export type ExpressionLabel = ExpressionClass;

/** Probability per expression of the model's classes (in their order); sums to 1. */
export type ExpressionProbabilities = Partial<Record<ExpressionLabel, number>>;

/** One face in one image. */
export interface FaceResult {
  /** [x, y, width, height] in image pixels. */
  box: [number, number, number, number];
  /** Face detector score (0-1). */
  detectionScore: number;
  /** 68 landmarks (iBUG order) in image pixels. */
  landmarks: [number, number][];
  /** Probability per expression, in the model's class order; sums to 1. */
  probabilities: ExpressionProbabilities;
  /** The most probable expression. */
  label: ExpressionLabel;
  /** The method's own confidence (ARBEx) when it has one, else the top probability. */
  confidence: number;
}

export interface ImageResult {
  width: number;
  height: number;
  faces: FaceResult[];
}

/** One face in one video frame, after tracking and smoothing. */
export interface TrackedFace extends FaceResult {
  /** Track id: the same person keeps it across frames (box IoU matching). */
  faceId: number;
  /** The model's output for this frame alone (before smoothing). */
  rawProbabilities: ExpressionProbabilities;
}

export interface FrameResult {
  /** Index of the frame among those processed (0-based). */
  index: number;
  /** Seconds from the start of the video or stream. */
  time: number;
  width: number;
  height: number;
  faces: TrackedFace[];
}

export interface TimelinePoint {
  time: number;
  frame: number;
  box: [number, number, number, number];
  probabilities: ExpressionProbabilities;
  label: ExpressionLabel;
  confidence: number;
}

export interface FaceSummary {
  faceId: number;
  firstTime: number;
  lastTime: number;
  frames: number;
  /** Mean of the timeline's probabilities. */
  meanProbabilities: ExpressionProbabilities;
  /** Label of the mean probabilities. */
  dominantLabel: ExpressionLabel;
  /** Fraction of the face's frames carrying each label. */
  labelShare: ExpressionProbabilities;
}

export interface FaceTimeline {
  faceId: number;
  points: TimelinePoint[];
  summary: FaceSummary;
}

export interface VideoSummary {
  frames: number;
  /** Seconds covered (last processed frame time − first). */
  duration: number;
  faces: number;
  /** Frames with at least one face. */
  framesWithFaces: number;
  /** Mean probabilities over every face in every frame (empty object when no face was seen). */
  meanProbabilities: ExpressionProbabilities;
  dominantLabel: ExpressionLabel | null;
}

export interface VideoResult {
  width: number;
  height: number;
  fps: number;
  /** How per-frame outputs were combined: a clip model's sliding window or EMA smoothing. */
  temporal: { mode: 'clip-window'; frames: number } | { mode: 'ema'; tau: number };
  frames: FrameResult[];
  timelines: FaceTimeline[];
  summary: VideoSummary;
}
