// Resumable training checkpoints in one safetensors file: the model's state dict under its own
// names (so the file also loads as plain weights, in PyTorch too), the optimizer's tensors under
// `optimizer.state.<i>.<slot>` (several named optimizers, as pattern-map's three training steps
// have: `optimizers.<name>.state.<i>.<slot>`), and the optimizer/RNG/progress as JSON
// metadata.
import { tf } from '../engine/backend.js';
import { loadSafetensors, saveSafetensors, type Metadata } from '../nn/checkpoint.js';
import type { Module } from '../nn/module.js';
import type { Rng } from '../util/rng.js';
import type { Optimizer, OptimizerState } from './optim.js';

const OPT = 'optimizer.';
const OPTS = 'optimizers.';

export interface TrainingState {
  model: Module;
  optimizer?: Optimizer;
  /** Further optimizers by name (a name may not contain '.'). */
  optimizers?: Record<string, Optimizer>;
  rng?: Rng;
}

export interface Progress {
  epoch?: number;
  step?: number;
  [key: string]: unknown;
}

export async function saveTrainingCheckpoint(path: string, state: TrainingState, progress: Progress = {}, metadata: Metadata = {}): Promise<void> {
  const tensors: Record<string, tf.Tensor> = { ...state.model.stateDict() };
  const clash = Object.keys(tensors).find((k) => k.startsWith(OPT) || k.startsWith(OPTS));
  if (clash) throw new Error(`saveTrainingCheckpoint: model tensor "${clash}" collides with the optimizer prefix`);
  const opt = state.optimizer?.stateDict();
  const named = Object.entries(state.optimizers ?? {}).map(([name, o]) => {
    if (!name || name.includes('.')) throw new Error(`saveTrainingCheckpoint: optimizer name "${name}" must be non-empty without '.'`);
    return [name, o.stateDict()] as const;
  });
  const owned = [opt, ...named.map(([, d]) => d)].flatMap((d) => Object.values(d?.tensors ?? {}));
  try {
    for (const [k, v] of Object.entries(opt?.tensors ?? {})) tensors[OPT + k] = v;
    for (const [name, d] of named) for (const [k, v] of Object.entries(d.tensors)) tensors[`${OPTS}${name}.${k}`] = v;
    await saveSafetensors(path, tensors, {
      ...metadata,
      format: 'ferkit-training',
      progress: JSON.stringify(progress),
      ...(opt ? { optimizer: JSON.stringify(opt.meta) } : {}),
      ...(named.length ? { optimizers: JSON.stringify(Object.fromEntries(named.map(([name, d]) => [name, d.meta]))) } : {}),
      ...(state.rng ? { rng: JSON.stringify(state.rng.getState()) } : {}),
    });
  } finally {
    tf.dispose(owned);
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
    const named: Record<string, Record<string, tf.Tensor>> = {};
    for (const [k, v] of Object.entries(tensors)) {
      if (k.startsWith(OPT)) opt[k.slice(OPT.length)] = v;
      else if (k.startsWith(OPTS)) {
        const [name, ...rest] = k.slice(OPTS.length).split('.');
        (named[name] ??= {})[rest.join('.')] = v;
      } else model[k] = v;
    }
    state.model.loadStateDict(model, { source: path });
    for (const [key, present] of [
      ['optimizer', state.optimizer],
      ['optimizers', state.optimizers],
      ['rng', state.rng],
    ] as const) {
      if (present && !(key in metadata)) throw new Error(`${path}: has no ${key} state to resume from`);
    }
    if (state.optimizer) state.optimizer.loadStateDict({ tensors: opt, meta: parse('optimizer') as OptimizerState['meta'] }, path);
    if (state.optimizers) {
      const metas = parse('optimizers') as Record<string, OptimizerState['meta']>;
      const want = Object.keys(state.optimizers).sort().join(', ');
      const have = Object.keys(metas).sort().join(', ');
      if (want !== have) throw new Error(`${path}: holds optimizers ${have || '(none)'}, this run has ${want}`);
      for (const [name, o] of Object.entries(state.optimizers)) o.loadStateDict({ tensors: named[name] ?? {}, meta: metas[name] }, `${path} (optimizer ${name})`);
    }
    if (state.rng) state.rng.setState(parse('rng') as ReturnType<Rng['getState']>);
    return { progress: metadata.progress ? (parse('progress') as Progress) : {}, metadata };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
