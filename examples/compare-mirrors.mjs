#!/usr/bin/env node
// Compare mirrors with a primary repository and print each mirror's verdict per check, with the
// first failing evidence. Exits 1 when a mirror fails.
//   node examples/compare-mirrors.mjs PRIMARY_URL MIRROR_URL...
import { checkMirrors } from '@flathub-fetch/client';

const [primary, ...mirrors] = process.argv.slice(2);
if (primary === undefined || mirrors.length === 0) {
  console.error('usage: compare-mirrors.mjs PRIMARY_URL MIRROR_URL...');
  process.exit(2);
}
const result = await checkMirrors({
  primary,
  mirrors,
  sample: 10,
  onEvent: (e) => {
    if (e.type === 'mirror-done') console.error(`checked ${e.url}: ${e.report.performance.requests} requests`);
  },
});
for (const m of result.mirrors) {
  console.log(`${m.url} ${m.status}`);
  for (const c of m.checks) {
    const bad = c.evidence.find((e) => e.status === 'fail');
    console.log(`  ${c.name}: ${c.status}${bad ? ` — ${bad.what}: expected ${bad.expected}, got ${bad.got}` : ''}`);
  }
}
process.exitCode = result.status === 'fail' ? 1 : 0;
