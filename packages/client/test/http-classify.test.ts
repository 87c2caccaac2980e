/** classifyTransportError on the codes transports raise: which failures are retried, and as what. */
import { expect, test } from 'vitest';
import { classifyTransportError } from '../src/http/classifyTransportError.js';

const err = (code: string) => Object.assign(new Error(code), { code });

test('transient codes are retryable; a broken body is a truncation', () => {
  expect(classifyTransportError(err('ECONNRESET'), false)).toEqual({ errorClass: 'reset', retryable: true, code: 'ECONNRESET' });
  expect(classifyTransportError(err('UND_ERR_SOCKET'), true)).toMatchObject({ errorClass: 'truncated', retryable: true });
  expect(classifyTransportError(err('UND_ERR_HEADERS_TIMEOUT'), false)).toMatchObject({
    errorClass: 'first-byte-timeout',
    retryable: true,
  });
  // undici's HTTP/1.1 parser asserting on a connection: dropped, retried on a fresh one.
  expect(classifyTransportError(err('ERR_ASSERTION'), false)).toEqual({ errorClass: 'other', retryable: true, code: 'ERR_ASSERTION' });
  expect(classifyTransportError(err('ERR_ASSERTION'), true)).toMatchObject({ errorClass: 'truncated', retryable: true });
  // The code may sit on the cause.
  expect(classifyTransportError(new Error('fetch failed', { cause: err('ECONNREFUSED') }), false)).toMatchObject({
    errorClass: 'refused',
    retryable: true,
  });
});

test('what retrying cannot fix is final', () => {
  expect(classifyTransportError(err('ENOTFOUND'), false)).toMatchObject({ errorClass: 'dns', retryable: false });
  expect(classifyTransportError(err('CERT_HAS_EXPIRED'), false)).toMatchObject({ errorClass: 'tls', retryable: false });
  expect(classifyTransportError(new Error('no code'), false)).toEqual({ errorClass: 'other', retryable: false, code: null });
});
