#!/usr/bin/env node
// Entry point kept outside dist/ so that `npm install` can link the bin before the first build.
// V8's compile cache (Node.js 22.1+; in the OS temporary directory, or NODE_COMPILE_CACHE) keeps
// the compiled code of the CLI and the library between runs: it is enabled before they load.
import { enableCompileCache } from 'node:module';

enableCompileCache?.();
await import('../dist/bin.js');
