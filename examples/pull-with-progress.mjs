#!/usr/bin/env node
// Pull a ref into a local archive repository with a progress bar on stderr.
//   node examples/pull-with-progress.mjs URL REF REPO_DIR
import { pull } from '@flathub-fetch/client';

const [url, ref, repo] = process.argv.slice(2);
if (!url || !ref || !repo) {
  console.error('usage: pull-with-progress.mjs URL REF REPO_DIR');
  process.exit(2);
}
const bar = (done, total, width = 30) => {
  const fill = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0;
  return `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}]`;
};
const result = await pull({
  url,
  ref,
  repo,
  onEvent(e) {
    if (e.type === 'plan') console.error(`plan: ${e.plan.strategy} (${e.plan.reason})`);
    if (e.type === 'progress') {
      const { phase, bytes, objects, retries } = e.progress;
      process.stderr.write(
        `\r${phase.padEnd(9)} ${bar(bytes.done, bytes.total)} ${bytes.done}/${bytes.total} bytes, ${objects.done}/${objects.total} objects, ${retries} retries`,
      );
    }
  },
});
process.stderr.write('\n');
console.log(`${result.commit}: ${result.requests.length} requests, strategy ${result.strategy}`);
