// Every dataset format, chosen by `--dataset <name>`.
import { Registry } from '../registry.js';
import type { DatasetReader, ReadOptions } from './readers/common.js';
import type { ClipSample, Dataset, ImageSample } from './types.js';
import { affectnetReader } from './readers/affectnet.js';
import { affwild2Reader } from './readers/affwild2.js';
import { ckplusClipsReader, ckplusReader } from './readers/ckplus.js';
import { clipsReader } from './readers/clips.js';
import { dfewReader } from './readers/dfew.js';
import { fer2013Reader } from './readers/fer2013.js';
import { ferplusReader } from './readers/ferplus.js';
import { ferv39kReader } from './readers/ferv39k.js';
import { folderReader } from './readers/folder.js';
import { jaffeReader } from './readers/jaffe.js';
import { ouluPeakReader, ouluReader } from './readers/oulu.js';
import { rafdbReader } from './readers/rafdb.js';

import { packedReader } from './readers/packed.js';
export type { DatasetReader, ReadOptions } from './readers/common.js';

export const datasets = new Registry<DatasetReader>('dataset');

datasets
  .register({ name: 'folder', description: 'folder per class (optionally under train/ val/ test/)', create: folderReader, aliases: ['folders', 'imagefolder'] })
  .register({ name: 'fer2013', description: 'FER2013 CSV (emotion,pixels,Usage)', create: fer2013Reader, aliases: ['fer2013-csv'] })
  .register({ name: 'ferplus', description: 'FER+ fer2013new.csv votes, pixels from fer2013.csv or image folders', create: ferplusReader, aliases: ['fer+'] })
  .register({ name: 'rafdb', description: 'RAF-DB basic (EmoLabel/list_patition_label.txt + Image/aligned)', create: rafdbReader, aliases: ['raf-db', 'raf'] })
  .register({ name: 'affectnet', description: 'AffectNet training.csv/validation.csv', create: affectnetReader })
  .register({ name: 'ckplus', description: 'CK+ peak-frame images (original layout or CK+48)', create: ckplusReader, aliases: ['ck+', 'ckplus48', 'ck+48'] })
  .register({ name: 'ckplus-clips', description: 'CK+ sequences as clips (original layout or CK+48 3-frame groups)', create: ckplusClipsReader, aliases: ['ck+-clips'] })
  .register({ name: 'jaffe', description: 'JAFFE images named <subject>.<expr><n>.<id>.tiff', create: jaffeReader })
  .register({ name: 'oulu', description: 'Oulu-CASIA <Subject>/<Expression>/ sequences as clips', create: ouluReader, aliases: ['oulu-casia'] })
  .register({ name: 'oulu-peak', description: 'Oulu-CASIA last 3 frames of each sequence as images', create: ouluPeakReader })
  .register({ name: 'dfew', description: 'DFEW annotation/set_<k>_{train,test}.txt frame folders, folds 1-5', create: dfewReader })
  .register({ name: 'ferv39k', description: 'FERV39k train/test lists of frame folders', create: ferv39kReader })
  .register({ name: 'affwild2', description: 'Aff-Wild2 EXPR per-video label files + cropped_aligned frames', create: affwild2Reader, aliases: ['aff-wild2'] })
  .register({ name: 'packed', description: 'one-file pack written by `ferkit data pack` (pixels, labels, ids)', create: packedReader, aliases: ['pack'] })
  .register({ name: 'clips', description: 'CSV path,label[,subject] of videos or frame folders', create: clipsReader, aliases: ['videos'] });

/** Reads a dataset by registry name. */
export function readDataset(name: string, root: string, opts?: ReadOptions): Promise<Dataset<ImageSample | ClipSample>> {
  return datasets.get(name).create.read(root, opts);
}

/** Reads an image dataset by name; throws when the reader gives clips. */
export async function readImages(name: string, root: string, opts?: ReadOptions): Promise<Dataset<ImageSample>> {
  const entry = datasets.get(name);
  if (entry.create.kind !== 'image') throw new Error(`dataset "${entry.name}" gives clips, not images`);
  return (await entry.create.read(root, opts)) as Dataset<ImageSample>;
}

/** Reads a clip dataset by name; throws when the reader gives images. */
export async function readClips(name: string, root: string, opts?: ReadOptions): Promise<Dataset<ClipSample>> {
  const entry = datasets.get(name);
  if (entry.create.kind !== 'clip') throw new Error(`dataset "${entry.name}" gives images, not clips`);
  return (await entry.create.read(root, opts)) as Dataset<ClipSample>;
}
