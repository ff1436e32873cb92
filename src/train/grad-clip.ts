// Gradient clipping by global L2 norm, as PyTorch's clip_grad_norm_: when the norm of all
// gradients together exceeds `maxNorm`, scale them by maxNorm / (norm + 1e-6). Applied to the flat,
// already averaged gradient, so every replica takes the same clipped step.

/** Scales `flat` in place when its L2 norm exceeds `maxNorm`; returns the norm before clipping. */
export function clipByGlobalNorm(flat: Float32Array, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`gradient clipping needs a positive max norm, got ${maxNorm}`);
  let sq = 0;
  for (let i = 0; i < flat.length; i++) sq += flat[i] * flat[i];
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (let i = 0; i < flat.length; i++) flat[i] *= coef;
  return norm;
}
