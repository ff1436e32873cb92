// The IAL network's shape from a model config, read with typed checks so a wrong option fails by
// name. backboneOptions: widthMultiplier, layers (also accepted in methodOptions). methodOptions:
// variant, attention and where it sits, transformer sizes, the snippet filter, a frame head. Defaults are the
// reference's (spec §1.4-1.8).
import { booleanOption, choiceOption, numberListOption, numberOption, type Options } from '../method-options.js';
import type { ModelConfig } from '../model.js';
import { attentions } from './attention.js';

/** The `backbone` name of IAL configs with the method's own trunk (not in the backbones registry). */
export const IAL_BACKBONE = 'ial-resnet';

const IAL_VARIANTS = ['ial', 'nr-dfernet'] as const;
type IalVariant = (typeof IAL_VARIANTS)[number];

interface TransformerSize {
  depth: number;
  heads: number;
  dimHead: number;
  mlpDim: number;
}

export interface IalNetworkOptions {
  /** The frame encoder: IAL's own residual trunk (`ial-resnet`) or a registered backbone with
   *  named parts (face-resnet), whose options are the config's backboneOptions. */
  backbone: string;
  backboneOptions: Record<string, unknown>;
  frames: number;
  size: [number, number];
  inChannels: number;
  numClasses: number;
  /** Channels of the stem/layer1, layer2, layer3 (= DSF); reference 64, 128, 256. */
  widths: [number, number, number];
  /** Blocks in layer1, layer2, layer3 and the dynamic path (layer4); reference [1, 1, 1, 3]. A
   *  backbone encoder has its own stages: only the dynamic path's count applies. */
  layers: [number, number, number, number];
  attention: string;
  /** Stages whose blocks (own trunk, 1-3) or outputs (a backbone's stages) carry the attention
   *  block and an aux head; absent: the encoder's last two stages (reference [2, 3]). */
  attentionStages?: number[];
  reduction: number;
  aux: boolean;
  spatial: TransformerSize;
  temporal: TransformerSize;
  /** 'ial': temporal mean of the frame tokens; 'nr-dfernet': mean class token (+ snippet filter). */
  variant: IalVariant;
  /** nr-dfernet at test time: suppress neutral when a snippet is confidently non-neutral. */
  snippetFilter: boolean;
  snippetSize: number;
  snippetStride: number;
  /** A per-frame classifier (`fc`) on the encoder's pooled last map, its logits averaged over the
   *  clip and added to the temporal classifier's (zero at the start, GCA blocks at identity): the
   *  trunk's pretrained classifier (--pretrained, or an image model's by --init) carries the clip
   *  from step one, and DSF and the transformer learn what frames add. Not in the paper; off by
   *  default. */
  frameHead: boolean;
}

const positiveInt = (v: number) => Number.isInteger(v) && v >= 1;

function transformerSize(o: Options, prefix: string, fallback: TransformerSize): TransformerSize {
  const read = (k: keyof TransformerSize, key: string) => numberOption(o, `${prefix}${key}`, fallback[k], positiveInt, 'a positive integer');
  return { depth: read('depth', 'Depth'), heads: read('heads', 'Heads'), dimHead: read('dimHead', 'DimHead'), mlpDim: read('mlpDim', 'Mlp') };
}

export function ialNetworkOptions(config: ModelConfig): IalNetworkOptions {
  const b = config.backboneOptions ?? {};
  const m = config.methodOptions ?? {};
  const frames = config.input.frames ?? 0;
  if (config.input.kind !== 'clip' || !(Number.isInteger(frames) && frames >= 2)) {
    throw new Error(`ial: the model takes clips of at least 2 frames (frame differences feed the dynamic path); config.input has kind ${config.input.kind}, frames ${frames}`);
  }
  const width = numberOption(b, 'widthMultiplier', 1, (v) => v > 0, 'a positive number');
  const w = (c: number) => Math.max(1, Math.round(c * width));
  // layers may also come in methodOptions: `ferkit train` sets those from --method-options.
  const layers = numberListOption(m, 'layers', numberListOption(b, 'layers', [1, 1, 1, 3]))!;
  if (layers.length !== 4 || !layers.every(positiveInt)) throw new Error(`option layers must be four positive integers (layer1-3 and the dynamic path), got ${JSON.stringify(layers)}`);
  const attention = String(m.attention ?? 'gca');
  if (!attentions.has(attention)) throw new Error(`option attention must be one of ${attentions.names().join(', ')}, got ${JSON.stringify(attention)}`);
  const own = config.backbone === IAL_BACKBONE;
  // A backbone's stage count is known once it is built: its stages are checked there.
  const attentionStages = numberListOption(m, 'attentionStages', own ? [2, 3] : undefined);
  if (own && !attentionStages!.every((s) => [1, 2, 3].includes(s))) throw new Error(`option attentionStages lists stages 1-3, got ${JSON.stringify(attentionStages)}`);
  const widths: [number, number, number] = [w(64), w(128), w(256)];
  return {
    backbone: config.backbone,
    backboneOptions: b,
    frames,
    size: config.input.size,
    inChannels: config.input.channels,
    numClasses: config.classes.length,
    widths,
    layers: layers as [number, number, number, number],
    attention,
    attentionStages,
    reduction: numberOption(m, 'reduction', 16, positiveInt, 'a positive integer'),
    aux: booleanOption(m, 'aux', true),
    spatial: transformerSize(m, 'spatial', { depth: 2, heads: 4, dimHead: 32, mlpDim: widths[2] }),
    temporal: transformerSize(m, 'temporal', { depth: 2, heads: 4, dimHead: 32, mlpDim: 512 }),
    variant: choiceOption(m, 'variant', 'ial', IAL_VARIANTS),
    snippetFilter: booleanOption(m, 'snippetFilter', true),
    snippetSize: numberOption(m, 'snippetSize', 3, positiveInt, 'a positive integer'),
    snippetStride: numberOption(m, 'snippetStride', 2, positiveInt, 'a positive integer'),
    frameHead: booleanOption(m, 'frameHead', false),
  };
}
