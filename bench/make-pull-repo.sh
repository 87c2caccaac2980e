#!/usr/bin/env bash
# make-pull-repo.sh OUT — the repository the pull benchmark serves, made by the real `ostree`.
#
# OUT/repo       archive repo, ref bench/pull with two commits:
#                OLD  a deterministic tree from bench/lib/gen-tree.mjs (SMALL small files, 12
#                     files of 1–3 MiB, symlinks) plus one 12,000,000-byte incompressible file
#                     (big/blob.bin): ~3,200 objects
#                HEAD OLD with a small change: 40 small files rewritten, 10 added, 5 removed
#                and the static deltas
#                  from scratch to HEAD  --max-chunk-size=32 (MB, ostree's default) and
#                                        --min-fallback-size=8 (MB): exactly 2 parts and 1
#                                        fallback (the 12 MB blob, served loose as .filez)
#                  OLD → HEAD            default parameters (one small part)
#                summary written by `ostree summary -u` (lists both deltas; no summary.idx)
# OUT/info.json  commits, object counts, delta parts and fallbacks with their sizes
#
# The script checks the shape (2 parts, 1 fallback in the scratch delta) and fails otherwise.
# Reused when OUT/info.json exists with the same parameters; FORCE=1 rebuilds.
set -euo pipefail

OUT=${1:?usage: make-pull-repo.sh OUT}
SMALL=${SMALL_FILES:-2990}
LARGE=${LARGE_FILES:-12}
CHUNK=${MAX_CHUNK_MB:-32}
FALLBACK=${MIN_FALLBACK_MB:-8}
STAMP="v1 small=$SMALL large=$LARGE chunk=$CHUNK fallback=$FALLBACK"
HERE=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=lib/repo-facts.sh
. "$HERE/lib/repo-facts.sh"
reuse_if_built make-pull-repo "$OUT" "$STAMP"

start_out "$OUT"
TREE_INFO=$(node "$HERE/lib/gen-tree.mjs" "$TREE" "$SMALL" "$LARGE")
# The fallback: one incompressible 12 MB file (its .filez is ~12 MB too).
node --input-type=module -e "
  import { mkdirSync, writeFileSync } from 'node:fs';
  import { random } from '$HERE/lib/gen.mjs';
  mkdirSync('$TREE/big', { recursive: true });
  writeFileSync('$TREE/big/blob.bin', random(12_000_000, 777));
"
ostree init --repo="$R" --mode=archive
commit() { # $1 = timestamp, $2 = version
  ostree commit --repo="$R" --branch=bench/pull --tree=dir="$TREE" --owner-uid=0 --owner-gid=0 --no-xattrs \
    --timestamp="$1" --add-metadata-string=version="$2" -s "bench pull $2"
}
OLD=$(commit "2024-03-01 12:00:00 +0000" 1.0)

# The small change between OLD and HEAD.
node --input-type=module -e "
  import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
  import { join } from 'node:path';
  import { content } from '$HERE/lib/gen.mjs';
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && statSync(p).size < 30000) files.push(p);
    }
  };
  walk('$TREE');
  for (let i = 0; i < 40; i++) {
    const f = files[(i * 73) % files.length];
    writeFileSync(f, content('text', 2000 + i * 150, 900000 + i));
  }
  for (let i = 0; i < 10; i++) writeFileSync(join('$TREE', 'share', 'doc', 'new' + i + '.txt'), content('code', 3000 + i * 500, 910000 + i));
  for (let i = 0; i < 5; i++) rmSync(files[(i * 131 + 7) % files.length], { force: true });
"
HEAD=$(commit "2024-04-01 12:00:00 +0000" 1.1)

ostree static-delta generate --repo="$R" --empty --to="$HEAD" --max-chunk-size="$CHUNK" --min-fallback-size="$FALLBACK" \
  >"$OUT/static-delta-scratch.log" 2>&1
ostree static-delta generate --repo="$R" --from="$OLD" --to="$HEAD" >"$OUT/static-delta-from.log" 2>&1
ostree summary --repo="$R" -u
rm -rf "$TREE" "$R/tmp"/* "$R/.lock"
T1=$(date +%s.%N)

# Shape check and facts, from `ostree static-delta show`.
show_deltas ostree "$OUT" "$OLD" "$HEAD"
NPARTS=$(delta_field "$SCRATCH_SHOW" 'Number of parts')
NFALLBACK=$(delta_field "$SCRATCH_SHOW" 'Number of fallback entries')
if [ "$NPARTS" != 2 ] || [ "$NFALLBACK" != 1 ]; then
  echo "make-pull-repo: the scratch delta has $NPARTS parts and $NFALLBACK fallbacks (want 2 and 1); adjust MAX_CHUNK_MB / MIN_FALLBACK_MB" >&2
  exit 1
fi

D_ALL=$(files_json deltas)
cat >"$OUT/info.json" <<EOF
{
  "stamp": "$STAMP",
  "ref": "bench/pull",
  "old": "$OLD",
  "head": "$HEAD",
  "tree": $TREE_INFO,
  "objects": { "commit": $(count commit), "dirtree": $(count dirtree), "dirmeta": $(count dirmeta), "filez": $(count filez) },
  "objectBytes": $(du -sb "$R/objects" | cut -f1),
  "scratch": { "parts": $NPARTS, "fallbacks": $NFALLBACK },
  "deltaFiles": { ${D_ALL%,} },
  "buildSeconds": $(awk "BEGIN { printf \"%.1f\", $T1 - $T0 }")
}
EOF
echo "make-pull-repo: $R: $(find "$R/objects" -type f | wc -l) objects; scratch delta $NPARTS parts, $NFALLBACK fallback" >&2
