/**
 * The undici modules the transport loads directly (src/http/undiciParts.ts) are the very values
 * the package root exports: an undici release that moves or changes them fails here.
 */
import * as undici from 'undici';
import { expect, test } from 'vitest';
import * as parts from '../src/http/undiciParts.js';

test('Agent, Pool, Client, buildConnector and errors are undici’s own', () => {
  expect(parts.Agent).toBe(undici.Agent);
  expect(parts.Pool).toBe(undici.Pool);
  expect(parts.Client).toBe(undici.Client);
  expect(parts.buildConnector).toBe(undici.buildConnector);
  expect(parts.errors.RequestAbortedError).toBe(undici.errors.RequestAbortedError);
  expect(Object.keys(parts.errors).sort()).toEqual(Object.keys(undici.errors).sort());
});
