// Registers every method with the methods registry. Import this (not the method folders) to get
// the full set; each method adds one line here.
import { methods } from './methods.js';
import { ceMethod } from './ce/model.js';
import { scnMethod } from './scn/method.js';
import { arbexMethod } from './arbex/method.js';

methods.register({ name: 'ce', description: 'backbone + linear classifier, cross-entropy (optionally label-smoothed)', create: ceMethod, aliases: ['baseline'] });
methods.register({ name: 'scn', description: 'Self-Cure Network: importance weights, rank regularisation, relabeling', create: scnMethod });
methods.register({ name: 'arbex', description: 'ARBEx reliability balancing: MLP head, class anchors, attentive correction, confidences', create: arbexMethod });

export { methods };
