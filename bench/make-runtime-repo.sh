#!/usr/bin/env bash
# make-runtime-repo.sh OUT — a runtime-sized archive repository made by the real `ostree` from real
# files of this machine, for bench/field.bench.mjs (whole-process pulls at the size of a Flatpak
# runtime). Keep OUT outside the git tree (e.g. /work/bench-data/runtime): it is ~1 GB.
#
# OUT/repo       archive repo, ref runtime/org.bench.Platform/x86_64/stable with two commits:
#                OLD  a runtime-like tree (files/…) copied from the system:
#                       files/include                  /usr/include
#                       files/lib/python3.11           /usr/lib/python3.11
#                       files/lib/python3/dist-packages /usr/lib/python3/dist-packages
#                       files/share/icons              /usr/share/icons
#                       files/share/locale             /usr/share/locale
#                       files/share/{zoneinfo,mime,perl} the same under /usr/share
#                       files/lib/x86_64-linux-gnu/perl /usr/lib/x86_64-linux-gnu/perl
#                       files/lib/x86_64-linux-gnu     LIBS shared libraries from
#                                                      /usr/lib/x86_64-linux-gnu (by name) plus
#                                                      the BIG files (default libLLVM-14.so.1 and
#                                                      libLLVM-15.so.1, 110 and 117 MB: Debian's
#                                                      libllvm14 / libllvm15)
#                HEAD OLD with an update touching ~3 % of the files: every 33rd regular file (by
#                     path, the BIG ones excepted) gets a trailer appended, 20 files are added and
#                     10 removed
#                static deltas, ostree's default parameters:
#                  from scratch to HEAD (multi-part, the BIG files and other large objects as
#                  fallbacks) and OLD → HEAD
#                summary written by `ostree summary -u` (lists both deltas)
# OUT/info.json  commits, object counts and bytes, delta parts and fallbacks
#
# OSTREE=… picks the ostree binary that builds the repository (default: `ostree` on PATH).
# Reused when OUT/info.json has the same stamp; FORCE=1 rebuilds. The file set depends on the
# machine's installed packages: info.json records what went in.
set -euo pipefail

OUT=${1:?usage: make-runtime-repo.sh OUT}
OSTREE=${OSTREE:-ostree}
LIBS=${LIBS:-248}
BIG=${BIG_FILES:-/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1 /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1}
REF=runtime/org.bench.Platform/x86_64/stable
HERE=$(cd "$(dirname "$0")" && pwd)
STAMP="v2 libs=$LIBS big=$BIG"

# shellcheck source=lib/repo-facts.sh
. "$HERE/lib/repo-facts.sh"
reuse_if_built make-runtime-repo "$OUT" "$STAMP" "$OSTREE"
nbig=0
for f in $BIG; do
  if [ ! -f "$f" ] || [ "$(stat -c %s "$f")" -lt 100000000 ]; then
    echo "make-runtime-repo: $f is missing or under 100 MB (set BIG_FILES to two files of 100+ MB)" >&2
    exit 1
  fi
  nbig=$((nbig + 1))
done
[ "$nbig" -ge 2 ] || {
  echo "make-runtime-repo: BIG_FILES needs two files of 100+ MB" >&2
  exit 1
}

start_out "$OUT"

# ---- the tree ----
mkdir -p "$TREE/files/lib/python3" "$TREE/files/share" "$TREE/files/lib/x86_64-linux-gnu"
cp -a /usr/include "$TREE/files/include"
cp -a /usr/lib/python3.11 "$TREE/files/lib/python3.11"
cp -a /usr/lib/python3/dist-packages "$TREE/files/lib/python3/dist-packages"
cp -a /usr/share/icons "$TREE/files/share/icons"
cp -a /usr/share/locale "$TREE/files/share/locale"
cp -a /usr/share/zoneinfo "$TREE/files/share/zoneinfo"
cp -a /usr/share/mime "$TREE/files/share/mime"
cp -a /usr/share/perl "$TREE/files/share/perl"
cp -a /usr/lib/x86_64-linux-gnu/perl "$TREE/files/lib/x86_64-linux-gnu/perl"
big_names=" "
for f in $BIG; do big_names="$big_names$(basename "$f") "; done
# (Lists go through files: `head` on a pipe would fail the pipeline under pipefail.)
find /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -name '*.so*' -printf '%f\n' | LC_ALL=C sort >"$OUT/libs.txt"
picked=0
while read -r n; do
  case "$big_names" in *" $n "*) continue ;; esac
  [ "$picked" -lt "$LIBS" ] || break
  cp -a "/usr/lib/x86_64-linux-gnu/$n" "$TREE/files/lib/x86_64-linux-gnu/"
  picked=$((picked + 1))
