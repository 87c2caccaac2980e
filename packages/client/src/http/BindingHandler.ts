/**
 * A pass-through undici dispatch handler that arms its request's TransportTrace when undici
 * starts writing the request (see UndiciTraceBinder for why this is where the binding happens).
 */
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { type TraceBinding, UndiciTraceBinder } from './UndiciTraceBinder.js';

type Controller = Dispatcher.DispatchController;
type Headers = Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[2];

export class BindingHandler implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler;
  readonly #binding: TraceBinding;

  constructor(inner: Dispatcher.DispatchHandler, binding: TraceBinding) {
    this.#inner = inner;
    this.#binding = binding;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    UndiciTraceBinder.arm(this.#binding);
    this.#inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: Headers, socket: Duplex): void {
    this.#inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Headers, statusMessage?: string): void {
    this.#inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: Headers): void {
    this.#inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, error: Error): void {
    this.#inner.onResponseError?.(controller, error);
  }
}
