#!/usr/bin/env node
// V8's compile cache (Node.js 22.1+; in the OS temporary directory, or NODE_COMPILE_CACHE) keeps
// the compiled code of the CLI and the library between runs: it is enabled before they load,
// whichever way this file is started (the installed bin, or `node …/dist/bin.js`). A namespace
// import: on a Node.js without it, the CLI still starts (and says which Node.js it needs).
import * as nodeModule from 'node:module';

nodeModule.enableCompileCache?.();
const { main } = await import('./main.js');
process.exitCode = await main(process.argv.slice(2));
