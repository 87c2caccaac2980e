/**
 * Links undici's diagnostics_channel events to the TransportTrace of the request they belong to.
 *
 * Channel subscribers see every undici request in the process (including Node's bundled fetch),
 * so each event is matched by the identity of undici's request object. That object is created
 * inside undici, possibly later (when a pool queues the dispatch), so the binding is made when the
 * request is written: the dispatch handler's `onRequestStart` (UndiciExchange's) runs
 * synchronously right before undici publishes `undici:client:sendHeaders` for the same request,
 * so the trace armed there is claimed by that event (and disarmed in a microtask if it never comes).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { ConnectionRegistry } from './ConnectionRegistry.js';
import type { TransportTrace } from './TransportTrace.js';

export interface TraceBinding {
  trace: TransportTrace;
  registry: ConnectionRegistry;
}

type Message = { request: object; socket?: object; chunk?: { length: number } };
type Handler = (message: unknown) => void;

const byRequest = new WeakMap<object, TraceBinding>();
let armed: TraceBinding | null = null;
let users = 0;

const handlers: Record<string, Handler> = {
  'undici:client:sendHeaders': (m) => {
    const { request, socket } = m as Message;
    const binding = armed;
    if (binding === null) return;
    armed = null;
    byRequest.set(request, binding);
    binding.trace.requestSent(performance.now(), binding.registry.use(socket));
  },
  'undici:request:headers': (m) => {
    const { request } = m as Message;
    const b = byRequest.get(request);
    if (b === undefined) return;
    b.trace.responseStart(performance.now(), null);
  },
  'undici:request:bodyChunkReceived': (m) => {
    const { request, chunk } = m as Message;
    byRequest.get(request)?.trace.bodyChunk(performance.now(), chunk?.length ?? 0);
  },
  'undici:request:trailers': (m) => {
    const { request } = m as Message;
    const b = byRequest.get(request);
    if (b === undefined) return;
    byRequest.delete(request);
    b.trace.responseEnd(performance.now());
  },
  'undici:request:error': (m) => {
    byRequest.delete((m as Message).request);
  },
};

export const UndiciTraceBinder = {
  /** Subscribes to the channels (reference-counted: call `release()` once per `retain()`). */
  retain(): void {
    if (users++ === 0) for (const [name, fn] of Object.entries(handlers)) diagnosticsChannel.subscribe(name, fn);
  },

  release(): void {
    if (users > 0 && --users === 0) for (const [name, fn] of Object.entries(handlers)) diagnosticsChannel.unsubscribe(name, fn);
  },

  /** Arms `binding` for the next `undici:client:sendHeaders` in this synchronous run. */
  arm(binding: TraceBinding): void {
    armed = binding;
    queueMicrotask(() => {
      if (armed === binding) armed = null;
    });
  },
};
