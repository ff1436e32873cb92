// `ferkit info`: what runs here, as JSON.
import type { Command } from 'commander';
import { probeFfmpeg, probeOnnxRuntime } from '../../util/tools.js';
import { startEngine } from '../global-options.js';
import { packageVersion } from '../../util/package-root.js';

export function register(program: Command): void {
  program
    .command('info')
    .description('print ferkit, TF.js, backend, native kernels, onnxruntime and ffmpeg facts as JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      const engine = await startEngine(cmd);
      const info = {
        ferkit: packageVersion(),
        tfjs: engine.tfjsVersion,
        backend: engine.backend,
        backendReason: engine.reason,
        threads: engine.threads,
        native: engine.native ?? { available: false, detail: `not used on the ${engine.backend} backend` },
        onnxruntime: await probeOnnxRuntime(),
        ffmpeg: probeFfmpeg(),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      };
      process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    });
}
