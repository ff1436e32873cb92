// Activation functions as plain tensor functions (wrap in Sequential/Lambda to use as layers).
import { tf } from '../engine/backend.js';

export const relu = (x: tf.Tensor): tf.Tensor => tf.relu(x);
export const sigmoid = (x: tf.Tensor): tf.Tensor => tf.sigmoid(x);
export const tanh = (x: tf.Tensor): tf.Tensor => tf.tanh(x);
/** x·σ(x) (PyTorch SiLU / swish). */
export const silu = (x: tf.Tensor): tf.Tensor => tf.mul(x, tf.sigmoid(x));

/** PyTorch's default GELU: x·Φ(x) = ½x(1 + erf(x/√2)). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}

/** GELU(approximate='tanh'): ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}
