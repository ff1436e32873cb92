// ferkit in the browser (`ferkit/browser`, built to dist/browser/ferkit.js by scripts/build-browser.ts):
// expressions of the faces in images, video elements and the webcam, computed in the page.
export { loadRecognizer, startWebcam, summarise, BrowserRecognizer, type BrowserRecognizerOptions, type BrowserImageResult, type BrowserDetector, type BrowserBackend, type StreamOptions } from './recognizer.js';
export type { BrowserImage } from './pixels.js';
export type { TemporalOptions } from '../api/frames.js';
export type { Raster } from '../data/raster.js';
export type { Face } from '../detect/align.js';
export { CANONICAL_CLASSES, type ExpressionClass } from '../data/types.js';
export type * from '../api/types.js';
