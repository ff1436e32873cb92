// Cluster-separation scores of embeddings grouped by label (issue 6: how well the learned
// features separate expressions). No maintained npm package computes these, so they are written
// here from the textbook definitions (the same ones scikit-learn uses), in float64 on the host.

export interface Clusters {
  /** Distinct labels, ascending; cluster q holds the rows with label labels[q]. */
  labels: number[];
  centroids: Float64Array[];
  members: number[][];
  dim: number;
}

/** Groups the rows of `x` (n rows of `dim` values, row-major or as arrays) by label. */
export function groupClusters(x: ArrayLike<number> | number[][], labels: ArrayLike<number>, dim?: number): Clusters {
  const rows = toRows(x, labels.length, dim);
  const d = rows.length ? rows[0].length : 0;
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byLabel.get(labels[i]);
    if (list) list.push(i);
    else byLabel.set(labels[i], [i]);
  }
  const keys = [...byLabel.keys()].sort((a, b) => a - b);
  const members = keys.map((k) => byLabel.get(k)!);
  const centroids = members.map((idx) => {
    const c = new Float64Array(d);
    for (const i of idx) for (let k = 0; k < d; k++) c[k] += rows[i][k];
    for (let k = 0; k < d; k++) c[k] /= idx.length;
    return c;
  });
  return { labels: keys, centroids, members, dim: d };
}

function toRows(x: ArrayLike<number> | number[][], n: number, dim?: number): ArrayLike<number>[] {
  if (n === 0) throw new Error('cluster scores: no samples');
  const first = (x as ArrayLike<unknown>)[0];
  if (Array.isArray(first)) {
    const rows = x as number[][];
    if (rows.length !== n) throw new Error(`cluster scores: ${rows.length} embeddings but ${n} labels`);
    if (rows.some((r) => r.length !== rows[0].length)) throw new Error('cluster scores: embeddings of different lengths');
    return rows;
  }
  const flat = x as ArrayLike<number>;
  const d = dim ?? flat.length / n;
  if (!Number.isInteger(d) || d * n !== flat.length) {
    throw new Error(`cluster scores: ${flat.length} values do not make ${n} rows${dim ? ` of ${dim}` : ''}`);
  }
  return Array.from({ length: n }, (_, i) => Array.prototype.slice.call(flat, i * d, (i + 1) * d) as number[]);
}

function dist2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
  return s;
}

function needClusters(k: number, n: number, what: string): void {
  if (k < 2 || k >= n) throw new Error(`${what}: needs 2 ≤ clusters < samples (got ${k} clusters, ${n} samples)`);
}

/**
 * Davies-Bouldin index (lower is better): (1/k) Σ_i max_{j≠i} (s_i + s_j) / ‖c_i − c_j‖, with s_i
 * the mean Euclidean distance of cluster i's points to its centroid. As in scikit-learn, 0 when
 * every s_i or every centroid distance is 0, and a pair with coinciding centroids counts as 0.
 */
export function daviesBouldin(x: ArrayLike<number> | number[][], labels: ArrayLike<number>, dim?: number): number {
  const rows = toRows(x, labels.length, dim);
  const cl = groupClusters(rows as number[][], labels);
  const k = cl.labels.length;
  needClusters(k, labels.length, 'Davies-Bouldin');
  const spread = cl.members.map((idx, q) => idx.reduce((s, i) => s + Math.sqrt(dist2(rows[i], cl.centroids[q])), 0) / idx.length);
  const cd = cl.centroids.map((a) => cl.centroids.map((b) => Math.sqrt(dist2(a, b))));
  if (spread.every((s) => s === 0) || cd.every((row, i) => row.every((v, j) => i === j || v === 0))) return 0;
  let total = 0;
  for (let i = 0; i < k; i++) {
    let worst = 0;
    for (let j = 0; j < k; j++) {
      if (j === i || cd[i][j] === 0) continue;
      worst = Math.max(worst, (spread[i] + spread[j]) / cd[i][j]);
    }
    total += worst;
  }
  return total / k;
}

/**
 * Calinski-Harabasz index (higher is better): [tr(B)/(k−1)] / [tr(W)/(n−k)], B the between-cluster
 * dispersion Σ_q n_q‖c_q − c‖², W the within-cluster Σ_i ‖x_i − c_{y_i}‖². 1 when W = 0 (as scikit-learn).
 */
export function calinskiHarabasz(x: ArrayLike<number> | number[][], labels: ArrayLike<number>, dim?: number): number {
  const rows = toRows(x, labels.length, dim);
  const n = rows.length;
  const cl = groupClusters(rows as number[][], labels);
  const k = cl.labels.length;
  needClusters(k, n, 'Calinski-Harabasz');
  const mean = new Float64Array(cl.dim);
  for (const r of rows) for (let j = 0; j < cl.dim; j++) mean[j] += r[j] / n;
  let between = 0;
  let within = 0;
  cl.members.forEach((idx, q) => {
    between += idx.length * dist2(cl.centroids[q], mean);
    for (const i of idx) within += dist2(rows[i], cl.centroids[q]);
  });
  if (within === 0) return 1;
  return (between * (n - k)) / (within * (k - 1));
}
