// Converting weights between our TF layouts and PyTorch's, so torchvision/PyTorch state dicts
// load into our modules and ours load into PyTorch: conv [kh,kw,in,out] ↔ [out,in,kh,kw],
// depthwise [kh,kw,C,m] ↔ [C·m,1,kh,kw], linear [in,out] ↔ [out,in].
import { tf } from '../engine/backend.js';
import type { LoadStateDictOptions, LoadStateDictResult, Module, TorchLayout } from './module.js';

/** A new tensor in PyTorch's layout (the caller disposes it). */
export function toTorchLayout(t: tf.Tensor, layout: TorchLayout | undefined): tf.Tensor {
  return tf.tidy(() => {
    switch (layout) {
      case 'conv2d':
        return tf.transpose(t, [3, 2, 0, 1]);
      case 'depthwise': {
        const [kh, kw, c, m] = t.shape;
        return tf.reshape(tf.transpose(t, [2, 3, 0, 1]), [c * m, 1, kh, kw]);
      }
      case 'linear':
        return tf.transpose(t);
      default:
        return tf.clone(t);
    }
  });
}

/** A new tensor in our layout from PyTorch's; `shape` is our parameter's shape (for depthwise). */
export function fromTorchLayout(t: tf.Tensor, layout: TorchLayout | undefined, shape: number[]): tf.Tensor {
  return tf.tidy(() => {
    switch (layout) {
      case 'conv2d':
        return tf.transpose(t, [2, 3, 1, 0]);
      case 'depthwise': {
        const [kh, kw, c, m] = shape;
        if (t.size !== kh * kw * c * m) return tf.clone(t); // wrong size: loadStateDict reports it
        return tf.transpose(tf.reshape(t, [c, m, kh, kw]), [2, 3, 0, 1]);
      }
      case 'linear':
        return t.rank === 2 ? tf.transpose(t) : tf.clone(t);
      default:
        return tf.clone(t);
    }
  });
}

/** The module's state dict in PyTorch layouts: new tensors, which the caller disposes. */
export function torchStateDict(module: Module): Record<string, tf.Tensor> {
  const layouts = module.torchLayouts();
  return Object.fromEntries(Object.entries(module.stateDict()).map(([k, v]) => [k, toTorchLayout(v, layouts[k])]));
}

/** Loads a PyTorch-layout state dict (e.g. torchvision weights) into `module`. */
export function loadTorchStateDict(module: Module, dict: Record<string, tf.Tensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
  const layouts = module.torchLayouts();
  const own = module.stateDict();
  const converted: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(dict)) {
    converted[k] = k in own && v.rank === (layouts[k] === 'linear' ? 2 : v.rank) ? fromTorchLayout(v, layouts[k], own[k].shape) : tf.clone(v);
  }
  try {
    return module.loadStateDict(converted, options);
  } finally {
    tf.dispose(Object.values(converted));
  }
}
