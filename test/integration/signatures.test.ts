/**
 * OpenPGP verification agrees with the real ostree: good, BAD and unknown-key signatures on the
 * summary (`ostree remote summary` with gpg-verify-summary=true) and on commits (`ostree show
 * --gpg-homedir`); `pull --verify` accepts the good one and exits 3 on the others.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  GpgKeyring,
  objectPath,
  ObjectType,
  parseDetachedMetadata,
  parseSummary,
  type SignatureVerdict,
  sha256Hex,
  verifyGpgSignatures,
} from '../../packages/client/src/index.js';
import { COMMITTED_FIXTURES, fixtureSets, REPO_ROOT } from '../support/fixtures.js';
import { copyRepo, ostree } from '../support/ostree.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const BIN = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const SIGNED = 'app/org.example.Signed/x86_64/stable';

describeWithTools(['ostree', 'gpg'], 'signatures agree with ostree', () => {
  const variants = ['good', 'bad', 'unknown-key'] as const;
  const repos: Record<string, string> = {};
  let keyring: GpgKeyring;
  let local: string;
  let keyringDir: string;
  let head: string;
  const other = join(COMMITTED_FIXTURES, 'repos', 'signed'); // signed by the committed set's key: another key than the generated set's

  beforeAll(async () => {
    keyring = await GpgKeyring.from([readFileSync(join(set.root, 'gpg', 'pubkey.gpg'))]);
    head = set.manifest.repos.signed?.heads[SIGNED] as string;
    const parent = set.manifest.repos.signed?.refs[SIGNED]?.[0] as string;
    for (const v of variants) repos[v] = copyRepo(set.repoPath('signed'));
    const meta = (repo: string, c: string) => join(repo, objectPath(c, ObjectType.COMMIT_META));
    const replace = (from: string, to: string) => {
      rmSync(to);
      copyFileSync(from, to);
    };
    // bad: signatures by the right key over other data (the flatpak summary's, the parent commit's)
    replace(join(set.repoPath('flatpak'), 'summary.sig'), join(repos.bad as string, 'summary.sig'));
    replace(meta(repos.bad as string, parent), meta(repos.bad as string, head));
    // unknown key: signatures by another key
    replace(join(other, 'summary.sig'), join(repos['unknown-key'] as string, 'summary.sig'));
    replace(meta(other, head), meta(repos['unknown-key'] as string, head));
    local = copyRepo(set.repoPath('archive'));
    keyringDir = mkdtempSync(join(tmpdir(), 'ffetch-keyring-'));
    copyFileSync(join(set.root, 'gpg', 'pubkey.gpg'), join(keyringDir, 'pubkey.gpg'));
  });
  afterAll(() => rmSync(keyringDir, { recursive: true, force: true }));

  const ostreeVerdict = (text: string): SignatureVerdict =>
    /Good signature/.test(text)
      ? 'good'
      : /BAD signature/.test(text)
        ? 'bad'
        : /public key not found/.test(text)
          ? 'unknown-key'
          : 'unsigned';

  test.each(variants)('summary.sig, %s: ours and ostree remote summary agree', async (v) => {
    const repo = repos[v] as string;
    expect(set.manifest.gpg.key_id === JSON.parse(readFileSync(join(COMMITTED_FIXTURES, 'manifest.json'), 'utf8')).gpg.key_id).toBe(false);
    const ours = await verifyGpgSignatures(
      readFileSync(join(repo, 'summary')),
      parseDetachedMetadata(readFileSync(join(repo, 'summary.sig'))).gpgSignatures,
      keyring,
    );
    ostree([
      'remote',
      'add',
      `--repo=${local}`,
      '--set=gpg-verify-summary=true',
      `--gpg-import=${join(set.root, 'gpg', 'pubkey.gpg')}`,
      v,
      `file://${repo}`,
    ]);
    const r = spawnSync('ostree', ['remote', 'summary', `--repo=${local}`, v], { encoding: 'utf8' });
    expect(ours.verdict).toBe(v);
    expect(ostreeVerdict(r.stdout + r.stderr)).toBe(v);
    expect(r.status === 0 && !/error:/.test(r.stderr)).toBe(v === 'good');
    if (v !== 'unknown-key') expect(ours.signatures[0]?.keyId).toBe(set.manifest.gpg.key_id);
    if (v === 'good') expect(r.stdout).toContain(`key ID ${ours.good?.keyId}`);
  });

  test.each(variants)('commit signature, %s: ours and ostree show agree', async (v) => {
    const repo = repos[v] as string;
    const commit = readFileSync(join(repo, objectPath(head, ObjectType.COMMIT)));
    expect(sha256Hex(commit)).toBe(head);
    const ours = await verifyGpgSignatures(
      commit,
      parseDetachedMetadata(readFileSync(join(repo, objectPath(head, ObjectType.COMMIT_META)))).gpgSignatures,
      keyring,
    );
    // ostree prints the signature time in local time: make that UTC.
    const text = execFileSync('ostree', ['show', `--repo=${repo}`, `--gpg-homedir=${keyringDir}`, head], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    });
    expect(ours.verdict).toBe(v);
    expect(ostreeVerdict(text)).toBe(v);
    if (v === 'good') {
      const made = /Signature made (.+) using/.exec(text)?.[1] as string;
      expect(new Date(`${made} UTC`).toISOString()).toBe(ours.good?.created);
    }
  });

  test('the Flatpak repository: summary.sig, summary.idx.sig and summaries/<sha256(idx)>.idx.sig are good; xa.gpg-keys is the key', async () => {
    const repo = set.repoPath('flatpak');
    const idx = readFileSync(join(repo, 'summary.idx'));
    for (const [data, sig] of [
      ['summary', 'summary.sig'],
      ['summary.idx', 'summary.idx.sig'],
      ['summary.idx', `summaries/${sha256Hex(idx)}.idx.sig`],
    ] as const) {
      const check = await verifyGpgSignatures(
        readFileSync(join(repo, data)),
        parseDetachedMetadata(readFileSync(join(repo, sig))).gpgSignatures,
        keyring,
      );
      expect(check.verdict, sig).toBe('good');
      expect(check.good?.fingerprint).toBe(set.manifest.gpg.fingerprint);
    }
    const embedded = parseSummary(readFileSync(join(repo, 'summary'))).gpgKeys;
    expect((await GpgKeyring.from([embedded as Uint8Array])).describe()[0]?.fingerprint).toBe(set.manifest.gpg.fingerprint);
  });

  test('pull --verify: good pulls and reports the key; BAD or unknown-key signatures exit 3 and write no ref', () => {
    const key = join(set.root, 'gpg', 'pubkey.asc');
    for (const v of variants) {
      const dest = join(mkdtempSync(join(tmpdir(), 'ffetch-verify-')), 'repo');
      const r = spawnSync(process.execPath, [BIN, 'pull', `file://${repos[v]}/`, SIGNED, '--repo', dest, '--verify', '--gpg-key', key], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      if (v === 'good') {
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain(`signatures: summary.sig good signature from ${set.manifest.gpg.key_id}`);
        expect(readFileSync(join(dest, 'refs', 'remotes', 'origin', SIGNED), 'utf8').trim()).toBe(head);
      } else {
        expect(r.status, r.stderr).toBe(3);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain(v === 'bad' ? 'BAD signature from' : 'signed by unknown key');
        expect(() => readFileSync(join(dest, 'refs', 'remotes', 'origin', SIGNED))).toThrow();
      }
    }
    const noKey = spawnSync(process.execPath, [BIN, 'pull', `file://${repos.good}/`, SIGNED, '--repo', '/tmp/x', '--verify'], {
      encoding: 'utf8',
    });
    expect(noKey.status).toBe(2);
  });

  test('an unsigned repository fails pull --verify with exit 3', () => {
    const dest = join(mkdtempSync(join(tmpdir(), 'ffetch-verify-')), 'repo');
    mkdirSync(dest, { recursive: true });
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        'pull',
        `file://${set.repoPath('archive')}/`,
        'app/org.example.Hello/x86_64/stable',
        '--repo',
        dest,
        '--verify',
        '--gpg-key',
        join(set.root, 'gpg', 'pubkey.gpg'),
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/summary signature \(file:.*summary\.sig\): no signature/);
  });
});
