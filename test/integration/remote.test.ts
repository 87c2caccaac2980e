/**
 * Remote against real repositories served by a real nginx: refs, deltas and superblocks as the
 * tools report them, Flatpak's summary.idx path, refs/heads without a summary, and the exact
 * requests made (from nginx's own access log).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isFlathubFetchError, Remote } from '../../packages/client/src/index.js';
import { fixtureSets } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const m = set.manifest.repos;

describeWithTools(['nginx'], `Remote over nginx (${set.name} fixtures)`, () => {
  let nginx: NginxServer;
  beforeAll(async () => {
    nginx = await startNginx(`${set.root}/repos`);
  });
  afterAll(async () => nginx?.stop());
  const url = (repo: string) => `${nginx.url}${repo}/`;
  const since = () => {
    const n = nginx.log().length;
    return () => nginx.log().slice(n);
  };

  test('classic summary: refs and deltas equal the manifest; requests are config, summary.idx (404), summary', async () => {
    const log = since();
    const remote = await Remote.open(url('archive'));
    try {
      expect(remote.summarySource).toBe('summary');
      expect(Object.fromEntries(remote.refs().map((r) => [r.name, r.commit]))).toEqual(m.archive?.heads);
      // config ∥ summary.idx, then summary ∥ summary.sig (404: this repository is unsigned).
      expect(
        log()
          .map((e) => [e.uri.replace('/archive/', ''), e.status])
          .sort(),
      ).toEqual([
        ['config', 200],
        ['summary', 200],
        ['summary.idx', 404],
        ['summary.sig', 404],
      ]);
      expect(remote.signature).toBeNull();
      const deltas = await remote.deltas();
      expect(deltas.map((d) => d.name).sort()).toEqual(m.archive?.deltas.map((d) => d.name).sort());
      for (const d of deltas) {
        const sb = await remote.superblock(d.from, d.to, { digest: d.digest });
        expect(sb.to).toBe(d.to);
      }
    } finally {
      await remote.close();
    }
  });

  test('Flatpak repo: summary.idx, then only the x86_64 subsummary; deltas from delta indexes', async () => {
    const log = since();
    const remote = await Remote.open(url('flatpak'), { arch: 'x86_64' });
    try {
      expect(remote.summarySource).toBe('summary.idx');
      const sub = m.flatpak?.subsummaries?.x86_64;
      expect(
        log()
          .map((e) => e.uri.replace('/flatpak/', ''))
          .sort(),
      ).toEqual(['config', 'summary.idx', 'summary.idx.sig', `summaries/${sub?.digest}.gz`].sort());
      // summary.idx.sig: OpenPGP signatures over summary.idx, from the real flatpak tools.
      expect(remote.signature?.file).toBe('summary.idx.sig');
      expect(remote.signature?.parsed.gpgSignatures.length).toBeGreaterThan(0);
      const refs = remote.refs();
      expect(refs.length).toBeGreaterThan(0);
      for (const r of refs) {
        expect(m.flatpak?.heads[r.name], r.name).toBe(r.commit);
        expect(r.name.includes('aarch64')).toBe(false);
      }
      const app = refs.find((r) => r.name.startsWith('app/'));
      expect(app?.downloadSize).toBeGreaterThan(0);
      expect(app?.installedSize).toBeGreaterThan(0);
      expect(app?.metadata).toContain('[Application]');
      const deltas = await remote.deltas();
      const expected = m.flatpak?.deltas.filter((d) => refs.some((r) => r.commit === d.to)).map((d) => d.name);
      expect(deltas.map((d) => d.name).sort()).toEqual(expected?.sort());
      expect(deltas.every((d) => d.source === 'delta-index')).toBe(true);
    } finally {
      await remote.close();
    }
  });

  test('repository without a summary: refs resolve through refs/heads/', async () => {
    const remote = await Remote.open(url('nosummary'));
    try {
      expect(remote.summarySource).toBe('none');
      expect(remote.refs()).toEqual([]);
      const [ref, commit] = Object.entries(m.nosummary?.heads ?? {})[0] as [string, string];
      const log = since();
      expect((await remote.resolve(ref)).commit).toBe(commit);
      expect(log().map((e) => [e.uri, e.status])).toEqual([[`/nosummary/refs/heads/${ref}`, 200]]);
      const err = await remote.resolve('app/does.not.Exist/x86_64/stable').catch((e: unknown) => e);
      expect(isFlathubFetchError(err, 'ERR_NOT_FOUND')).toBe(true);
      expect((err as Error).message).toContain('refs/heads/app/does.not.Exist/x86_64/stable');
    } finally {
      await remote.close();
    }
  });

  test('a superblock whose digest does not match is refused with the URL in the message', async () => {
    const remote = await Remote.open(url('archive'));
    try {
      const d = (await remote.deltas())[0];
      if (d === undefined) throw new Error('no delta');
      const err = await remote.superblock(d.from, d.to, { digest: '0'.repeat(64) }).catch((e: unknown) => e);
      expect(isFlathubFetchError(err, 'ERR_CHECKSUM_MISMATCH')).toBe(true);
      expect((err as Error).message).toContain(`${url('archive')}deltas/`);
    } finally {
      await remote.close();
    }
  });

  test('subsummary cache: a summary delta updates an older cached subsummary; unchanged costs no request', async () => {
    const sub = m.flatpak?.subsummaries?.x86_64?.digest as string;
    const deltaFile = m.flatpak?.summary_deltas?.find((f) => f.endsWith(`-${sub}.delta`));
    if (deltaFile === undefined) throw new Error('fixture lacks a summary delta to the x86_64 subsummary');
    const old = deltaFile.split('-')[0] as string;
    const cacheDir = mkdtempSync(join(tmpdir(), 'ffetch-subcache-'));
    try {
      writeFileSync(join(cacheDir, old), gunzipSync(readFileSync(join(set.repoPath('flatpak'), 'summaries', `${old}.gz`))));
      const log = since();
      const remote = await Remote.open(url('flatpak'), { arch: 'x86_64', cacheDir });
      await remote.close();
      expect(
        log()
          .map((e) => e.uri.replace('/flatpak/', ''))
          .sort(),
      ).toEqual(['config', 'summary.idx', 'summary.idx.sig', `summaries/${deltaFile}`].sort());
      expect(remote.refs().map((r) => r.commit)).toContain(m.flatpak?.heads['app/org.example.Hello/x86_64/stable']);
      const log2 = since();
      const again = await Remote.open(url('flatpak'), { arch: 'x86_64', cacheDir });
      await again.close();
      expect(
        log2()
          .map((e) => e.uri.replace('/flatpak/', ''))
          .sort(),
      ).toEqual(['config', 'summary.idx', 'summary.idx.sig']);
      expect(again.refs()).toEqual(remote.refs());
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  test('a signed classic repository: summary.sig is fetched alongside the summary and parsed', async () => {
    const remote = await Remote.open(url('signed'));
    try {
      expect(remote.signature?.file).toBe('summary.sig');
      expect(remote.signature?.parsed.gpgSignatures.length).toBeGreaterThan(0);
      // The signature is an OpenPGP packet: a new-format (0xC2) or old-format (0x88/0x89) signature tag.
      expect([0x88, 0x89, 0xc2]).toContain(remote.signature?.parsed.gpgSignatures[0]?.[0]);
      const unsigned = await Remote.open(url('archive'), { signatures: false });
      expect(unsigned.signature).toBeNull();
      await unsigned.close();
    } finally {
      await remote.close();
    }
  });
});
