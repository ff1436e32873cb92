// Oulu-CASIA: `<root>/<Subject>/<Expression>/*.jpeg`, each expression folder one sequence from
// neutral to peak (the dataset ships it under e.g. `OriginalImg/VL/Strong/`: point root there).
// `oulu` reads each folder as a clip (frames by file name); `oulu-peak` reads the last 3 frames of
// each sequence as images, the usual static protocol, as with CK+. Subject = the subject folder.
import { basename, join } from 'node:path';
import { ProblemLog } from '../errors.js';
import { labelFromName } from '../labels.js';
import type { ClipSample, ImageSample } from '../types.js';
import { finish, refuseSplit, listDirs, listFrames, requireDir, type DatasetReader, type ReadOptions } from './common.js';

const PEAK_FRAMES = 3;

function ouluSequences(root: string, log: ProblemLog): ClipSample[] {
  requireDir(root, 'Oulu-CASIA root');
  const clips: ClipSample[] = [];
  for (const subject of listDirs(root)) {
    for (const expr of listDirs(join(root, subject))) {
      const dir = join(root, subject, expr);
      const label = labelFromName(expr);
      if (label === undefined) {
        log.problem(dir, `unknown label "${expr}" (expression folder name is not an expression class)`);
        continue;
      }
      const frames = listFrames(dir, log);
      if (frames === undefined) continue;
      if (frames.length === 0) {
        log.problem(dir, 'sequence folder has no images');
        continue;
      }
      clips.push({ id: `${subject}/${expr}`, frames: frames.map((path) => ({ kind: 'file', path })), label, subject });
    }
  }
  if (clips.length === 0 && log.skipped.length === 0) log.problem(root, 'no <Subject>/<Expression>/ sequence folders here');
  return clips;
}

const classesIn = (items: Array<{ label: number }>): number[] => [...new Set(items.map((s) => s.label))].sort((a, b) => a - b);

export const ouluReader: DatasetReader = {
  kind: 'clip',
  async read(root: string, opts: ReadOptions = {}) {
    refuseSplit('oulu', root, opts);
    const log = new ProblemLog(opts.skipBad);
    const items = ouluSequences(root, log);
    return finish('oulu', root, classesIn(items), items, log);
  },
};

export const ouluPeakReader: DatasetReader = {
  kind: 'image',
  async read(root: string, opts: ReadOptions = {}) {
    refuseSplit('oulu-peak', root, opts);
    const log = new ProblemLog(opts.skipBad);
    const items: ImageSample[] = ouluSequences(root, log).flatMap((clip) =>
      (clip.frames as Array<{ kind: 'file'; path: string }>).slice(-PEAK_FRAMES).map((f) => ({
        id: `${clip.id}/${basename(f.path)}`,
        image: f,
        label: clip.label,
        subject: clip.subject,
      })),
    );
    return finish('oulu-peak', root, classesIn(items), items, log);
  },
};
