// The benchmark's ResNet-18 (src/models/backbones, torchvision layout) as a data-parallel
// replica: SGD momentum 0.9 with PyTorch's coupled weight decay, cross-entropy on 7 classes.
// Every replica builds the same weights from the same seed.
import { tf } from '../src/engine/backend.js';
import { resnet18 } from '../src/models/backbones/resnet.js';
import { Rng } from '../src/util/rng.js';
import { SGD } from '../src/train/optim.js';
import type { Replica } from '../src/train/replica-host.js';

export function createReplica(options: { weightDecay?: number; seed?: number }): Replica {
  const model = resnet18({ numClasses: 7, rng: new Rng(options.seed ?? 1) }).train();
  const variables = model.trainableParameters();
  const optimizer = new SGD(variables, { lr: 0.01, momentum: 0.9, weightDecay: options.weightDecay ?? 1e-4 });
  return {
    variables,
    loss: (x, y) => tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 7), model.forward(x)) as tf.Scalar),
    apply: (grads, lr) => {
      optimizer.setLr(lr);
      optimizer.step(Object.fromEntries(variables.map((v, i) => [v.name, grads[i]])));
    },
  };
}
