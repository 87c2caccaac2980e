// Bundles the built CLI (packages/cli/dist, from `tsc -b`) with the library and its dependencies
// into packages/cli/dist/bundle/, which the bin entry runs. Resolving and linking ~270 modules
// (their package.json lookups, stats and opens) is start-up time every command pays before its
// first request; one module graph of a few files, compiled once into V8's compile cache, is not.
//
// Invariants:
// - Code splitting: each command, the library's entry and its test helpers stay separate files
//   loaded on first use (help and usage errors never load the library: test/cli/help-startup).
// - Everything is in one flat directory: the worker threads (xzWorker.js, contentWorker.js) are
//   entry points here, found next to the code that starts them (`new URL('./xzWorker.js',
//   import.meta.url)`), and `demo` finds the sample two levels up, as from dist/commands/.
// - CommonJS dependencies (undici, debug) get a real `require` for Node.js built-ins.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT = join(CLI, '..', 'client', 'dist');
const OUT = join(CLI, 'dist', 'bundle');

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: {
    main: join(CLI, 'dist', 'main.js'),
    client: join(CLIENT, 'index.js'),
    testing: join(CLIENT, 'testing', 'index.js'),
    xzWorker: join(CLIENT, 'formats', 'xzWorker.js'),
    contentWorker: join(CLIENT, 'repo', 'contentWorker.js'),
  },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  chunkNames: 'chunk-[hash]',
  legalComments: 'linked',
  // Less source to read and decode at every start; identifiers kept (stack traces stay readable).
  minifyWhitespace: process.env.FF_BUNDLE_READABLE === undefined,
  minifySyntax: process.env.FF_BUNDLE_READABLE === undefined,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __ffCreateRequire } from 'node:module'; const require = __ffCreateRequire(import.meta.url);" },
});
