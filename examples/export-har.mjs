#!/usr/bin/env node
// Pull a ref and save every HTTP attempt as HAR 1.2 (open it in a browser's dev tools).
//   node examples/export-har.mjs URL REF REPO_DIR OUT.har
import { writeFile } from 'node:fs/promises';
import { buildReport, pull, toHAR } from '@flathub-fetch/client';

const [url, ref, repo, out] = process.argv.slice(2);
if (!url || !ref || !repo || !out) {
  console.error('usage: export-har.mjs URL REF REPO_DIR OUT.har');
  process.exit(2);
}
const result = await pull({ url, ref, repo });
const har = toHAR(buildReport(result));
await writeFile(out, `${JSON.stringify(har, null, 2)}\n`);
console.log(`${har.log.entries.length} requests written to ${out}`);
