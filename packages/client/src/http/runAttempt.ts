/**
 * One HTTP attempt of HttpClient: sends the request (with Range/If-Range when resuming), checks the
 * status and sizes, streams the body through content decoding to the caller's `onChunk` under the
 * body-stall timer, and verifies it. It never throws for a failure of the exchange: it says how the
 * attempt ended (AttemptOutcome) and leaves retrying to the caller.
 */
import { FlathubFetchError, isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { AttemptAbort } from './AttemptAbort.js';
import type { AttemptFailure, AttemptOutcome, ResumePoint } from './AttemptOutcome.js';
import type { AttemptRecorder } from './AttemptRecorder.js';
import { classifyTransportError } from './classifyTransportError.js';
import { describeFailure, errorCodeFor } from './describeFailure.js';
import { acceptedEncodings, contentCoding, decodeBody } from './decodeBody.js';
import type { ResolvedHttpClientOptions } from './HttpClientOptions.js';
import { MISSING_STATUSES } from './missingStatuses.js';
import { parseContentRange } from './parseContentRange.js';
import { parseRetryAfter } from './parseRetryAfter.js';
import { readWire } from './readWire.js';
import type { RequestPurpose, Transport, TransportResponse } from './Transport.js';
import { REDIRECT_STATUSES } from './redirects.js';
import { threadGarbage } from '../formats/garbageBudget.js';

/** What one logical request wants; the same for all its attempts. */
export interface FetchSpec {
  purpose: RequestPurpose;
  maxBytes: number;
  expectedSize: number | null;
  allowMissing: boolean;
  acceptEncoding: boolean;
  signal: AbortSignal | undefined;
  onChunk: (chunk: Uint8Array) => void | Promise<void>;
  onRestart: () => void;
  verify: (() => void | Promise<void>) | null;
}

/** Carried from attempt to attempt: how much of the body the caller has, and where to resume. */
export interface StreamState {
  delivered: number;
  resume: ResumePoint | null;
}

export interface AttemptContext {
  url: URL;
  spec: FetchSpec;
  rec: AttemptRecorder;
  state: StreamState;
  transport: Transport;
  options: ResolvedHttpClientOptions;
}

/** Ends the body loop with a decided outcome. */
class Stop extends Error {
  readonly outcome: AttemptFailure;
  constructor(outcome: AttemptFailure) {
    super(outcome.detail);
    this.outcome = outcome;
  }
}

const RESUMABLE = new Set(['reset', 'truncated', 'body-stall', 'other']);
/** Small object GETs of a pull: they may share an HTTP/1.1 pipeline (see TransportRequest.pipelinable). */
const PIPELINABLE: ReadonlySet<RequestPurpose> = new Set<RequestPurpose>(['commit', 'commitmeta', 'dirtree', 'dirmeta', 'file']);

export async function runAttempt(ctx: AttemptContext): Promise<AttemptOutcome> {
  const { url, spec, rec, state, transport, options } = ctx;
  const { timeouts } = options;
  const ac = new AttemptAbort();
  const onUserAbort = () => ac.abort(spec.signal?.reason);
  spec.signal?.addEventListener('abort', onUserAbort, { once: true });
  let fired: FlathubFetchError | null = null;
  const fire = (err: FlathubFetchError) => {
    if (fired !== null) return;
    fired = err;
    ac.abort(err);
  };
  const timeoutError = (code: typeof ErrorCodes.FIRST_BYTE_TIMEOUT | typeof ErrorCodes.BODY_STALL, ms: number) =>
    new FlathubFetchError(code, `GET ${url.href}: timed out`, { url: url.href, purpose: spec.purpose, timeout: ms });

  let firstByteTimer: ReturnType<typeof setTimeout> | undefined;
  let responded = false;
  const armFirstByte = () => {
    clearTimeout(firstByteTimer);
    if (responded || transport.enforcesTimeouts === true || timeouts.firstByte <= 0) return;
    firstByteTimer = setTimeout(() => fire(timeoutError(ErrorCodes.FIRST_BYTE_TIMEOUT, timeouts.firstByte)), timeouts.firstByte);
  };
  rec.onRequestSent = armFirstByte;

  const fail = (f: Partial<AttemptFailure> & Pick<AttemptFailure, 'errorClass' | 'code' | 'detail'>): AttemptFailure => ({
    kind: 'failed',
    data: {},
    recordCode: null,
    retryable: false,
    corruption: false,
    retryAfter: null,
    status: rec.status,
    // A failure that delivered nothing new (a 503, a timeout before the body) keeps the resume point.
    resume: state.resume !== null && state.delivered > 0 && state.resume.offset === state.delivered ? state.resume : null,
    ...f,
  });
  const callerFailure = (error: unknown) =>
    fail({
      errorClass: 'other',
      code: ErrorCodes.INVALID_ARGUMENT,
      detail: String((error as Error)?.message ?? error),
      recordCode: typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : null,
      callerError: { error },
    });

  /** Turns an error thrown by the transport or the body into an outcome. */
  let resumeFrom: Omit<ResumePoint, 'offset'> | null = null;
  let declared: number | null = null;
  const fromError = (err: unknown, midBody: boolean): AttemptFailure => {
    if (spec.signal?.aborted) {
      return fail({
        errorClass: 'aborted',
        code: ErrorCodes.ABORTED,
        detail: 'aborted',
        cause: spec.signal.reason,
        recordCode: ErrorCodes.ABORTED,
      });
    }
    const source = fired ?? err;
    const c = classifyTransportError(source, midBody);
    if (c.errorClass === 'other' && isFlathubFetchError(err, ErrorCodes.DECOMPRESS)) {
      if (declared !== null && rec.wireBytes < declared) return truncatedAt(err);
      return fail({
        errorClass: 'decode',
        code: ErrorCodes.DECOMPRESS,
        detail: err.message.startsWith(`${url.href}: `) ? err.message.slice(url.href.length + 2) : err.message,
        data: err.data,
        cause: err,
        recordCode: err.code,
        retryable: true,
        corruption: true,
        resume: null,
      });
    }
    const canResume = midBody && c.retryable && RESUMABLE.has(c.errorClass) && resumeFrom !== null && state.delivered > 0;
    return fail({
      errorClass: c.errorClass,
      code: errorCodeFor(c.errorClass),
      detail: describeFailure(c.errorClass, c.code, source, { timeouts, received: rec.wireBytes, declared }),
      data: { cause: c.code ?? (source as Error)?.message ?? String(source), reason: c.errorClass, received: rec.wireBytes },
      cause: source,
      recordCode: c.code,
      retryable: c.retryable,
      resume: canResume && resumeFrom !== null ? { ...resumeFrom, offset: state.delivered } : null,
    });
  };
  const truncatedAt = (cause?: unknown): AttemptFailure =>
    fail({
      errorClass: 'truncated',
      code: ErrorCodes.NETWORK,
      detail: `body cut off after ${rec.wireBytes}${declared !== null ? ` of ${declared}` : ''} bytes${spec.expectedSize !== null ? ` (${state.delivered} of the expected ${spec.expectedSize})` : ''}`,
      data: { cause: 'truncated', reason: 'truncated', received: rec.wireBytes, expected: declared ?? spec.expectedSize },
      cause,
      recordCode: null,
      retryable: true,
      resume: resumeFrom !== null && state.delivered > 0 ? { ...resumeFrom, offset: state.delivered } : null,
    });
  const tooBig = (size: number, limit: number, expected: boolean): AttemptFailure =>
    fail({
      errorClass: 'size-violation',
      code: ErrorCodes.SIZE_LIMIT,
      detail: expected
        ? `body of ${size}+ bytes is longer than the expected ${limit}`
        : `body of ${size}+ bytes exceeds the ${limit}-byte limit for ${spec.purpose}`,
      data: { what: spec.purpose, size, limit },
    });

  const headers: Record<string, string> = { 'user-agent': options.userAgent };
  if (spec.acceptEncoding) headers['accept-encoding'] = acceptedEncodings();
  const resume = state.resume;
  const range = resume !== null ? `bytes=${resume.offset}-` : null;
  if (resume !== null && range !== null) {
    headers.range = range;
    headers['if-range'] = resume.validator;
  }

  let res: TransportResponse | undefined;
  let readingBody = false;
  try {
    rec.dispatched(range);
    armFirstByte();
    try {
      res = await ac.race(
        transport.request({
          url,
          method: 'GET',
          headers,
          signal: ac.signal,
          ...(options.recording ? { trace: rec } : {}),
          timeouts,
          pipelinable: PIPELINABLE.has(spec.purpose),
        }),
      );
    } catch (err) {
      return fromError(err, false);
    } finally {
      responded = true;
      clearTimeout(firstByteTimer);
    }
    const status = res.status;
    rec.response(status, res.headers);
    // Error pages are read (up to 64 KiB) and counted, so records match the server's byte
    // counts and the connection stays reusable; a longer error body is cut off by dispose().
    if (status !== 200 && status !== 206) await drainCounted(res, rec, 64 * 1024, ac.signal);

    const location = res.headers.location;
    if (REDIRECT_STATUSES.has(status) && location !== undefined && location !== '') return { kind: 'redirect', status, location };
    if (MISSING_STATUSES.has(status)) {
      if (spec.allowMissing) return { kind: 'missing' };
      return fail({
        errorClass: 'http-status',
        code: ErrorCodes.NOT_FOUND,
        detail: `HTTP ${status}`,
        data: { status, what: spec.purpose },
        recordCode: String(status),
      });
    }
    if (status === 416 && resume !== null) {
      // The representation is not as long as the part we have: start again.
      return fail({
        errorClass: 'http-status',
        code: ErrorCodes.HTTP_STATUS,
        detail: `HTTP 416 to Range ${range}`,
        data: { status },
        recordCode: '416',
        retryable: true,
        resume: null,
      });
    }
    if (status !== 200 && status !== 206) {
      return fail({
        errorClass: 'http-status',
        code: ErrorCodes.HTTP_STATUS,
        detail: `HTTP ${status}`,
        data: { status },
        recordCode: String(status),
        retryable: options.retry.statuses.includes(status),
        retryAfter: parseRetryAfter(res.headers['retry-after']),
      });
    }

    const coding = contentCoding(res.headers['content-encoding']);
    if (coding === null) {
      const enc = res.headers['content-encoding'] ?? '';
      return fail({
        errorClass: 'decode',
        code: ErrorCodes.DECOMPRESS,
        detail: `unsupported Content-Encoding "${enc}"`,
        data: { what: url.href, format: enc },
      });
    }
    const etag = res.headers.etag ?? null;
    const validator = (etag !== null && !etag.startsWith('W/') ? etag : null) ?? res.headers['last-modified'] ?? null;
    const rangesRefused = res.headers['accept-ranges']?.trim().toLowerCase() === 'none';
    declared = rec.contentLengthHeader;

    let total: number | null;
    if (status === 206) {
      const cr = parseContentRange(res.headers['content-range']);
      const continues =
        resume !== null &&
        coding === 'identity' &&
        cr !== null &&
        cr.start === resume.offset &&
        resume.offset === state.delivered &&
        (resume.total === null || cr.total === null || cr.total === resume.total) &&
        (resume.etag === null || etag === null || etag === resume.etag) &&
        (declared === null || declared === cr.end - cr.start + 1);
      if (!continues || cr === null || resume === null) {
        return fail({
          errorClass: 'other',
          code: ErrorCodes.HTTP_STATUS,
          detail: `HTTP 206 with Content-Range "${res.headers['content-range'] ?? ''}" does not continue the body at byte ${resume?.offset ?? 0}`,
          data: { status },
          recordCode: '206',
          retryable: resume !== null,
          resume: null,
        });
      }
      declared = cr.end - cr.start + 1;
      total = cr.total ?? resume.total;
    } else {
      // A 200 is the whole body from byte 0, also when we asked for a range (the server ignored it).
      if (state.delivered > 0) {
        state.delivered = 0;
        try {
          spec.onRestart();
        } catch (err) {
          return callerFailure(err);
        }
      }
      total = coding === 'identity' ? declared : null;
    }
    if (validator !== null && coding === 'identity' && !rangesRefused) resumeFrom = { validator, etag, total };

    if (total !== null) {
      if (total > spec.maxBytes) return tooBig(total, spec.maxBytes, false);
      if (spec.expectedSize !== null && total > spec.expectedSize) return tooBig(total, spec.expectedSize, true);
      if (spec.expectedSize !== null && total < spec.expectedSize) {
        return fail({
          errorClass: 'truncated',
          code: ErrorCodes.NETWORK,
          detail: `server declares ${total} bytes, expected ${spec.expectedSize}`,
          data: { cause: 'truncated', reason: 'truncated', received: 0, expected: spec.expectedSize },
          retryable: true,
        });
      }
    }

    const limit = Math.min(spec.maxBytes, spec.expectedSize ?? Number.POSITIVE_INFINITY);
    const maxWire = coding === 'identity' ? Number.POSITIVE_INFINITY : spec.maxBytes;
    readingBody = true;
    const wire = readWire(
      res.body,
      ac,
      timeouts.bodyStall,
      () => fire(timeoutError(ErrorCodes.BODY_STALL, timeouts.bodyStall)),
      (n) => {
        rec.wire(n);
        // Bodies become buffers kept for a moment (decoded, hashed, written), cut from the
        // transport's read buffers: counted towards this thread's collections (GarbageBudget).
        threadGarbage.note(n);
        if (rec.wireBytes > maxWire) throw new Stop(tooBig(rec.wireBytes, maxWire, false));
      },
    );
    try {
      for await (const chunk of decodeBody(coding, wire, url.href)) {
        if (state.delivered + chunk.length > limit) throw new Stop(tooBig(state.delivered + chunk.length, limit, limit !== spec.maxBytes));
        rec.body(chunk.length);
        try {
          await spec.onChunk(chunk);
        } catch (err) {
          throw new Stop(callerFailure(err));
        }
        state.delivered += chunk.length;
      }
    } catch (err) {
      if (err instanceof Stop) return err.outcome;
      return fromError(err, true);
    }
    readingBody = false;

    if ((declared !== null && rec.wireBytes < declared) || (spec.expectedSize !== null && state.delivered < spec.expectedSize)) {
      return truncatedAt();
    }
    if (spec.verify !== null) {
      try {
        await spec.verify();
      } catch (err) {
        if (isFlathubFetchError(err) && (err.code === ErrorCodes.CHECKSUM_MISMATCH || err.code === ErrorCodes.FORMAT)) {
          return fail({
            errorClass: 'checksum-mismatch',
            code: err.code,
            detail: err.message,
            data: err.data,
            cause: err,
            recordCode: err.code,
            retryable: true,
            corruption: true,
            resume: null,
          });
        }
        return callerFailure(err);
      }
    }
    return { kind: 'done', bytes: state.delivered };
  } finally {
    spec.signal?.removeEventListener('abort', onUserAbort);
    clearTimeout(firstByteTimer);
    rec.onRequestSent = null;
    // A body left half-read cannot be drained usefully: tear the exchange down.
    if (readingBody && !ac.aborted) ac.abort(new Error('attempt ended'));
    res?.dispose();
  }
}

async function drainCounted(res: TransportResponse, rec: AttemptRecorder, limit: number, signal: AbortSignal): Promise<void> {
  let total = 0;
  // An error body that stalls must not hold the attempt: give up on it after 2 s.
  const timer = setTimeout(() => res.dispose(), 2000);
  try {
    for await (const chunk of res.body) {
      if (signal.aborted) return;
      total += chunk.length;
      rec.wire(chunk.length);
      rec.body(chunk.length);
      if (total >= limit) return;
    }
  } catch {
    // A broken error body changes nothing about the outcome.
  } finally {
    clearTimeout(timer);
  }
}
