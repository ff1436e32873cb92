// What `ferkit train` and `ferkit cv` share: the training flags (model shape, optimiser, schedule,
// budget), the model config they give for a set of classes, the trainer settings, and the progress
// bar/log lines on the terminal. Dataset flags stay with each command: train reads --split/--val-split,
// cv takes its splits from the folds.
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import type { MethodDefaults } from '../models/methods.js';
import type { InputSpec, ModelConfig } from '../models/model.js';
import type { ClipSample, ImageSample } from '../data/types.js';
import type { TrainerOptions } from '../train/trainer.js';
import type { FineTuneOptions } from '../train/finetune.js';

export interface TrainingFlags {
  method: string;
  out: string;
  epochs: string;
  batchSize: string;
  optimizer: string;
  lr: string;
  momentum: string;
  nesterov?: boolean;
  weightDecay: string;
  schedule: string;
  warmup: string;
  stepSize?: string;
  gamma?: string;
  workers?: string;
  seed: string;
  timeBudget?: string;
  maxSteps?: string;
  clipGradNorm?: string;
  iterations?: string;
  init?: string;
  backbone?: string;
  width?: string;
  size?: string;
  channels?: string;
  frames?: string;
  sampling?: string;
  augment?: string;
  tta?: boolean;
  selectBy: 'war' | 'uar';
  methodOptions?: string;
  objective?: string;
  skipBad?: boolean;
  pretrained?: boolean;
  freeze?: string;
  bn?: string;
  backboneLrScale?: string;
  cacheFrozen?: boolean;
  backboneOptions?: string;
  greyscale?: boolean;
}

/** Adds the shared training flags to a command. */
export function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option('--epochs <n>', 'epochs', '30')
    .option('--batch-size <n>', 'global batch size (split across workers)', '64')
    .option('--optimizer <name>', 'sgd, adam, adamw', 'sgd')
    .option('--lr <x>', 'base learning rate', '0.05')
    .option('--momentum <x>', 'SGD momentum', '0.9')
    .option('--nesterov', 'Nesterov momentum')
    .option('--weight-decay <x>', 'weight decay (coupled, as PyTorch SGD/Adam)', '5e-4')
    .option('--schedule <name>', 'lr schedule: cosine, step, exponential, constant', 'cosine')
    .option('--warmup <epochs>', 'linear warm-up epochs', '0')
    .option('--step-size <epochs>', 'StepLR step size')
    .option('--gamma <x>', 'StepLR/ExponentialLR factor')
    .option('--workers <n>', 'data-parallel worker threads (default: one per core)')
    .option('--seed <n>', 'seed for weights, order and augmentation', '0')
    .option('--time-budget <s>', 'stop with a checkpoint after this many seconds')
    .option('--max-steps <n>', 'at most this many steps per epoch')
    .option('--iterations <n>', 'train for n optimizer steps in total instead of --epochs')
    .option('--init <model>', 'start from these weights (a model folder of the same architecture, DIR#N for member N of an ensemble such as models/fer2013-cnn#1, or a checkpoint): fine-tuning; a clip model also takes an image model on its frame trunk (encoder and frame head); in cv, {fold} stands for the fold number')
    .option('--clip-grad-norm <x>', 'clip the gradient to this global L2 norm (as PyTorch clip_grad_norm_)')
    .option('--backbone <name>', "backbone (default: the method's)")
    .option('--pretrained', "start the backbone from its pretrained weights, shipped in @vladmandic/face-api (face-resnet: dlib's face recognition; face-expression: face-api.js's expression net, classifier included)")
    .option('--freeze <parts>', 'backbone parts to freeze, comma-separated (stem, stage1, ...): no gradient, BatchNorm statistics kept')
    .option('--bn <mode>', "backbone BatchNorm statistics: train (batch statistics) or frozen (running statistics, not updated)", 'train')
    .option('--cache-frozen', 'compute the frozen leading parts (--freeze) once per face and train the rest on their cached features (mirroring is the only augmentation left)')
    .option('--backbone-lr-scale <x>', "the backbone's learning rate is --lr times this (the head keeps --lr)", '1')
    .option('--width <x>', 'backbone width multiplier')
    .option('--backbone-options <json>', 'backbone options (JSON), e.g. {"stages":4} to cut face-resnet after its 4th stage')
    .option('--size <px>', 'input side in pixels')
    .option('--channels <n>', '1 (grey) or 3 (RGB)')
    .option('--greyscale', 'an RGB model that sees grey faces (colour inputs turned grey at training and inference); default: on when the training images are grey')
    .option('--no-greyscale', 'an RGB model sees colour faces as they are')
    .option('--frames <n>', 'frames per clip (clip methods)')
    .option('--sampling <UxV>', 'clip sampling: u16v1 (IAL), u8v2 (NR-DFERNet) or <U>x<V>; sets --frames to U*V')
    .option('--augment <preset>', "training augmentation preset (default: the method's; none to disable)")
    .option('--tta', 'evaluate with horizontal-flip test-time augmentation')
    .option('--select-by <metric>', 'keep the epoch with the best val war or uar', 'war')
    .option('--method-options <json>', 'method options that shape the model (JSON)')
    .option('--objective <json>', 'objective options (JSON), e.g. {"labelSmoothing":0.1} or {"ialLambda":0.1}')
    .option('--skip-bad', 'skip unreadable samples (and report them) instead of stopping');
}

