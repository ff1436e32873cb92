// Registers every method with the methods registry. Import this (not the method folders) to get
// the full set. A method is one folder (model, objective, onnx.ts, a MethodDef in method.ts) and
// one `methods.register` line here.
import { methods } from './methods.js';
import { ceMethod } from './ce/method.js';
import { scnMethod } from './scn/method.js';
import { arbexMethod } from './arbex/method.js';
import { patternMapMethod } from './patternmap/method.js';
import { ialMethod } from './ial/method.js';
import { ensembleMethod } from './ensemble/method.js';

methods.register({ name: 'ce', description: 'backbone + linear classifier, cross-entropy (optionally label-smoothed)', create: ceMethod, aliases: ['baseline'] });
methods.register({ name: 'scn', description: 'Self-Cure Network: importance weights, rank regularisation, relabeling', create: scnMethod });
methods.register({ name: 'arbex', description: 'ARBEx reliability balancing: MLP head, class anchors, attentive correction, confidences', create: arbexMethod });
methods.register({ name: 'ial', description: 'IAL + GCA clip model: GCA residual stages, dynamic-static fusion, temporal transformer; CE + λ·IAL + aux CE', create: ialMethod });
methods.register({ name: 'patternmap', description: 'expression pattern-map: EFE mask net, EMR RNN mask refiner, EPMG encoder-decoder (three-step training)', create: patternMapMethod, aliases: ['pattern-map'] });
methods.register({ name: 'ensemble', description: 'trained image classifiers averaged (optionally with flip TTA built in); built by `ferkit ensemble`, not trained', create: ensembleMethod });

export { methods };
