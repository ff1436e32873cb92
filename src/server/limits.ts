// What `ferkit serve` accepts: upload sizes, decoded pixels, video length, and how many requests
// may wait for the model at once (the rest get 503 rather than piling up without bound).
export interface ServerLimits {
  /** Largest image upload, bytes (default 10 MB). */
  maxImageBytes: number;
  /** Largest video upload, bytes (default 50 MB). */
  maxVideoBytes: number;
  /** Largest image (or video frame) width×height (default 16.8 MP: 4096×4096). */
  maxPixels: number;
  /** Longest video, seconds (default 30). */
  maxVideoSeconds: number;
  /** Frames per second analysed in uploaded videos (default 5). */
  videoFps: number;
  /** Requests waiting or running at once before new ones get 503 (default 64). */
  maxQueue: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxImageBytes: 10 * 1024 * 1024,
  maxVideoBytes: 50 * 1024 * 1024,
  maxPixels: 4096 * 4096,
  maxVideoSeconds: 30,
  videoFps: 5,
  maxQueue: 64,
};
