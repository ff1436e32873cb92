// The GCA rescaling factor (spec §1.5 steps 3–5): w = 2·sigmoid(·) per frame and channel, its mean
// over the clip's frames m, and S_t = sqrt(w_t·m + 1e-5) ∈ (0.00316, 2.0000025].
import { tf } from '../../engine/backend.js';

/** `s`: sigmoid outputs laid out [clips, frames, channels]; returns S with the same shape. */
export function gcaScale(s: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const w = tf.mul(s, 2);
    const m = tf.mean(w, 1, true);
    return tf.sqrt(tf.add(tf.mul(w, m), 1e-5)) as tf.Tensor3D;
  });
}
