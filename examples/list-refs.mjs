#!/usr/bin/env node
// List the refs of a remote with their commits and Flatpak download sizes.
//   node examples/list-refs.mjs [URL] [ARCH]
import { Remote } from '@flathub-fetch/client';

const url = process.argv[2] ?? 'https://dl.flathub.org/repo/';
const remote = await Remote.open(url, { arch: process.argv[3] ?? 'x86_64' });
try {
  console.log(`${remote.url} (${remote.summarySource})`);
  for (const ref of remote.refs()) {
    console.log(`${ref.name}\t${ref.commit.slice(0, 12)}\t${ref.downloadSize ?? '-'} bytes`);
  }
} finally {
  await remote.close();
}
