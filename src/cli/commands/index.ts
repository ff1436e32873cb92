// Every CLI command, by name: each lives in its own module and exports a function that adds itself
// to the commander program. A new command is one module and one line here.
import type { Command } from 'commander';
import { Registry } from '../../registry.js';
import { register as data } from './data.js';
import { register as evaluate } from './eval.js';
import { register as exportModel } from './export.js';
import { register as demo } from './demo.js';
import { register as info } from './info.js';
import { register as predict } from './predict.js';
import { register as serve } from './serve.js';
import { register as train } from './train.js';
import { register as cv } from './cv.js';
import { register as report } from './report.js';
import { register as ensemble } from './ensemble.js';
import { register as browser } from './browser.js';
import { register as batch } from './batch.js';
import { register as worker } from './worker.js';
import { register as balance } from './balance.js';
import { register as calibrate } from './calibrate.js';

export type AddCommand = (program: Command) => void;

export const commands = new Registry<AddCommand>('command')
  .register({ name: 'info', description: 'ferkit, TF.js, backend, onnxruntime and ffmpeg facts as JSON', create: info })
  .register({ name: 'data', description: 'dataset tools', create: data })
  .register({ name: 'train', description: 'train a model', create: train })
  .register({ name: 'cv', description: 'k-fold cross-validation with a per-fold and Table-4 summary', create: cv })
  .register({ name: 'eval', description: 'score a model on a labelled dataset', create: evaluate })
  .register({ name: 'balance', description: 'logit adjustment of a CE model for rare classes', create: balance })
  .register({ name: 'calibrate', description: 'temperature scaling of a CE model: confidences that mean what they say', create: calibrate })
  .register({ name: 'ensemble', description: 'fold fer-cnn models into one ensemble model', create: ensemble })
  .register({ name: 'export', description: 'export a model to ONNX or the TF.js folder format', create: exportModel })
  .register({ name: 'predict', description: 'expressions of the faces in images, folders and videos', create: predict })
  .register({ name: 'demo', description: "the bundled model on face-api's sample photos", create: demo })
  .register({ name: 'serve', description: 'HTTP API and web page', create: serve })
  .register({ name: 'report', description: 'HTML report with pictures for a model on a labelled set', create: report })
  .register({ name: 'browser', description: 'the browser build, web model and face weights in one folder for a web page', create: browser })
  .register({ name: 'batch', description: 'photos and videos in bulk into an SQLite database, resumable, optionally on a Redis queue', create: batch })
  .register({ name: 'worker', description: 'run batch jobs from a Redis queue', create: worker });