done <"$OUT/libs.txt"
for f in $BIG; do cp -a "$f" "$TREE/files/lib/x86_64-linux-gnu/"; done
# Bytecode caches are rewritten whenever Python runs: leave them out so the tree is stable.
find "$TREE" -name __pycache__ -type d -prune -exec rm -rf {} +
printf '[Runtime]\nname=org.bench.Platform\narch=x86_64\nbranch=stable\n' >"$TREE/metadata"

"$OSTREE" init --repo="$R" --mode=archive
commit() { # $1 = timestamp, $2 = version
  "$OSTREE" commit --repo="$R" --branch="$REF" --tree=dir="$TREE" --owner-uid=0 --owner-gid=0 --no-xattrs \
    --timestamp="$1" --add-metadata-string=version="$2" -s "bench runtime $2" >/dev/null
  "$OSTREE" rev-parse --repo="$R" "$REF"
}
OLD=$(commit "2025-03-01 12:00:00 +0000" 1.0)
NFILES=$(find "$TREE" -type f | wc -l)

# ---- the update: ~3 % of the regular files changed, 20 added, 10 removed ----
find "$TREE/files" -type f | LC_ALL=C sort >"$OUT/files.txt"
CHANGED=0
while read -r f; do
  case "$big_names" in *" $(basename "$f") "*) continue ;; esac
  # Append after breaking any hard link inside the tree (cp -a keeps those of the source).
  cp -p "$f" "$f.new" && printf '\n/* org.bench.Platform 1.1 */\n' >>"$f.new" && mv "$f.new" "$f"
  CHANGED=$((CHANGED + 1))
done < <(awk 'NR % 33 == 0' "$OUT/files.txt")
mkdir -p "$TREE/files/share/doc/bench-1.1"
i=0
while read -r f; do
  case "$big_names" in *" $(basename "$f") "*) continue ;; esac
  i=$((i + 1))
  cp -p "$f" "$TREE/files/share/doc/bench-1.1/added-$i"
done < <(awk 'NR % 997 == 5 && ++n <= 20' "$OUT/files.txt")
while read -r f; do
  case "$big_names" in *" $(basename "$f") "*) continue ;; esac
  rm -f "$f"
done < <(awk 'NR % 1999 == 11 && ++n <= 10' "$OUT/files.txt")
HEAD=$(commit "2025-04-01 12:00:00 +0000" 1.1)

"$OSTREE" static-delta generate --repo="$R" --empty --to="$HEAD" >"$OUT/static-delta-scratch.log" 2>&1
"$OSTREE" static-delta generate --repo="$R" --from="$OLD" --to="$HEAD" >"$OUT/static-delta-from.log" 2>&1
"$OSTREE" summary --repo="$R" -u
rm -rf "$TREE" "$OUT/files.txt" "$OUT/libs.txt" "$R/tmp"/* "$R/.lock"
T1=$(date +%s.%N)

# ---- facts ----
show_deltas "$OSTREE" "$OUT" "$OLD" "$HEAD"
NPARTS=$(delta_field "$SCRATCH_SHOW" 'Number of parts')
NFALLBACK=$(delta_field "$SCRATCH_SHOW" 'Number of fallback entries')
FPARTS=$(delta_field "$FROM_SHOW" 'Number of parts')
FFALLBACK=$(delta_field "$FROM_SHOW" 'Number of fallback entries')
NOBJ=$(find "$R/objects" -type f | wc -l)
if [ "$NOBJ" -lt 20000 ]; then
  echo "make-runtime-repo: only $NOBJ objects (want ≥ 20,000)" >&2
  exit 1
fi
D_ALL=$(files_json deltas)
BIG_JSON=$(for f in $BIG; do printf '"%s": %s,' "$(basename "$f")" "$(stat -c %s "$f")"; done)
cat >"$OUT/info.json" <<EOF
{
  "stamp": "$STAMP",
  "ostree": "$("$OSTREE" --version | sed -n "s/.*Version: '\([^']*\)'.*/\1/p")",
  "ref": "$REF",
  "old": "$OLD",
  "head": "$HEAD",
  "oldFiles": $NFILES,
  "changedFiles": $CHANGED,
  "big": { ${BIG_JSON%,} },
  "objects": { "total": $NOBJ, "commit": $(count commit), "dirtree": $(count dirtree), "dirmeta": $(count dirmeta), "filez": $(count filez) },
  "objectBytes": $(du -sb "$R/objects" | cut -f1),
  "scratch": { "parts": $NPARTS, "fallbacks": $NFALLBACK },
  "from": { "parts": $FPARTS, "fallbacks": $FFALLBACK },
  "deltaFiles": { ${D_ALL%,} },
  "buildSeconds": $(awk "BEGIN { printf \"%.1f\", $T1 - $T0 }")
}
EOF
echo "make-runtime-repo: $R: $NOBJ objects; scratch delta $NPARTS parts + $NFALLBACK fallbacks; OLD → HEAD $FPARTS parts + $FFALLBACK fallbacks ($CHANGED files changed)" >&2
