/**
 * Real HTTP servers on 127.0.0.1 whose every response is scripted by the test (by attempt
 * number), and HttpClients that record their attempts and backoff delays instead of sleeping.
 * Everything is closed after each test.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect } from 'vitest';
import { FlathubFetchError } from '../../src/errors/FlathubFetchError.js';
import { HttpClient } from '../../src/http/HttpClient.js';
import type { HttpClientOptions } from '../../src/http/HttpClientOptions.js';
import type { RequestRecord } from '../../src/http/RequestRecord.js';

/** Answers one request; `attempt` counts requests to this server from 0. */
export type Handler = (req: IncomingMessage, res: ServerResponse, attempt: number) => void;

export function scriptedHttp() {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function serve(handler: Handler): Promise<{ base: string; port: number; requests: IncomingMessage[] }> {
    const requests: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      requests.push(req);
      handler(req, res, requests.length - 1);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const { port } = server.address() as AddressInfo;
    return { base: `http://127.0.0.1:${port}/repo/`, port, requests };
  }

  function client(base: string | URL, options: HttpClientOptions = {}) {
    const records: RequestRecord[] = [];
    const sleeps: number[] = [];
    const http = new HttpClient(base, {
      random: () => 0,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      onRecord: (r) => records.push(r),
      ...options,
    });
    cleanups.push(() => http.close());
    return { http, records, sleeps };
  }

  return { serve, client, cleanups };
}

/** The FlathubFetchError a promise rejects with (fails the test if it resolves or throws another kind). */
export async function rejection(p: Promise<unknown>): Promise<FlathubFetchError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FlathubFetchError);
    return err as FlathubFetchError;
  }
  throw new Error('expected a rejection');
}
