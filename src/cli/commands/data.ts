// `ferkit data check`: read a dataset through its reader, validate it, and print counts per class,
// subjects and problems (a table, or JSON with --json).
import type { Command } from 'commander';
import { writeSkipReport } from '../../data/errors.js';
import { className } from '../../data/labels.js';
import { datasets } from '../../data/registry.js';
import type { ClipSample, Dataset, ImageSample } from '../../data/types.js';
import { classCounts, validateDataset, type CheckLevel } from '../../data/validate.js';

interface CheckOptions {
  dataset: string;
  root: string;
  split?: string;
  fold?: string;
  minFrames?: string;
  skipBad?: boolean;
  json?: boolean;
  level: CheckLevel;
  skipReport?: string;
}

interface CheckReport {
  dataset: string;
  root: string;
  kind: 'image' | 'clip';
  split?: string;
  samples: number;
  classes: Record<string, number>;
  subjects: number | null;
  frames?: { min: number; max: number; mean: number };
  problems: Array<{ file: string; problem: string }>;
  dropped: number;
}

/** Reads and validates; throws DataError at the first problem unless skipBad. */
async function checkDataset(o: CheckOptions): Promise<{ report: CheckReport; dataset: Dataset<ImageSample | ClipSample> }> {
  const reader = datasets.get(o.dataset);
  const minFrames = o.minFrames === undefined ? undefined : Number(o.minFrames);
  const read = await reader.create.read(o.root, {
    split: o.split,
    skipBad: o.skipBad,
    fold: o.fold === undefined ? undefined : Number(o.fold),
    minFrames,
  });
  const { dataset } = await validateDataset(read, { level: o.level, skipBad: o.skipBad, minFrames });
  const classes: Record<string, number> = {};
  for (const [c, n] of classCounts(dataset)) classes[className(c)] = n;
  const subjects = dataset.items.every((s) => s.subject !== undefined) && dataset.items.length > 0
    ? new Set(dataset.items.map((s) => s.subject)).size
    : null;
  const report: CheckReport = {
    dataset: reader.name,
    root: dataset.root,
    kind: reader.create.kind,
    ...(o.split ? { split: o.split } : {}),
    samples: dataset.items.length,
    classes,
    subjects,
    problems: dataset.skipped,
    dropped: dataset.dropped?.length ?? 0,
  };
  const lengths = dataset.items.flatMap((s) => ('frames' in s && Array.isArray(s.frames) ? [s.frames.length] : []));
  if (lengths.length > 0) {
    report.frames = {
      min: Math.min(...lengths),
      max: Math.max(...lengths),
      mean: Number((lengths.reduce((a, b) => a + b, 0) / lengths.length).toFixed(2)),
    };
  }
  return { report, dataset };
}

function formatReport(r: CheckReport): string {
  const lines = [`${r.dataset} (${r.kind}s) at ${r.root}${r.split ? `, split ${r.split}` : ''}`];
  const width = Math.max(5, ...Object.keys(r.classes).map((c) => c.length));
  lines.push(`  ${'class'.padEnd(width)}  count`);
  for (const [c, n] of Object.entries(r.classes)) lines.push(`  ${c.padEnd(width)}  ${String(n).padStart(5)}`);
  lines.push(`  ${'total'.padEnd(width)}  ${String(r.samples).padStart(5)}`);
  lines.push(`subjects: ${r.subjects ?? 'none given'}`);
  if (r.frames) lines.push(`frames per clip: min ${r.frames.min}, max ${r.frames.max}, mean ${r.frames.mean}`);
  if (r.dropped > 0) lines.push(`dropped by dataset rules: ${r.dropped}`);
  lines.push(`problems: ${r.problems.length}`);
  for (const p of r.problems.slice(0, 50)) lines.push(`  ${p.file}: ${p.problem}`);
  if (r.problems.length > 50) lines.push(`  ... ${r.problems.length - 50} more (use --json or --skip-report)`);
  return lines.join('\n') + '\n';
}

export function register(program: Command): void {
  const data = program.command('data').description('dataset tools');
  data
    .command('check')
    .description('read and validate a dataset: counts per class, subjects, problems')
    .requiredOption('--dataset <name>', `dataset format: ${datasets.names().join(', ')}`)
    .requiredOption('--root <dir>', 'dataset root folder (or CSV file for fer2013, affectnet, clips)')
    .option('--split <name>', 'only this split (train, val, test)')
    .option('--fold <k>', 'fold of a dataset with its own folds (DFEW 1-5)')
    .option('--min-frames <n>', 'clips with fewer frames are problems (DFEW drops them; default 16 there)')
    .option('--level <level>', 'image check: exists, header (decode headers) or full (decode pixels)', 'header')
    .option('--skip-bad', 'record bad samples and go on, instead of stopping at the first problem')
    .option('--skip-report <file>', 'write skipped and dropped samples as JSON')
    .option('--json', 'print the report as JSON')
    .action(async (o: CheckOptions) => {
      if (!['exists', 'header', 'full'].includes(o.level)) throw new Error(`--level must be exists, header or full, not "${o.level}"`);
      const { report, dataset } = await checkDataset(o);
      if (o.skipReport) await writeSkipReport(dataset, o.skipReport);
      process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
    });
  data
    .command('pack')
    .description('decode an image dataset once into a single pack file (pixels at one size, labels, ids) for fast training or moving to another machine')
    .requiredOption('--dataset <name>', `dataset format: ${datasets.names().join(', ')}`)
    .requiredOption('--root <dir>', 'dataset root folder')
    .requiredOption('--out <file>', 'pack file to write')
    .option('--split <name>', 'only this split (train, val, test)')
    .option('--size <px>', 'side of the packed images', '48')
    .option('--channels <n>', '1 (grey) or 3 (RGB)', '1')
    .option('--skip-bad', 'leave out unreadable samples instead of stopping')
    .action(async (o: { dataset: string; root: string; out: string; split?: string; size: string; channels: string; skipBad?: boolean }) => {
      const { readImages } = await import('../../data/registry.js');
      const { loadSampleStore } = await import('../../data/sample-store.js');
      const { writePack } = await import('../../data/pack.js');
      const size = Number(o.size);
      const channels = Number(o.channels);
      if (!(Number.isInteger(size) && size > 0)) throw new Error(`--size must be a positive integer, not "${o.size}"`);
      if (channels !== 1 && channels !== 3) throw new Error(`--channels must be 1 or 3, not "${o.channels}"`);
      const ds = await readImages(o.dataset, o.root, { split: o.split, skipBad: o.skipBad });
      const input = { kind: 'image' as const, size: [size, size] as [number, number], channels: channels as 1 | 3, mean: [0], std: [1] };
      const store = await loadSampleStore(ds.items, input, { cache: false });
      await writePack(
        o.out,
        ds.items.map((s, i) => ({ id: s.id, label: s.label, subject: s.subject, raster: store.frame(i, 0) })),
        { dataset: o.dataset, root: o.root, split: o.split ?? null },
      );
      process.stdout.write(`${o.out}: ${ds.items.length} images, ${size}x${size}x${channels}${ds.skipped.length ? `, ${ds.skipped.length} skipped` : ''}\n`);
    });
}