export function numberFlag(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new Error(`--${name}: "${v}" is not a number`);
  return x;
}

function jsonFlag(v: string | undefined, name: string): Record<string, unknown> {
  if (!v) return {};
  try {
    return JSON.parse(v) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`--${name}: invalid JSON (${(e as Error).message})`);
  }
}

/** The model input: the method's, with --size, --channels, --frames and --sampling applied. */
export async function inputFrom(flags: TrainingFlags, d: MethodDefaults): Promise<InputSpec> {
  let frames = numberFlag(flags.frames, 'frames');
  let framesPerSegment: number | undefined;
  if (flags.sampling) {
    if (d.input.kind !== 'clip') throw new Error(`--sampling: method ${flags.method} takes images, not clips`);
    const { parseClipSampling } = await import('../data/clip-sampling.js');
    const s = parseClipSampling(flags.sampling);
    const n = s.segments * s.framesPerSegment;
    if (frames !== undefined && frames !== n) throw new Error(`--sampling ${flags.sampling} gives ${n} frames, but --frames is ${flags.frames}`);
    frames = n;
    framesPerSegment = s.framesPerSegment;
  }
  const { configInput } = await import('../models/config.js');
  const channels = numberFlag(flags.channels, 'channels') as 1 | 3 | undefined;
  return configInput(d, flags.backbone ?? d.backbone, { size: numberFlag(flags.size, 'size'), channels, frames, framesPerSegment });
}

/** Whether an RGB model should see grey faces: --greyscale / --no-greyscale, else whether the
 *  training images (or clips' first frames) are grey (16 of them, spread over the set, decoded as
 *  they are). */
async function greyscaleFor(flags: TrainingFlags, input: InputSpec, samples: readonly (ImageSample | ClipSample)[]): Promise<boolean> {
  if (input.channels !== 3 || flags.greyscale === false) return false;
  if (flags.greyscale === true) return true;
  // A clip's first frame stands for it (video clips are not decoded here: colour is assumed).
  const images = samples.flatMap((s) => ('image' in s ? [s.image] : Array.isArray(s.frames) && s.frames.length ? [s.frames[0]!] : []));
  if (images.length === 0) return false;
  const { decodeImage } = await import('../data/image.js');
  const step = Math.max(1, Math.floor(images.length / 16));
  for (let i = 0; i < images.length; i += step) {
    const r = await decodeImage(images[i]!, { channels: 'keep' });
    if (r.channels === 1) continue;
    for (let p = 0; p < r.data.length; p += 3) if (r.data[p] !== r.data[p + 1] || r.data[p] !== r.data[p + 2]) return false;
  }
  return true;
}

/** The model config for `classes` from the flags, the method's defaults and the training samples
 *  (whether they are grey). */
export async function modelConfigFrom(
  flags: TrainingFlags,
  methodName: string,
  d: MethodDefaults,
  classes: string[],
  info: Record<string, unknown>,
  samples: readonly (ImageSample | ClipSample)[] = [],
): Promise<ModelConfig> {
  const backbone = flags.backbone ?? d.backbone;
  const fineTune = fineTuneFrom(flags);
  let pretrained: string | undefined;
  if (fineTune.pretrained) {
    const { backbones } = await import('../models/backbones/registry.js');
    pretrained = backbones.get(backbone).pretrained;
    if (!pretrained) throw new Error(`--pretrained: backbone ${backbone} has no pretrained weights; ${backbones.list().filter((b) => b.pretrained).map((b) => b.name).join(', ')} has`);
  }
  const input = await inputFrom(flags, d);
  if (await greyscaleFor(flags, input, samples)) input.greyscale = true;
  const { createConfig } = await import('../models/config.js');
  return createConfig(methodName, {
    defaults: d,
    classes,
    backbone,
    backboneOptions: { ...(flags.width ? { widthMultiplier: Number(flags.width) } : {}), ...jsonFlag(flags.backboneOptions, 'backbone-options') },
    methodOptions: jsonFlag(flags.methodOptions, 'method-options'),
    input,
    info: { ...info, ...(pretrained ? { pretrained, fineTune } : {}) },
  });
}

