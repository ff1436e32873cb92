// Label names and per-dataset label orders, all mapped onto CANONICAL_CLASSES. Each dataset
// numbers its classes differently (spec methods.md §1.1, §2.1, §3.4, §5); getting one table wrong
// silently trains on shuffled labels, so every order lives here, in one place, with its source.
import { CANONICAL_CLASSES, type ExpressionClass } from './types.js';

const SYNONYMS: Record<ExpressionClass, string[]> = {
  angry: ['angry', 'anger', 'ang'],
  disgust: ['disgust', 'disgusted', 'dis'],
  fear: ['fear', 'fearful', 'fea'],
  happy: ['happy', 'happiness', 'hap'],
  sad: ['sad', 'sadness'],
  surprise: ['surprise', 'surprised', 'sur'],
  neutral: ['neutral', 'neu'],
  contempt: ['contempt'],
  other: ['other', 'others'],
};

const BY_NAME = new Map<string, number>();
for (const [cls, names] of Object.entries(SYNONYMS)) {
  const index = CANONICAL_CLASSES.indexOf(cls as ExpressionClass);
  for (const n of names) BY_NAME.set(n, index);
}

/** Canonical index for a label name or synonym (case-insensitive, spaces/`_`/`-` ignored), or
 *  undefined when the name is not an expression. */
export function labelFromName(name: string): number | undefined {
  return BY_NAME.get(name.trim().toLowerCase().replace(/[\s_-]+/g, ''));
}

export function className(index: number): ExpressionClass {
  const c = CANONICAL_CLASSES[index];
  if (c === undefined) throw new Error(`no canonical class with index ${index}`);
  return c;
}

/** A dataset's own numeric label order: code `base + i` means `order[i]`. */
interface LabelOrder {
  base: number;
  order: ExpressionClass[];
}

const LABEL_ORDERS = {
  /** FER2013 `emotion` 0-6: the canonical order itself. */
  fer2013: { base: 0, order: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] },
  /** RAF-DB basic `list_patition_label.txt`, 1..7 (spec §2.1). */
  rafdb: { base: 1, order: ['surprise', 'fear', 'disgust', 'happy', 'sad', 'angry', 'neutral'] },
  /** DFEW, 0-based as in the IAL annotation lines (spec §1.1); the original DFEW files use 1..7. */
  dfew: { base: 0, order: ['happy', 'sad', 'neutral', 'angry', 'surprise', 'disgust', 'fear'] },
  /** AffectNet `expression` 0..7; 8 none, 9 uncertain, 10 non-face are dropped by the reader. */
  affectnet: {
    base: 0,
    order: ['neutral', 'happy', 'sad', 'surprise', 'fear', 'disgust', 'angry', 'contempt'],
  },
  /** Aff-Wild2 EXPR 0..7 (spec §3.4); -1 frames are dropped by the reader. */
  affwild2: {
    base: 0,
    order: ['neutral', 'angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'other'],
  },
  /** CK+ `Emotion/*_emotion.txt` codes 0-7. */
  ckplus: {
    base: 0,
    order: ['neutral', 'angry', 'contempt', 'disgust', 'fear', 'happy', 'sad', 'surprise'],
  },
  /** FERV39k class indices (alphabetical, as its list files number them). */
  ferv39k: { base: 0, order: ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'] },
  /** FER+ `fer2013new.csv` vote columns 2..9 (unknown and NF follow and are not classes). */
  ferplus: {
    base: 0,
    order: ['neutral', 'happy', 'surprise', 'sad', 'angry', 'disgust', 'fear', 'contempt'],
  },
} satisfies Record<string, LabelOrder>;

export type LabelOrderName = keyof typeof LABEL_ORDERS;

/** Canonical index for dataset code `code` (a number or numeric string), or undefined when the
 *  code is outside the dataset's table. `base` overrides the table's base (DFEW 1..7 files). */
export function labelFromCode(dataset: LabelOrderName, code: number | string, base?: number): number | undefined {
  const table = LABEL_ORDERS[dataset];
  const n = typeof code === 'number' ? code : Number(String(code).trim());
  if (!Number.isInteger(n)) return undefined;
  const cls = (table.order as ExpressionClass[])[n - (base ?? table.base)];
  return cls === undefined ? undefined : CANONICAL_CLASSES.indexOf(cls);
}

/** The canonical indices a dataset's table covers, sorted. */
export function classesOf(dataset: LabelOrderName): number[] {
  return (LABEL_ORDERS[dataset].order as ExpressionClass[]).map((c) => CANONICAL_CLASSES.indexOf(c)).sort((a, b) => a - b);
}

/** A label written either as a name (any synonym) or as a canonical index. */
export function labelFromNameOrIndex(value: string): number | undefined {
  const byName = labelFromName(value);
  if (byName !== undefined) return byName;
  const s = value.trim();
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n < CANONICAL_CLASSES.length ? n : undefined;
}

/** JAFFE file names carry the expression as two letters: `KA.AN1.39.tiff` is subject KA, angry. */
const JAFFE_CODES: Record<string, ExpressionClass> = {
  AN: 'angry',
  DI: 'disgust',
  FE: 'fear',
  HA: 'happy',
  NE: 'neutral',
  SA: 'sad',
  SU: 'surprise',
};

export function labelFromJaffeCode(code: string): number | undefined {
  const cls = JAFFE_CODES[code.slice(0, 2).toUpperCase()];
  return cls === undefined ? undefined : CANONICAL_CLASSES.indexOf(cls);
}
