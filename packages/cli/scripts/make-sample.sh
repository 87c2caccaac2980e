#!/usr/bin/env bash
# make-sample.sh OUTDIR — the sample repository embedded in the CLI (`flathub-fetch demo`),
# made by the real tools: `flatpak build-export` of two releases of an app with many small files
# (as a real app is: hundreds to thousands of objects), then `flatpak build-update-repo
# --generate-static-deltas`, which writes the summary.idx, subsummaries, delta indexes and the
# from-scratch and release-to-release deltas the way Flathub's flat-manager does.
#
# Files are tiny (a few hundred bytes) so the CLI package stays small while the object count —
# what makes a pull without deltas slow — is Flathub-like. Content and commit timestamps are
# fixed, so the commits are the same on every run. The repository is not GPG-signed (signing
# would need a key whose signatures change every run).
#
# needs: flatpak ostree python3   (Debian 12: flatpak 1.14, ostree 2022.7)
set -euo pipefail
OUT=${1:?usage: make-sample.sh OUTDIR}
for tool in flatpak ostree python3; do
  command -v "$tool" >/dev/null || { echo "make-sample.sh: missing $tool" >&2; exit 1; }
done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export HOME=$WORK/home XDG_DATA_HOME=$WORK/data XDG_CACHE_HOME=$WORK/cache XDG_CONFIG_HOME=$WORK/config
export FLATPAK_USER_DIR=$WORK/flatpak-user FLATPAK_SYSTEM_DIR=$WORK/flatpak-system
mkdir -p "$HOME"

# An app tree: DIRS directories of FILES small text files each; release 2 changes every 12th
# file and adds a directory (an update touches a small part of an app, as on Flathub).
build_tree() { # build_tree DIR RELEASE
  python3 - "$1" "$2" <<'PY'
import hashlib, os, sys
root, release = sys.argv[1], int(sys.argv[2])
DIRS, FILES = 24, 32
def text(name, rev):
    h = hashlib.sha256(f"{name}@{rev}".encode()).hexdigest()
    return f"# {name} (release {rev})\n" + "\n".join(h[i:i + 16] for i in range(0, 64, 16)) + "\n"
n = 0
for d in range(DIRS + (1 if release >= 2 else 0)):
    base = os.path.join(root, "files", "share", "hello", f"module{d:02d}")
    os.makedirs(base, exist_ok=True)
    for f in range(FILES):
        n += 1
        rev = 2 if (release >= 2 and (n % 12 == 0 or d == DIRS)) else 1
        with open(os.path.join(base, f"part{f:02d}.txt"), "w") as fh:
            fh.write(text(f"module{d:02d}/part{f:02d}", rev))
os.makedirs(os.path.join(root, "files", "bin"), exist_ok=True)
with open(os.path.join(root, "files", "bin", "hello"), "w") as fh:
    fh.write(f"#!/bin/sh\necho 'Hello from the flathub-fetch sample, release 1.{release}'\n")
os.chmod(os.path.join(root, "files", "bin", "hello"), 0o755)
with open(os.path.join(root, "metadata"), "w") as fh:
    fh.write("[Application]\nname=org.example.Hello\nruntime=org.example.Platform/x86_64/1\nsdk=org.example.Platform/x86_64/1\n")
PY
}

REPO=$WORK/repo
ostree --repo="$REPO" init --mode=archive-z2
for release in 1 2; do
  d=$WORK/build$release
  build_tree "$d" "$release"
  flatpak build-finish --command=hello --share=network "$d" >/dev/null
  flatpak build-export --arch=x86_64 --timestamp="2024-03-0${release}T12:00:00Z" --subject="Hello 1.$release" \
    --disable-sandbox --no-update-summary "$REPO" "$d" stable >/dev/null
done
SOURCE_DATE_EPOCH=$(date -u -d 2024-03-02T12:30:00Z +%s) flatpak build-update-repo --generate-static-deltas \
  --static-delta-jobs=1 --title="flathub-fetch sample" --default-branch=stable "$REPO" >/dev/null
rm -rf "$REPO/.lock" "$REPO/tmp" "$REPO/refs/remotes" "$REPO/refs/mirrors" "$REPO/state" "$REPO/extensions"
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
cp -a "$REPO" "$OUT"
echo "make-sample.sh: $(find "$OUT/objects" -type f | wc -l) objects, $(find "$OUT/deltas" -name superblock | wc -l) deltas, $(du -sh --apparent-size "$OUT" | cut -f1) in $OUT" >&2
