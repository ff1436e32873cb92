// Cross-validation results: one record per fold, their mean ± sd (WAR, UAR, per-class accuracy),
// and the Markdown row in the layout of the IAL paper's Table 4 (DFEW): per-class accuracy in the
// order Happiness, Sadness, Neutral, Anger, Surprise, Disgust, Fear, then UAR, WAR. Classes a run
// lacks are left out; classes outside the seven (CK+'s contempt) follow them.

/** One fold's test scores (fractions in [0, 1]). */
export interface FoldResult {
  fold: number;
  war: number;
  uar: number;
  /** Per-class accuracy (recall) by canonical class name; null when the fold has no test sample of it. */
  perClass: Record<string, number | null>;
  [key: string]: unknown;
}

export interface MeanSd {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single fold. */
  sd: number;
  /** The per-fold values it summarises. */
  values: number[];
}

export interface CvSummary {
  folds: number[];
  war: MeanSd;
  uar: MeanSd;
  perClass: Record<string, MeanSd>;
  /** Class names in Table-4 order: the table's per-class columns. */
  columns: string[];
}

/** The paper's Table 4 columns: canonical class → header. */
const TABLE4_CLASSES: ReadonlyArray<[string, string]> = [
  ['happy', 'Happiness'],
  ['sad', 'Sadness'],
  ['neutral', 'Neutral'],
  ['angry', 'Anger'],
  ['surprise', 'Surprise'],
  ['disgust', 'Disgust'],
  ['fear', 'Fear'],
];

export function meanSd(values: number[]): MeanSd {
  if (values.length === 0) throw new Error('meanSd: no values');
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd, values };
}

/** Class names in Table-4 order, those outside the seven after them (alphabetically). */
export function table4Order(classes: Iterable<string>): string[] {
  const have = new Set(classes);
  const known = TABLE4_CLASSES.map(([c]) => c);
  return [...known.filter((c) => have.has(c)), ...[...have].filter((c) => !known.includes(c)).sort()];
}

function header(cls: string): string {
  return TABLE4_CLASSES.find(([c]) => c === cls)?.[1] ?? cls.charAt(0).toUpperCase() + cls.slice(1);
}

/** Mean ± sd over folds; a class's figure covers the folds that have test samples of it. */
export function summarize(results: FoldResult[]): CvSummary {
  const sorted = [...results].sort((a, b) => a.fold - b.fold);
  const columns = table4Order(sorted.flatMap((r) => Object.keys(r.perClass)));
  const perClass: Record<string, MeanSd> = {};
  for (const c of columns) {
    const values = sorted.map((r) => r.perClass[c]).filter((v): v is number => typeof v === 'number');
    if (values.length) perClass[c] = meanSd(values);
  }
  return {
    folds: sorted.map((r) => r.fold),
    war: meanSd(sorted.map((r) => r.war)),
    uar: meanSd(sorted.map((r) => r.uar)),
    perClass,
    columns: columns.filter((c) => perClass[c]),
  };
}

const pct = (m: MeanSd) => `${(m.mean * 100).toFixed(2)} ± ${(m.sd * 100).toFixed(2)}`;

/** A Markdown table in Table 4's layout: one row for `label`, values in % as mean ± sd. */
export function table4Markdown(s: CvSummary, label: string): string {
  const heads = ['Method', ...s.columns.map(header), 'UAR', 'WAR'];
  const row = [label, ...s.columns.map((c) => pct(s.perClass[c]!)), pct(s.uar), pct(s.war)];
  return [`| ${heads.join(' | ')} |`, `|${heads.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, `| ${row.join(' | ')} |`].join('\n') + '\n';
}
