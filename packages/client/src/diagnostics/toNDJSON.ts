/**
 * Pull events as NDJSON, one line per event, for live streams (`--events`). Each line is
 * `{"type":…,"t":<ms since performance.timeOrigin>,…}`. A `done` event carries the result without
 * its `requests` (each attempt was already streamed as a `request` event) and adds `requestCount`.
 */
import type { PullEvent } from '../pull/PullEvent.js';

export function toNDJSON(event: PullEvent | readonly PullEvent[], now: number = performance.now()): string {
  const events: readonly PullEvent[] = Array.isArray(event) ? event : [event as PullEvent];
  return events.map((e) => `${JSON.stringify(eventData(e, now), (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`).join('');
}

function eventData(e: PullEvent, t: number): Record<string, unknown> {
  if (e.type === 'done') {
    const { requests, ...rest } = e.result;
    return { type: 'done', t, result: { ...rest, requestCount: requests.length } };
  }
  return { ...e, t };
}
