/**
 * An undici connector (`connect` option) that wraps `buildConnector` and watches each new
 * socket's `lookup`, `connect` and `secureConnect` events, registering it in a
 * ConnectionRegistry so requests can be given a connection id and the phases of opening it.
 */
import { isIP, type Socket } from 'node:net';
import type { buildConnector } from 'undici';
import { buildConnector as buildConnectorImpl } from './undiciParts.js';
import type { ConnectionRegistry, ConnectionState } from './ConnectionRegistry.js';

export function tracingConnector(options: buildConnector.BuildOptions, registry: ConnectionRegistry): buildConnector.connector {
  const connect = buildConnectorImpl(options) as unknown as (
    opts: buildConnector.Options,
    cb: buildConnector.Callback,
  ) => Socket | undefined;
  return (opts, callback) => {
    const started = performance.now();
    const hostname = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname;
    let state: ConnectionState | null = null;
    // buildConnector's own listeners run first and hand the socket to undici, which may write a
    // request at once: complete the phases here, before passing the socket on.
    const socket = connect(opts, (...args) => {
      if (state !== null && args[0] === null) registry.established(state, args[1]);
      (callback as (...a: typeof args) => void)(...args);
    });
    // buildConnector returns the socket it creates; a custom build might not (then no phases).
    if (socket !== undefined && socket !== null && typeof (socket as Socket).once === 'function') {
      state = registry.open(socket, started, options.socketPath == null && isIP(hostname) === 0, opts.protocol === 'https:');
    }
  };
}
