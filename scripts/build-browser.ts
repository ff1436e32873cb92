// The browser build: src/browser/index.ts bundled with face-api's browser build (its own TF.js)
// and onnxruntime-web's wasm runtime into one ES module, dist/browser/ferkit.js, with the .wasm
// files it fetches at run time beside it (onnxruntime-web's; TF.js's wasm backend's). The web model and
// face-api's weights are served from elsewhere (`ferkit serve` does, `ferkit browser --out DIR`
// copies everything into one folder). `node --import tsx scripts/build-browser.ts [outDir]`.
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
export const ORT_WASM = 'ort-wasm-simd-threaded.wasm';
/** TF.js's wasm backend (face detection), with and without SIMD and threads. */
export const TFJS_WASM = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/** Builds into `outDir`; returns the files written and their sizes in bytes. */
export async function buildBrowser(outDir = join(root, 'dist', 'browser')): Promise<Record<string, number>> {
  const { build } = await import('esbuild');
  await mkdir(outDir, { recursive: true });
  const bundle = join(outDir, 'ferkit.js');
  await build({
    entryPoints: [join(root, 'src', 'browser', 'index.ts')],
    outfile: bundle,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const copies: [string, string][] = [[require.resolve(`onnxruntime-web/${ORT_WASM}`), ORT_WASM]];
  const tfjsWasm = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  for (const f of TFJS_WASM) copies.push([join(tfjsWasm, f), f]);
  const files: Record<string, number> = { [bundle]: (await stat(bundle)).size };
  for (const [from, name] of copies) {
    await copyFile(from, join(outDir, name));
    files[join(outDir, name)] = (await stat(from)).size;
  }
  return files;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = await buildBrowser(process.argv[2] ? resolve(process.argv[2]) : undefined);
  for (const [f, size] of Object.entries(files)) console.error(`${f} ${(size / 2 ** 20).toFixed(2)} MiB`);
}
