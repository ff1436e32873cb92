// A dataset packed by `ferkit data pack` (pack.ts): samples come with their pixels.
import { readPack } from '../pack.js';
import { ProblemLog } from '../errors.js';
import type { ImageSample } from '../types.js';
import { finish, requireFile, type DatasetReader, type ReadOptions } from './common.js';

export const packedReader: DatasetReader = {
  kind: 'image',
  async read(root: string, opts: ReadOptions = {}) {
    requireFile(root, 'pack file');
    const { header, frame } = await readPack(root);
    const items: ImageSample[] = header.ids.map((id, i) => {
      const r = frame(i);
      const subject = header.subjects?.[i];
      return {
        id,
        image: { kind: 'pixels', width: r.width, height: r.height, channels: r.channels, data: r.data, origin: `${root}#${id}` },
        label: header.labels[i],
        ...(subject ? { subject } : {}),
        ...(opts.split ? { split: opts.split } : {}),
      };
    });
    const classes = [...new Set(items.map((s) => s.label))].sort((a, b) => a - b);
    return finish('packed', root, classes, items, new ProblemLog(opts.skipBad));
  },
};
