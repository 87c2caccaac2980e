#!/usr/bin/env node
// What would a pull of REF download? The deltas offered, the strategy chosen and why, and the
// requests and bytes of each path — without pulling anything.
//   node examples/plan.mjs URL REF [FROM_COMMIT]
import { planRemotePull } from '@flathub-fetch/client';

const [url, ref, from] = process.argv.slice(2);
if (!url || !ref) {
  console.error('usage: plan.mjs URL REF [FROM_COMMIT]');
  process.exit(2);
}
const p = await planRemotePull({ url, ref, ...(from ? { from } : {}) });
console.log(`${p.ref ?? p.target}: ${p.deltas.length} deltas offered; chosen ${p.plan.strategy} (${p.plan.reason})`);
for (const a of p.plan.alternatives) {
  const total = p.totals[a.strategy];
  console.log(`${a.strategy}\t${total === null ? '-' : `${total.requests} requests, ${total.bytes ?? '?'} bytes (${a.estimate})`}`);
}
