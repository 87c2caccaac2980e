#!/usr/bin/env node
// Entry point kept outside dist/ so that `npm install` can link the bin before the first build.
// V8's compile cache (Node.js 22.1+; in the OS temporary directory, or NODE_COMPILE_CACHE) keeps
// the compiled code of the CLI and the library between runs: it is enabled before they load.
import { enableCompileCache } from 'node:module';
import { setFlagsFromString } from 'node:v8';

enableCompileCache?.();
// A pull allocates per request, and tens of thousands of requests at a high rate make V8 grow
// its young generation to its maximum in every thread (well over 100 MB of resident memory that
// is mostly garbage): the CLI keeps it at its initial size instead, so resident memory follows
// what the pull holds, not how fast it allocates. V8 flags are process-wide; this one may be set
// at run time (the heap reads it each time it considers growing).
setFlagsFromString('--semi-space-growth-factor=1');
await import('../dist/bin.js');
