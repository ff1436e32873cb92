// The benchmark's ResNet-18 as a data-parallel replica: SGD momentum 0.9 with PyTorch's coupled
// weight decay, cross-entropy on 7 classes.
import { tf } from '../src/engine/backend.js';
import type { Replica } from '../src/train/replica-worker.js';
import { BenchResNet18 } from './resnet18.js';

export function createReplica(options: { weightDecay?: number }): Replica {
  const model = new BenchResNet18(7);
  const wd = options.weightDecay ?? 1e-4;
  const momentum = model.variables.map((v) => tf.variable(tf.zerosLike(v), false));
  return {
    variables: model.variables,
    loss: (x, y) => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 7), model.forwardTrain(x as tf.Tensor4D)) as tf.Scalar,
    apply: (grads, lr) =>
      tf.tidy(() => {
        model.variables.forEach((v, i) => {
          const g = tf.add(grads[i], tf.mul(v, wd));
          momentum[i].assign(tf.add(tf.mul(momentum[i], 0.9), g));
          v.assign(tf.sub(v, tf.mul(momentum[i], lr)));
        });
      }),
  };
}
