#!/usr/bin/env node
// Show the static deltas a remote offers for its refs, with parts and fallbacks from each superblock.
//   node examples/show-deltas.mjs [URL] [ARCH]
import { Remote } from '@flathub-fetch/client';

const url = process.argv[2] ?? 'https://dl.flathub.org/repo/';
const remote = await Remote.open(url, { arch: process.argv[3] ?? 'x86_64' });
try {
  for (const d of await remote.deltas()) {
    const sb = await remote.superblock(d.from, d.to, { digest: d.digest });
    const bytes = sb.parts.reduce((n, p) => n + p.size, 0);
    console.log(
      `${d.from === null ? 'scratch' : d.from.slice(0, 12)} -> ${d.to.slice(0, 12)}: ${sb.parts.length} parts, ${bytes} bytes, ${sb.fallbacks.length} fallbacks`,
    );
  }
} finally {
  await remote.close();
}
