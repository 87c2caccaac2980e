/**
 * The library's shape, checked on its sources: imports only run downward through the layers
 * (gvariant → formats → http, repo, trust → remote → pull → api, diagnostics → mirrors, install →
 * report → exporter; errors from anywhere), with no import cycle — type-only imports included — and the
 * CLI uses nothing but the library's public entry points.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { expect, test } from 'vitest';
import { REPO_ROOT } from './support/fixtures.js';

const SRC = join(REPO_ROOT, 'packages', 'client', 'src');
const RANK: Record<string, number> = {
  errors: 0,
  gvariant: 1,
  formats: 2,
  http: 3,
  repo: 3,
  trust: 3,
  remote: 4,
  pull: 5,
  api: 6,
  diagnostics: 6,
  mirrors: 7,
  install: 7,
  report: 8,
  exporter: 9,
  testing: 9,
};

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** Relative imports and re-exports of a file (type-only ones too), as repository paths. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)) {
    out.push(normalize(join(dirname(file), (m[1] as string).replace(/\.js$/, '.ts'))));
  }
  return out;
}

const layerOf = (file: string) => {
  const rel = relative(SRC, file);
  return rel.includes('/') ? (rel.split('/')[0] as string) : null;
};

test('every library directory has a layer, and imports only run downward (siblings do not import each other)', () => {
  const wrong: string[] = [];
  for (const file of sources(SRC)) {
    const from = layerOf(file);
    if (from === null) continue;
    expect(RANK[from], `${from}/ has no layer here`).toBeDefined();
    for (const target of imports(file)) {
      const to = layerOf(target);
      if (to === null || to === from) continue;
      if ((RANK[to] ?? 99) >= (RANK[from] ?? -1)) wrong.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
    }
  }
  expect(wrong).toEqual([]);
});

test('no import cycle among the library modules, type-only imports included', () => {
  const graph = new Map(sources(SRC).map((f) => [f, imports(f)]));
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (!graph.has(g)) continue;
      if (state.get(g) === 'open')
        cycles.push(
          stack
            .slice(stack.indexOf(g))
            .map((x) => relative(SRC, x))
            .join(' → '),
        );
      else if (state.get(g) === undefined) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  expect(cycles).toEqual([]);
});

test('the CLI imports the library only through its package name', () => {
  const cli = join(REPO_ROOT, 'packages', 'cli', 'src');
  const reaching: string[] = [];
  for (const file of sources(cli)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from\s+'([^']+)'/g)) {
      const spec = m[1] as string;
      if (
        spec.includes('packages/client') ||
        spec.includes('../client/') ||
        /^@flathub-fetch\/client\/(?!formats$|gvariant$|testing$)/.test(spec)
      )
        reaching.push(`${relative(cli, file)}: ${spec}`);
    }
  }
  expect(reaching).toEqual([]);
});
