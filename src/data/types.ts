// Shared data types: every reader maps its own labels onto one canonical label space.

/** Canonical expression classes. Indices 0-6 follow FER2013's order, so the bundled 7-class model
 *  and FER2013 need no remapping; `contempt` and `other` exist only where a dataset has them. */
export const CANONICAL_CLASSES = [
  'angry',
  'disgust',
  'fear',
  'happy',
  'sad',
  'surprise',
  'neutral',
  'contempt',
  'other',
] as const;
export type ExpressionClass = (typeof CANONICAL_CLASSES)[number];
export const BASIC7: readonly ExpressionClass[] = CANONICAL_CLASSES.slice(0, 7);

/** Where the pixels of one image come from. */
export type ImageSource =
  | { kind: 'file'; path: string }
  | { kind: 'pixels'; width: number; height: number; channels: 1 | 3; data: Uint8Array; origin: string }
  | { kind: 'video-frame'; path: string; index: number };

export interface ImageSample {
  /** Stable id, unique within the dataset (relative path, CSV row, ...). */
  id: string;
  image: ImageSource;
  /** Canonical class index (into CANONICAL_CLASSES). */
  label: number;
  /** Soft label over the canonical classes (FER+ votes), when the dataset has one. */
  labelDist?: number[];
  subject?: string;
  /** Face box in source pixels [x, y, w, h], when the dataset gives one. */
  box?: [number, number, number, number];
  valence?: number;
  arousal?: number;
  /** Split name from the dataset's own files (train/test/val, fold ...). */
  split?: string;
}

export interface ClipSample {
  id: string;
  /** Frames in temporal order (image files or frames of a video). */
  frames: ImageSource[] | { kind: 'video'; path: string };
  label: number;
  subject?: string;
  split?: string;
}

/** A problem found while reading or validating: always names the file. */
export interface DataProblem {
  file: string;
  problem: string;
}

export interface Dataset<S = ImageSample> {
  name: string;
  root: string;
  /** Canonical class indices this dataset can carry (its label space). */
  classes: number[];
  items: S[];
  /** Problems found (only non-empty when reading with skipBad). */
  skipped: DataProblem[];
  /** Samples left out on purpose by a dataset rule (DFEW clips under 16 frames, AffectNet
   *  "none/uncertain/non-face", FER+ rows without a majority): not errors. */
  dropped?: DataProblem[];
}

export type InputKind = 'image' | 'clip';

/** How a model is fed: input kind, size, channels, normalisation (a model config's `input`). */
export interface InputSpec {
  kind: InputKind;
  /** [height, width] of one image or frame. */
  size: [number, number];
  /** 1 = grey, 3 = RGB. */
  channels: 1 | 3;
  /** Frames per clip (clip models only). */
  frames?: number;
  /** V of the U×V clip sampling (spec §1.2): V consecutive frames from each of U = frames / V
   *  segments. Absent: 1 (IAL's U16×V1); 2 is NR-DFERNet's U8×V2. Kept in the config so eval and
   *  report sample clips as training did. */
  framesPerSegment?: number;
  /** The model sees grey faces, replicated to its `channels` (an RGB trunk trained on grey
   *  datasets): colour inputs are turned grey first, at training and at inference alike. */
  greyscale?: boolean;
  /** Per-channel mean and std on the [0,1] scale: the model sees (x/255 − mean)/std. */
  mean: number[];
  std: number[];
}
