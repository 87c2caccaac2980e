#!/usr/bin/env node
// V8's compile cache (Node.js 22.1+; in the OS temporary directory, or NODE_COMPILE_CACHE) keeps
// the compiled code of the CLI and the library between runs: it is enabled before they load,
// whichever way this file is started (the installed bin, or `node …/dist/bin.js`). A namespace
// import: on a Node.js without it, the CLI still starts (and says which Node.js it needs).
import * as nodeModule from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

nodeModule.enableCompileCache?.();
// A pull allocates per request, and tens of thousands of requests at a high rate make V8 grow
// its young generation to its maximum in every thread (well over 100 MB of resident memory that
// is mostly garbage): the CLI keeps it at its initial size instead, so resident memory follows
// what the pull holds, not how fast it allocates. V8 flags are process-wide; this one may be set
// at run time (the heap reads it each time it considers growing).
setFlagsFromString('--semi-space-growth-factor=1');
// The old generation's limit after a collection is what survived it times a factor V8 picks from
// its speed, up to several times: resident memory that is mostly garbage when the pull's
// objects live briefly (each request, its record excepted, is garbage once done). A factor of
// 1.5 keeps the heap near what it holds, at the cost of more frequent (short) collections.
setFlagsFromString('--heap-growing-percent=50');
// Dead buffers (bodies received, objects inflated) are freed only by a garbage collection, which
// V8 schedules late for memory allocated outside its heap: up to tens of MB of garbage in each
// thread. With V8's collector exposed, the library collects once a thread has made a bounded
// amount of it (GarbageBudget). Set before any worker thread starts, which then sees `gc`.
setFlagsFromString('--expose-gc');
// This thread's context predates the flag: its collector comes from a context made after it,
// made when first asked for (a command that moves no data never asks).
Object.defineProperty(globalThis, 'gc', {
  configurable: true,
  get() {
    const gc: unknown = runInNewContext('gc');
    Object.defineProperty(globalThis, 'gc', { value: gc, configurable: true, writable: true });
    return gc;
  },
});
// The bundle of main.js with the library (scripts/bundle.mjs, part of `npm run build`): one
// module graph of a few files instead of hundreds of modules to resolve and link.
const { main }: typeof import('./main.js') = await import(new URL('./bundle/main.js', import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
