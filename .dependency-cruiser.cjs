// Import rules for src/ (run by `npm run lint`). The layers, lowest first; a module may import
// its own layer (when acyclic) or any lower one, never a higher one:
//   0 util, registry.ts   1 engine   2 nn, data, losses, onnx   3 detect   4 models   5 infer
//   6 eval, export, api   7 train, batch   8 report, server, browser   9 cli
// src/index.ts (the package entry) may import anything. docs/architecture.md draws the same map.
const layers = [
  ['src/util/', 'src/registry\\.ts'],
  ['src/engine/'],
  ['src/nn/', 'src/data/', 'src/losses/', 'src/onnx/'],
  ['src/detect/'],
  ['src/models/'],
  ['src/infer/'],
  ['src/eval/', 'src/export/', 'src/api/'],
  ['src/train/', 'src/batch/'],
  ['src/report/', 'src/server/', 'src/browser/'],
  ['src/cli/'],
];
const re = (parts) => `^(${parts.join('|')})`;
const names = ['util', 'engine', 'nn-data-losses-onnx', 'detect', 'models', 'infer', 'eval-export-api', 'train-batch', 'report-server-browser', 'cli'];

// One rule per layer: nothing in it imports from any layer above it.
const layerRules = layers.slice(0, -1).map((parts, i) => ({
  name: `layer-${i}-${names[i]}`,
  comment: `layer ${i} (${parts.join(', ')}) must not import a higher layer`,
  severity: 'error',
  from: { path: re(parts) },
  to: { path: re(layers.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles (type-only imports included) tie layers and modules into one knot',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'no-import-of-entry',
      comment: 'src/index.ts is the package entry: nothing inside src imports it',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/index\\.ts$' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'src-not-to-tests',
      comment: 'src never imports test/, bench/ or scripts/',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-dev-dep',
      comment:
        'shipped src must not import a devDependency. Exceptions: the *.mjs worker boots run only from ' +
        'TypeScript sources (tsx present), and src/browser is bundled by esbuild (onnxruntime-web inside)',
      severity: 'error',
      from: { path: '^src/', pathNot: ['\\.mjs$', '^src/browser/'] },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mjs', '.js', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