export type TrainerSettings = Omit<TrainerOptions, 'config' | 'train' | 'val' | 'outDir' | 'resume' | 'log' | 'onProgress'>;

/** Optimiser, schedule, budget and the rest of the trainer's options from the flags. */
export function trainerSettingsFrom(flags: TrainingFlags, d: MethodDefaults, defaultWorkers: number): TrainerSettings {
  return {
    objective: jsonFlag(flags.objective, 'objective'),
    epochs: Number(flags.epochs),
    batchSize: Number(flags.batchSize),
    optimizer: { name: flags.optimizer, lr: Number(flags.lr), momentum: Number(flags.momentum), nesterov: Boolean(flags.nesterov), weightDecay: Number(flags.weightDecay) },
    schedule: { name: flags.schedule, warmupEpochs: Number(flags.warmup), stepSize: numberFlag(flags.stepSize, 'step-size'), gamma: numberFlag(flags.gamma, 'gamma') },
    workers: numberFlag(flags.workers, 'workers') ?? defaultWorkers,
    seed: Number(flags.seed),
    trainAugment: flags.augment ?? d.trainAugment,
    tta: flags.tta,
    selectBy: flags.selectBy,
    timeBudgetSec: numberFlag(flags.timeBudget, 'time-budget'),
    maxStepsPerEpoch: numberFlag(flags.maxSteps, 'max-steps'),
    clipGradNorm: numberFlag(flags.clipGradNorm, 'clip-grad-norm'),
    iterations: numberFlag(flags.iterations, 'iterations'),
    init: flags.init,
    finetune: fineTuneFrom(flags),
    cacheFrozen: Boolean(flags.cacheFrozen),
  };
}

/** --pretrained, --freeze, --bn and --backbone-lr-scale. */
function fineTuneFrom(flags: TrainingFlags): FineTuneOptions {
  const bn = flags.bn ?? 'train';
  if (bn !== 'train' && bn !== 'frozen') throw new Error(`--bn: "${bn}" is not train or frozen`);
  const freeze = (flags.freeze ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return { pretrained: Boolean(flags.pretrained), freeze, bn, backboneLrScale: numberFlag(flags.backboneLrScale, 'backbone-lr-scale') ?? 1 };
}

/** A progress bar on a TTY (none when quiet or piped). */
export function progressBar(quiet: boolean, label: string): SingleBar | undefined {
  return quiet || !process.stderr.isTTY ? undefined : new SingleBar({ format: `${label} {bar} {value}/{total} {extra}`, hideCursor: true }, Presets.shades_classic);
}

/** The trainer's log and onProgress hooks: an epoch bar that log lines close. */
export function trainerReporting(quiet: boolean, say: (s: string) => void, prefix = ''): Pick<TrainerOptions, 'log' | 'onProgress'> & { stop(): void } {
  let epochBar: SingleBar | undefined;
  let lastLine = Date.now();
  const stop = () => {
    epochBar?.stop();
    epochBar = undefined;
  };
  return {
    stop,
    log: (line) => {
      stop();
      say(prefix + line);
    },
    onProgress: (p) => {
      if (quiet) return;
      const extra = () => `loss ${p.loss.toFixed(4)}${p.accuracy !== undefined ? ` acc ${(p.accuracy * 100).toFixed(1)}%` : ''} ${p.imgPerSec.toFixed(1)} img/s${p.relabeled !== undefined ? `, ${p.relabeled} relabeled` : ''}`;
      // A log file (no terminal) gets a progress line a minute instead of a bar.
      if (!process.stderr.isTTY) {
        if (Date.now() - lastLine >= 60_000) {
          lastLine = Date.now();
          say(`${prefix}epoch ${p.epoch + 1}: step ${p.step}/${p.steps}, ${extra()}`);
        }
        return;
      }
      if (!epochBar) {
        epochBar = progressBar(quiet, `${prefix}epoch ${p.epoch + 1}`);
        epochBar?.start(p.steps, 0, { extra: '' });
      }
      // `relabeled` is only reported by methods that relabel (SCN).
      epochBar?.update(p.step, { extra: extra() });
    },
  };
}
