// Every module class that exports to ONNX registers its emitter by being imported here (a new
// method adds one import line for its emitter file).
import './nn-emitters.js';
import './model-emitters.js';
import './face-resnet-emitters.js';
import './scn-emitters.js';
import './arbex-emitters.js';
import './patternmap-emitters.js';
import './ial-emitters.js';
import './ensemble-emitters.js';
