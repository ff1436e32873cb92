// `ferkit browser --out DIR`: one folder with everything a web page needs to recognise expressions
// in the browser (src/browser): ferkit.js and its .wasm files, the web model, face-api's weights.
// Serve it and `import { loadRecognizer } from './DIR/ferkit.js'`.
import type { Command } from 'commander';
import { globalOptions } from '../global-options.js';

interface BrowserFlags {
  out: string;
  model?: string;
  detector: string;
}

async function run(flags: BrowserFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  const detectors = flags.detector === 'all' ? ['ssd', 'tiny'] : [flags.detector];
  if (!detectors.every((d) => d === 'ssd' || d === 'tiny')) throw new Error(`--detector must be ssd, tiny or all, got "${flags.detector}"`);
  const { copyBrowserAssets } = await import('../../server/browser-assets.js');
  const written = await copyBrowserAssets(flags.out, { model: flags.model }, detectors as ('ssd' | 'tiny')[]);
  const total = Object.values(written).reduce((a, b) => a + b, 0);
  if (!quiet) process.stderr.write(`ferkit browser: ${Object.keys(written).length} files, ${(total / 2 ** 20).toFixed(1)} MiB in ${flags.out}\n`);
  process.stdout.write(`${flags.out}\n`);
}

export function register(program: Command): void {
  program
    .command('browser')
    .description('copy the browser build, the web model and the face detector weights into one folder for a web page')
    .requiredOption('--out <dir>', 'folder to write (serve it; import ferkit.js from it)')
    .option('--model <dir>', 'web model folder: config.json + model.onnx (default: the bundled models/web)')
    .option('--detector <name>', 'face detector weights to include: ssd, tiny or all', 'ssd')
    .action((flags: BrowserFlags, cmd: Command) => run(flags, cmd));
}
