// Backbones by name (`--backbone resnet18`).
import { Registry } from '../../registry.js';
import type { Backbone, BackboneOptions } from './backbone.js';
import { ferCnn } from './fer-cnn.js';
import { resnet18, resnet34, resnet50 } from './resnet.js';

export type BackboneFactory = (options?: BackboneOptions) => Backbone;

export const backbones = new Registry<BackboneFactory>('backbone');

backbones
  .register({ name: 'resnet18', description: 'ResNet-18, torchvision layout (512-d features)', create: resnet18, aliases: ['resnet-18'] })
  .register({ name: 'resnet34', description: 'ResNet-34, torchvision layout (512-d features)', create: resnet34, aliases: ['resnet-34'] })
  .register({ name: 'fer-cnn', description: 'compact VGG-style CNN for 48x48 grey faces (256-d features at width 1)', create: ferCnn })
  .register({ name: 'resnet50', description: 'ResNet-50 (bottleneck, v1.5), torchvision layout (2048-d features)', create: resnet50, aliases: ['resnet-50'] });

export type { Backbone, BackboneOptions } from './backbone.js';
