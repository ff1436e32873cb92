// Backbones by name (`--backbone resnet18`).
import { Registry } from '../../registry.js';
import type { InputSpec } from '../model.js';
import type { Backbone, BackboneOptions } from './backbone.js';
import { FACE_EXPRESSION_INPUT, faceExpression } from './face-expression.js';
import { FACE_RESNET_INPUT, faceResnet } from './face-resnet.js';
import { ferCnn } from './fer-cnn.js';
import { resnet18, resnet34, resnet50 } from './resnet.js';

export type BackboneFactory = (options?: BackboneOptions) => Backbone;

export interface BackboneInfo {
  /** What the backbone expects of its input, over the method's defaults (a pretrained trunk's
   *  channels and normalisation). */
  input?: Partial<Pick<InputSpec, 'channels' | 'mean' | 'std' | 'size'>>;
  /** Where `--pretrained` weights come from (provenance for config.info); absent: none. */
  pretrained?: string;
}

export const backbones = new Registry<BackboneFactory, BackboneInfo>('backbone');

backbones
  .register({ name: 'resnet18', description: 'ResNet-18, torchvision layout (512-d features)', create: resnet18, aliases: ['resnet-18'] })
  .register({ name: 'resnet34', description: 'ResNet-34, torchvision layout (512-d features)', create: resnet34, aliases: ['resnet-34'] })
  .register({ name: 'fer-cnn', description: 'compact VGG-style CNN for 48x48 grey faces (256-d features at width 1)', create: ferCnn })
  .register({
    name: 'face-resnet',
    description: "dlib's face-recognition ResNet (29 convs, RGB, face-pretrained weights from @vladmandic/face-api with --pretrained; 256-d features)",
    create: faceResnet,
    input: { channels: 3, size: [112, 112], ...FACE_RESNET_INPUT },
    pretrained: "dlib_face_recognition_resnet_model_v1 (Davis King, public domain), as shipped in @vladmandic/face-api's model/face_recognition_model.bin",
  })
  .register({
    name: 'face-expression',
    description: "face-api.js's expression net (4 dense blocks of depthwise-separable convs, RGB; expression-pretrained weights and classifier from @vladmandic/face-api with --pretrained; 256-d features)",
    create: faceExpression,
    input: { channels: 3, size: [112, 112], ...FACE_EXPRESSION_INPUT },
    pretrained: "face-api.js's face_expression_model (Vincent Mühler, MIT), as shipped in @vladmandic/face-api's model/face_expression_model.bin",
  })
  .register({ name: 'resnet50', description: 'ResNet-50 (bottleneck, v1.5), torchvision layout (2048-d features)', create: resnet50, aliases: ['resnet-50'] });

export type { Backbone, BackboneOptions } from './backbone.js';
