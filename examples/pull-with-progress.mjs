#!/usr/bin/env node
// Pull a ref into a local archive repository with a simple progress line.
//   node examples/pull-with-progress.mjs URL REF REPO_DIR
import { pull } from '@flathub-fetch/client';

const [url, ref, repo] = process.argv.slice(2);
if (!url || !ref || !repo) {
  console.error('usage: pull-with-progress.mjs URL REF REPO_DIR');
  process.exit(2);
}
const result = await pull({
  url,
  ref,
  repo,
  onEvent(e) {
    if (e.type === 'plan') console.error(`plan: ${e.plan.strategy} (${e.plan.reason})`);
    if (e.type === 'progress') {
      const { bytes, objects } = e.progress;
      process.stderr.write(`\r${e.progress.phase}: ${bytes.done}/${bytes.total} bytes, ${objects.done}/${objects.total} objects`);
    }
  },
});
process.stderr.write('\n');
console.log(`${result.commit}: ${result.requests.length} requests, strategy ${result.strategy}`);
