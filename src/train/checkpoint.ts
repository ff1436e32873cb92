// Resumable training checkpoints in one safetensors file: the model's state dict under its own
// names (so the file also loads as plain weights, in PyTorch too), the optimizer's tensors under
// `optimizer.state.<i>.<slot>`, and the optimizer/scheduler/RNG/progress as JSON metadata.
import { tf } from '../engine/backend.js';
import { loadSafetensors, saveSafetensors, type Metadata } from '../nn/checkpoint.js';
import type { Module } from '../nn/module.js';
import type { Random } from '../nn/random.js';
import type { Optimizer, OptimizerState } from './optim.js';
import type { LrScheduler } from './schedule.js';

const OPT = 'optimizer.';

export interface TrainingState {
  model: Module;
  optimizer?: Optimizer;
  scheduler?: LrScheduler;
  rng?: Random;
}

export interface Progress {
  epoch?: number;
  step?: number;
  [key: string]: unknown;
}

export async function saveTrainingCheckpoint(path: string, state: TrainingState, progress: Progress = {}, metadata: Metadata = {}): Promise<void> {
  const tensors: Record<string, tf.Tensor> = { ...state.model.stateDict() };
  const clash = Object.keys(tensors).find((k) => k.startsWith(OPT));
  if (clash) throw new Error(`saveTrainingCheckpoint: model tensor "${clash}" collides with the optimizer prefix`);
  const opt = state.optimizer?.stateDict();
  try {
    for (const [k, v] of Object.entries(opt?.tensors ?? {})) tensors[OPT + k] = v;
    await saveSafetensors(path, tensors, {
      ...metadata,
      format: 'ferkit-training',
      progress: JSON.stringify(progress),
      ...(opt ? { optimizer: JSON.stringify(opt.meta) } : {}),
      ...(state.scheduler ? { scheduler: JSON.stringify(state.scheduler.stateDict()) } : {}),
      ...(state.rng ? { rng: JSON.stringify(state.rng.getState()) } : {}),
    });
  } finally {
    tf.dispose(Object.values(opt?.tensors ?? {}));
  }
}

/** Restores whatever `state` holds from the file; returns the saved progress and metadata. */
export async function loadTrainingCheckpoint(path: string, state: TrainingState): Promise<{ progress: Progress; metadata: Metadata }> {
  const { tensors, metadata } = await loadSafetensors(path);
  try {
    const parse = (key: string): unknown => {
      try {
        return JSON.parse(metadata[key]);
      } catch {
        throw new Error(`${path}: metadata "${key}" is not valid JSON`);
      }
    };
    const model: Record<string, tf.Tensor> = {};
    const opt: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(tensors)) (k.startsWith(OPT) ? opt : model)[k.startsWith(OPT) ? k.slice(OPT.length) : k] = v;
    state.model.loadStateDict(model, { source: path });
    for (const [key, present] of [
      ['optimizer', state.optimizer],
      ['scheduler', state.scheduler],
      ['rng', state.rng],
    ] as const) {
      if (present && !(key in metadata)) throw new Error(`${path}: has no ${key} state to resume from`);
    }
    if (state.optimizer) state.optimizer.loadStateDict({ tensors: opt, meta: parse('optimizer') as OptimizerState['meta'] }, path);
    if (state.scheduler) state.scheduler.loadStateDict(parse('scheduler') as { lastEpoch: number });
    if (state.rng) state.rng.setState(parse('rng') as ReturnType<Random['getState']>);
    return { progress: metadata.progress ? (parse('progress') as Progress) : {}, metadata };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
