// Typed reads of a method's free-form options (config.methodOptions, `--objective` JSON), so a
// wrong type or value fails with the option's name instead of training with NaN.
export type Options = Record<string, unknown>;

export function numberOption(o: Options, key: string, fallback: number, check?: (v: number) => boolean, rule = 'a number'): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || (check && !check(v))) {
    throw new Error(`option ${key} must be ${rule}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function choiceOption<T extends string>(o: Options, key: string, fallback: T, choices: readonly T[]): T {
  const v = o[key] ?? fallback;
  if (typeof v !== 'string' || !choices.includes(v as T)) {
    throw new Error(`option ${key} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

export function numberListOption(o: Options, key: string, fallback: number[] | undefined): number[] | undefined {
  const v = o[key] ?? fallback;
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new Error(`option ${key} must be a list of numbers, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

/** Objective options over the model's methodOptions: `--objective` wins, the config fills in. */
export function mergedOptions(methodOptions: Options | undefined, objective: Options): Options {
  return { ...(methodOptions ?? {}), ...objective };
}

export function booleanOption(o: Options, key: string, fallback: boolean): boolean {
  const v = o[key] ?? fallback;
  if (typeof v !== 'boolean') throw new Error(`option ${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}
