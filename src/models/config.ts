// ModelConfigs from a method's defaults and a few choices: what `ferkit train`, tests, benches and
// scripts build models from (instead of spelling out every field).
import { backbones } from './backbones/registry.js';
import type { MethodDefaults } from './methods.js';
import { methods } from './all-methods.js';
import type { InputSpec, ModelConfig } from './model.js';

export interface ConfigChoices {
  classes: string[];
  /** Square side or [height, width]. */
  size?: number | [number, number];
  /** 1 or 3; mean and std repeat the method's first channel's (a backbone's own input wins). */
  channels?: 1 | 3;
  /** Frames per clip (clip methods), and V of the U×V sampling. */
  frames?: number;
  framesPerSegment?: number;
  /** Default: the method's. */
  backbone?: string;
  /** Over the method's backbone options when the backbone is the method's default one. */
  backboneOptions?: Record<string, unknown>;
  /** Over the method's options. */
  methodOptions?: Record<string, unknown>;
  /** Input fields set last (normalisation, greyscale ...). */
  input?: Partial<InputSpec>;
  /** Defaults to start from instead of the method's own (a preset such as IAL_SMALL). */
  defaults?: MethodDefaults;
  info?: Record<string, unknown>;
}

/** The input of `backbone` under the method defaults `d`: the method's, then the backbone's own
 *  (a pretrained trunk's channels and normalisation), then the choices. */
export function configInput(d: MethodDefaults, backbone: string, o: Omit<ConfigChoices, 'classes'> = {}): InputSpec {
  // Image or clip method alike: a clip model's frame encoder can be a registered backbone (ial on face-resnet).
  const own = backbones.has(backbone) ? backbones.get(backbone).input : undefined;
  if (own?.channels && o.channels !== undefined && o.channels !== own.channels) throw new Error(`input channels ${o.channels}: backbone ${backbone} takes ${own.channels} channels`);
  const size = typeof o.size === 'number' ? ([o.size, o.size] as [number, number]) : o.size;
  return {
    ...d.input,
    ...(own ?? {}),
    ...(size ? { size } : {}),
    ...(o.channels && !own?.channels ? { channels: o.channels, mean: new Array(o.channels).fill(d.input.mean[0]), std: new Array(o.channels).fill(d.input.std[0]) } : {}),
    ...(o.frames ? { frames: o.frames } : {}),
    ...(o.framesPerSegment ? { framesPerSegment: o.framesPerSegment } : {}),
    ...(o.input ?? {}),
  };
}

/** A config for `method` from its defaults (or `o.defaults`) and the choices in `o`. */
export function createConfig(method: string, o: ConfigChoices): ModelConfig {
  const entry = methods.get(method);
  const d = o.defaults ?? entry.create.defaults;
  const backbone = o.backbone ?? d.backbone;
  return {
    format: 'ferkit-model',
    version: 1,
    method: entry.name,
    backbone,
    // The method's backbone options belong to its default backbone.
    backboneOptions: { ...(backbone === d.backbone ? (d.backboneOptions ?? {}) : {}), ...(o.backboneOptions ?? {}) },
    methodOptions: { ...(d.methodOptions ?? {}), ...(o.methodOptions ?? {}) },
    input: configInput(d, backbone, o),
    classes: o.classes,
    ...(o.info ? { info: o.info } : {}),
  };
}
