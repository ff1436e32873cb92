// The recognition API: load a recognizer once, then recognize images, videos and live streams.
export { Recognizer, loadRecognizer, type ImageInput, type PipelineStage, type RecognizerOptions } from './recognizer.js';
export { recognizeVideo, recognizeStream, summarise, FrameAnalyser, type VideoOptions, type VideoFrames, type StreamFrame, type TemporalOptions } from './video.js';
export { decodeImageBytes } from './decode.js';
export { topLabel } from './results.js';
export { annotatePng, annotateRaster, overlaySvg, EXPRESSION_COLOURS } from './annotate.js';
export { iou, IouTracker, type Box, type TrackerOptions } from './tracker.js';
export type * from './types.js';
