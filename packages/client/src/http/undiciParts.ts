/**
 * The parts of undici this library uses, loaded from their own modules instead of the package
 * root: `import 'undici'` also loads fetch, WebSocket, EventSource, caches, interceptors and the
 * mock agent, a start-up cost every process would pay (the pull and every CLI command) for code
 * it never runs; these five modules are all a keep-alive pool needs. undici has no `exports`
 * map, so the paths are public to Node's resolver; a test checks that they are the very values
 * the package root exports, so an undici release that moves them fails loudly.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

export const Agent: typeof Undici.Agent = require('undici/lib/dispatcher/agent.js');
export const Pool: typeof Undici.Pool = require('undici/lib/dispatcher/pool.js');
export const Client: typeof Undici.Client = require('undici/lib/dispatcher/client.js');
export const buildConnector: typeof Undici.buildConnector = require('undici/lib/core/connect.js');
export const errors: typeof Undici.errors = require('undici/lib/core/errors.js');
