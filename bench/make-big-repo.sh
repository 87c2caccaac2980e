#!/usr/bin/env bash
# make-big-repo.sh OUT — a bigger archive repository made by the real `ostree`, for the
# object and delta benchmarks.
#
# OUT/repo       archive repo: one commit (ref bench/big) of a deterministic tree from
#                bench/lib/gen-tree.mjs (~2,800 small files, 12 files of 1–3 MiB, symlinks:
#                ~3,000 objects, ~30 MB), and its from-scratch static delta made by
#                `ostree static-delta generate` with default parameters (xz parts)
# OUT/info.json  object counts, sizes, delta parts
#
# Reused when OUT/info.json exists with the same parameters; FORCE=1 rebuilds.
set -euo pipefail

OUT=${1:?usage: make-big-repo.sh OUT}
SMALL=${SMALL_FILES:-2800}
LARGE=${LARGE_FILES:-12}
STAMP="v1 small=$SMALL large=$LARGE"
HERE=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=lib/repo-facts.sh
. "$HERE/lib/repo-facts.sh"
reuse_if_built make-big-repo "$OUT" "$STAMP"

start_out "$OUT"
TREE_INFO=$(node "$HERE/lib/gen-tree.mjs" "$OUT/tree" "$SMALL" "$LARGE")
ostree init --repo="$R" --mode=archive
COMMIT=$(ostree commit --repo="$R" --branch=bench/big --tree=dir="$OUT/tree" --owner-uid=0 --owner-gid=0 --no-xattrs \
  --timestamp="2024-03-01 12:00:00 +0000" --add-metadata-string=version=1.0 -s "bench tree")
ostree static-delta generate --repo="$R" --empty bench/big >"$OUT/static-delta-generate.log" 2>&1
ostree summary --repo="$R" -u
rm -rf "$OUT/tree" "$R/tmp"/* "$R/.lock"
T1=$(date +%s.%N)

PARTS=$(find "$R/deltas" -type f -not -name superblock | sort)
PART_JSON=$(for p in $PARTS; do printf '"%s": %s,' "${p#"$R"/}" "$(stat -c %s "$p")"; done)
cat >"$OUT/info.json" <<EOF
{
  "stamp": "$STAMP",
  "commit": "$COMMIT",
  "tree": $TREE_INFO,
  "objects": { "commit": $(count commit), "dirtree": $(count dirtree), "dirmeta": $(count dirmeta), "filez": $(count filez) },
  "objectBytes": $(du -sb "$R/objects" | cut -f1),
  "deltaParts": { ${PART_JSON%,} },
  "buildSeconds": $(awk "BEGIN { printf \"%.1f\", $T1 - $T0 }")
}
EOF
echo "make-big-repo: $R: $(find "$R/objects" -type f | wc -l) objects, delta parts: $(echo "$PARTS" | wc -w)" >&2
