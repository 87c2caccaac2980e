// Decode and verify every loose object of a repository (bench/lib/verify.mjs) vs `ostree fsck`.
//
// Repos: the committed fixtures `archive` and `flatpak` (copied to bench/out/repos first:
// ostree writes .lock and tmp/ even to read) and bench/make-big-repo.sh's ~3,000-object repo.
// `ostree fsck` does more than we do (it also walks every commit's tree, checks dirtree
// references, ref bindings and writes nothing); we only check each object against its name.
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, loadClient, measure, measureCmd, measureTask, OUT, ROOT, reps, row, runStandalone } from './lib/harness.mjs';
import { listObjects, verifyAllLocalRepo, verifyAllSync, verifyCommits } from './lib/verify.mjs';

function fixtureCopy(name) {
  const dest = join(OUT, 'repos', name);
  if (!existsSync(join(dest, 'config'))) {
    mkdirSync(join(OUT, 'repos'), { recursive: true });
    cpSync(join(ROOT, 'test', 'fixtures', 'data', 'repos', name), dest, { recursive: true });
  }
  mkdirSync(join(dest, 'refs', 'remotes'), { recursive: true });
  mkdirSync(join(dest, 'tmp'), { recursive: true });
  return dest;
}

export default async function bench() {
  const big = ensureBuilt('make-big-repo.sh', join(OUT, 'big-repo'));
  const repos = [
    { name: 'fixture archive', path: fixtureCopy('archive'), r: { warmup: 3, reps: 9 } },
    { name: 'fixture flatpak', path: fixtureCopy('flatpak'), r: { warmup: 3, reps: 9 } },
    { name: `generated (${big.tree.files} files)`, path: join(OUT, 'big-repo', 'repo'), r: { warmup: 1, reps: 5 }, big: true },
  ];
  const client = await loadClient();
  const rows = [];
  const input = {};
  const notes = [];
  /** Runs one measurement; a failure (the library is a moving target) becomes a note, not a crash. */
  const attempt = async (what, fn) => {
    try {
      return await fn();
    } catch (err) {
      notes.push(`${what} not measured: ${String(err.message ?? err).split('\n')[0]}`);
      return null;
    }
  };
  for (const repo of repos) {
    const objects = listObjects(repo.path);
    const counts = verifyAllSync(client, repo.path);
    input[repo.name] = { objects: objects.length, ...counts };
    const n = counts.commit + counts.dirtree + counts.dirmeta + counts.filez;
    const mbContent = (counts.contentBytes / 1e6).toFixed(1);
    const fsck = measureCmd('ostree', ['fsck', `--repo=${repo.path}`], reps(repo.r));
    const ref = { label: 'ostree fsck', median: fsck.median, min: fsck.min, rssKb: fsck.rssKb };
    const fewer = reps({ warmup: 1, reps: 3 });

    const sync = await measure(() => verifyAllSync(client, repo.path), reps(repo.r));
    rows.push(
      row(
        `${repo.name}: ${n} objects, ${mbContent} MB content — formats API, each object once, warm`,
        { label: 'readFileSync+parse+sha256', median: sync.median, min: sync.min },
        ref,
        'in-process, after warm-up, one thread; reference is a whole process',
      ),
    );
    if (repo.big) {
      const p = measureTask('verify-objects', [repo.path], fewer);
      rows.push(
        row(
          `${repo.name} — formats API, whole process`,
          { label: 'node task.mjs verify-objects', median: p.median, min: p.min, rssKb: p.rssKb },
          ref,
          `start + import + verify + exit (cold verify alone ${p.op.median.toFixed(0)} ms)`,
        ),
      );
    }
    const vc = await attempt(`${repo.name}: LocalRepo.verifyCommit`, async () => {
      const once = await verifyCommits(client, repo.path);
      return { once, m: await measure(() => verifyCommits(client, repo.path), reps(repo.r)) };
    });
    if (vc) {
      rows.push(
        row(
          `${repo.name} — LocalRepo.verifyCommit, every commit, warm`,
          { label: 'verifyCommit', median: vc.m.median, min: vc.m.min },
          ref,
          `the library's fsck: tree walk, content on worker threads; ${vc.once.commits} commits, ${vc.once.objects} object checks (shared objects once per commit)`,
        ),
      );
      const p = await attempt(`${repo.name}: verify-commits process`, () => measureTask('verify-commits', [repo.path], fewer));
      if (p) {
        rows.push(
          row(
            `${repo.name} — LocalRepo.verifyCommit, whole process`,
            { label: 'node task.mjs verify-commits', median: p.median, min: p.min, rssKb: p.rssKb },
            ref,
            `start + import + verify + exit (cold verify alone ${p.op.median.toFixed(0)} ms)`,
          ),
        );
      }
    }
    const local = await attempt(`${repo.name}: LocalRepo read*()`, () => measure(() => verifyAllLocalRepo(client, repo.path), fewer));
    if (local) {
      rows.push(
        row(
          `${repo.name} — LocalRepo read*() per object, warm`,
          { label: 'readCommit/readDirTree/readDirMeta/readContent', median: local.median, min: local.min },
          ref,
          'one awaited fs/promises readFile per object, one after another',
        ),
      );
    }
  }
  return {
    name: 'objects',
    title: 'decode + verify every loose object vs ostree fsck',
    input,
    rows,
    notes: [
      'ostree fsck walks every commit tree and checks each reachable object once; the formats-API row checks each loose object against its name, nothing more',
      ...notes,
    ],
  };
}

await runStandalone(import.meta.url, bench);
