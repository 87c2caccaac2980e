/**
 * What an update pull (a from-revision delta from a complete local commit) reads of the local
 * repository, seen by strace on the CLI: only the objects it deals with (the delta's, the
 * commits', the sources its parts read), each looked up by itself — no `objects/XX` directory
 * listed when fewer than PREFIX_READ_FROM of its objects are asked about, no scan of `objects/`
 * — and no dirtree the delta did not bring (no walk of the commit after a delta applied in full,
 * as libostree), while the result is still the complete commit (`ostree fsck`, checkout).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { pull } from '../../packages/client/src/index.js';
import { ObjectType, parseDeltaSuperblock } from '../../packages/client/src/formats/index.js';
import { PREFIX_READ_FROM } from '../../packages/client/src/repo/ObjectIndex.js';
import { CLI_BIN } from '../support/cli.js';
import { fixtureSets } from '../support/fixtures.js';
import { useFixtureNginx } from '../support/fixtureNginx.js';
import { checkout, fsck, treeManifest } from '../support/ostree.js';
import { describeWithTools, toolPath } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const m = set.manifest.repos;
const APP = 'app/org.example.Hello/x86_64/stable';

/** Checksums of the objects a delta's superblock lists (parts and fallbacks), by type. */
function deltaObjects(superblock: string): Array<{ type: ObjectType; checksum: string }> {
  const sb = parseDeltaSuperblock(new Uint8Array(readFileSync(superblock)));
  return [...sb.parts.flatMap((p) => p.objects), ...sb.fallbacks];
}

/** `XXrest.ext` of every loose object in a repository (the checksum with its extension). */
function objectNames(repo: string): string[] {
  const dir = join(repo, 'objects');
  return readdirSync(dir).flatMap((d) => readdirSync(join(dir, d)).map((f) => `${d}${f}`));
}

describeWithTools(['nginx', 'ostree', 'strace'], 'update pull: the local repository work it does', () => {
  const { url, newRepo, server } = useFixtureNginx(set, 'ffetch-update-work-');

  test("lists no object directory, looks up no object but the repository's and the delta's, reads no dirtree the delta did not bring", async () => {
    const [, a2, a3] = (m.archive?.refs[APP] ?? []) as [string, string, string];
    const d23 = m.archive?.deltas.find((d) => d.from === a2 && d.to === a3);
    const scratch = m.archive?.deltas.find((d) => d.from === null && d.to === a3);
    if (d23 === undefined || scratch === undefined) throw new Error('fixture lacks the deltas to the head commit');
    const repo = newRepo('update');
    await pull({ url: url('archive'), ref: `${APP}@${a2}`, repo, repoMode: 'bare-user-only' });
    const before = objectNames(repo);
    const fromDelta = deltaObjects(join(set.repoPath('archive'), d23.superblock));
    // The dirtrees of the target that the delta does not carry (unchanged since a2): a walk of
    // the commit would read them.
    const brought = new Set(fromDelta.map((o) => o.checksum));
    const unchanged = deltaObjects(join(set.repoPath('archive'), scratch.superblock))
      .filter((o) => o.type === ObjectType.DIR_TREE && !brought.has(o.checksum))
      .map((o) => o.checksum);
    expect(unchanged.length).toBeGreaterThan(0);
    // Every objects/XX directory exists after the first pull, none with PREFIX_READ_FROM of the
    // delta's objects: the update looks each object up by itself. It needs the objects held
    // before (delta sources, the source commit), the ones it writes, and the commits the
    // deltas offered to the target start from (is one of them held?).
    expect(readdirSync(join(repo, 'objects'))).toHaveLength(256);
    const perPrefix = new Map<string, number>();
    for (const o of fromDelta) perPrefix.set(o.checksum.slice(0, 2), (perPrefix.get(o.checksum.slice(0, 2)) ?? 0) + 1);
    expect(Math.max(...perPrefix.values())).toBeLessThan(PREFIX_READ_FROM);
    const sources = (m.archive?.deltas ?? []).filter((d) => d.to === a3 && d.from !== null).map((d) => d.from as string);
    const needed = new Set([...before.map((n) => n.split('.')[0] as string), ...fromDelta.map((o) => o.checksum), a3, ...sources]);

    const trace = join(newRepo('strace'));
    execFileSync(
      toolPath('strace') as string,
      [
        '-f',
        '-qq',
        '-y',
        '-e',
        'trace=openat,stat,lstat,newfstatat,statx,getdents64',
        '-o',
        trace,
        process.execPath,
        CLI_BIN,
        'pull',
        url('archive'),
        APP,
        '--repo',
        repo,
      ],
      { stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } },
    );
    const calls = readFileSync(trace, 'utf8')
      .split('\n')
      // A path argument, or (getdents64, with -y) the directory of the descriptor listed.
      .map((l) => /(openat|stat|lstat|newfstatat|statx|getdents64)\((?:AT_FDCWD(?:<[^>]*>)?, |\d+)?[<"]([^">]+)[">]/.exec(l))
      .filter((x): x is RegExpExecArray => x?.[2]?.startsWith(join(repo, 'objects/')) === true)
      .map((x) => ({ call: x[1] as string, path: (x[2] as string).slice(join(repo, 'objects/').length) }));
    // No objects/XX directory listed; the object files looked up or read are needed ones.
    expect(calls.filter((c) => c.call === 'getdents64' && /^[0-9a-f]{2}$/.test(c.path))).toEqual([]);
    const objects = calls
      .filter((c) => /^[0-9a-f]{2}\/[0-9a-f]{62}\./.test(c.path))
      .map((c) => c.path.replace('/', '').split('.')[0] as string);
    expect(objects.length).toBeGreaterThan(0);
    expect([...new Set(objects)].filter((c) => !needed.has(c))).toEqual([]);
    const dirtreesRead = calls.filter((c) => c.path.endsWith('.dirtree')).map((c) => c.path.replace('/', '').replace('.dirtree', ''));
    expect(dirtreesRead.filter((c) => unchanged.includes(c))).toEqual([]);

    expect(readFileSync(join(repo, 'refs', 'remotes', 'origin', APP), 'utf8').trim()).toBe(a3);
    expect(readdirSync(join(repo, 'state'))).toEqual([]);
    expect(fsck(repo)).toContain('Verifying content integrity');
    expect(treeManifest(checkout(repo, a3))).toEqual(treeManifest(checkout(server('archive'), a3)));
  });
});
