// What the recognition API returns: plain JSON-safe objects (the server sends them as they are).
import type { ExpressionClass } from '../data/types.js';

/** An expression name, one of CANONICAL_CLASSES; a model predicts those in its `config.classes`. */
export type ExpressionLabel = ExpressionClass;

/** Probability per expression of the model's classes (in their order); sums to 1. */
export type ExpressionProbabilities = Partial<Record<ExpressionLabel, number>>;

/** One face in one image. */
export interface FaceResult {
  /** The face's number: 1, 2, ... in reading order in an image; its track in a video (from 1). */
  faceId: number;
  /** [x, y, width, height] in image pixels, inside the image. */
  box: [number, number, number, number];
  /** Face detector score (0-1; 0 when not detected). */
  detectionScore: number;
  /** False when no detector found the face: the whole picture was taken as a face crop. */
  detected: boolean;
  /** 68 landmarks (iBUG order) in image pixels (they may lie outside the image); none when not detected. */
  landmarks: [number, number][];
  /** Probability per expression, in the model's class order; sums to 1. */
  probabilities: ExpressionProbabilities;
  /** The most probable expression. */
  label: ExpressionLabel;
  /** The method's own confidence (ARBEx) when it has one, else the top probability (in videos:
   *  of the smoothed probabilities). */
  confidence: number;
}

export interface ImageResult {
  width: number;
  height: number;
  faces: FaceResult[];
  /** Faces found beyond the maxFaces cap and left out. */
  droppedFaces: number;
}

/** One face in one video frame, after tracking and smoothing: probabilities, label and
 *  confidence are smoothed (EMA) for image models; raw* are this frame's own output. */
export interface TrackedFace extends FaceResult {
  /** The model's output for this frame alone (before smoothing). */
  rawProbabilities: ExpressionProbabilities;
  rawLabel: ExpressionLabel;
  rawConfidence: number;
}

export interface FrameResult {
  /** Index of the frame among those processed (0-based). */
  index: number;
  /** Seconds from the start of the video or stream. */
  time: number;
  width: number;
  height: number;
  faces: TrackedFace[];
  /** Faces found beyond the maxFaces cap and left out. */
  droppedFaces: number;
  /** True when this frame starts a new shot: every track ended before it. */
  sceneCut?: boolean;
}

/** A face at one frame of its timeline: smoothed values and this frame's raw ones. */
export interface TimelinePoint {
  time: number;
  frame: number;
  box: [number, number, number, number];
  detected: boolean;
  probabilities: ExpressionProbabilities;
  label: ExpressionLabel;
  confidence: number;
  rawProbabilities: ExpressionProbabilities;
  rawLabel: ExpressionLabel;
  rawConfidence: number;
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
