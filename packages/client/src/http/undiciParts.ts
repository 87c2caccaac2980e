/// <reference path="./undiciModules.d.ts" />
/**
 * The parts of undici this library uses, loaded from their own modules instead of the package
 * root: `import 'undici'` also loads fetch, WebSocket, EventSource, caches, interceptors and the
 * mock agent, a start-up cost every process would pay (the pull and every CLI command) for code
 * it never runs; these five modules are all a keep-alive pool needs. undici has no `exports`
 * map, so the paths are public to Node's resolver; a test checks that they are the very values
 * the package root exports, so an undici release that moves them fails loudly. Static imports
 * (CommonJS modules: the default export is `module.exports`), so that a bundler sees them too;
 * their types are declared in undiciModules.d.ts.
 */
import AgentModule from 'undici/lib/dispatcher/agent.js';
import ClientModule from 'undici/lib/dispatcher/client.js';
import PoolModule from 'undici/lib/dispatcher/pool.js';
import connectModule from 'undici/lib/core/connect.js';
import errorsModule from 'undici/lib/core/errors.js';
import type * as Undici from 'undici';

export const Agent: typeof Undici.Agent = AgentModule;
export const Pool: typeof Undici.Pool = PoolModule;
export const Client: typeof Undici.Client = ClientModule;
export const buildConnector: typeof Undici.buildConnector = connectModule;
export const errors: typeof Undici.errors = errorsModule;
