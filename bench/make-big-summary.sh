#!/usr/bin/env bash
# make-big-summary.sh OUT — a Flathub-sized OSTree summary, made by the real tools.
#
# OUT/repo      archive repository: a few dozen real commits (`ostree commit`), thousands of
#               refs written directly as refs/heads/<ref> files pointing at them
# OUT/summary   copy of OUT/repo/summary
# OUT/info.json size, ref count, how it was made
#
# Ref mix per "app" (APPS of them, default 2250): app/ID/{x86_64,aarch64}/stable plus its
# .Locale and .Debug runtime extensions on both arches — 6 refs per app, like Flathub — and
# RUNTIMES (default 60) runtimes × 2 arches × 2 branches with large metadata. The commits carry Flatpak's commit
# metadata (xa.metadata keyfiles of realistic size and shape, some end-of-life and token-type keys).
#
# The summary is written by `flatpak build-update-repo` when flatpak is installed (that is
# what Flathub runs: per-ref timestamps, xa.cache with every ref's metadata keyfile,
# xa.sparse-cache, summary.idx + subsummaries); otherwise by `ostree summary -u` with the same
# refs (per-ref timestamp and version only: smaller, noted in info.json).
#
# Deterministic apart from timestamps (ostree.summary.last-modified). Reused when
# OUT/info.json exists and was made with the same parameters; FORCE=1 rebuilds.
set -euo pipefail

OUT=${1:?usage: make-big-summary.sh OUT}
APPS=${APPS:-2250}
RUNTIMES=${RUNTIMES:-60}
TOOL=${SUMMARY_TOOL:-}
if [ -z "$TOOL" ]; then
  if command -v flatpak >/dev/null 2>&1; then TOOL=flatpak; else TOOL=ostree; fi
fi
STAMP="v2 apps=$APPS runtimes=$RUNTIMES tool=$TOOL"

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/repo-facts.sh
. "$HERE/lib/repo-facts.sh"
reuse_if_built make-big-summary "$OUT" "$STAMP"

rm -rf "$OUT"
mkdir -p "$OUT"
R="$OUT/repo"
W="$OUT/work"
ostree init --repo="$R" --mode=archive
mkdir -p "$W"
T0=$(date +%s.%N)

# --- metadata keyfiles --------------------------------------------------------------------
app_metadata() { # $1 = variant number
  local n=$1
  printf '[Application]\nname=org.example.App%05d\nruntime=org.freedesktop.Platform/x86_64/23.08\nsdk=org.freedesktop.Sdk/x86_64/23.08\ncommand=example-app-%d\n\n' "$n" "$n"
  printf '[Context]\nshared=network;ipc;\nsockets=x11;wayland;pulseaudio;fallback-x11;\ndevices=dri;\n'
  if [ $((n % 3)) -eq 0 ]; then printf 'filesystems=xdg-download;xdg-music:ro;xdg-pictures;~/.local/share/example-%d:create;\n' "$n"; fi
  printf '\n[Session Bus Policy]\norg.freedesktop.Notifications=talk\norg.kde.StatusNotifierWatcher=talk\n'
  if [ $((n % 2)) -eq 0 ]; then printf 'org.freedesktop.secrets=talk\norg.mpris.MediaPlayer2.example%d=own\n' "$n"; fi
  printf '\n[Environment]\nGTK_USE_PORTAL=1\n'
  local e
  for e in $(seq 1 $((n % 5))); do
    printf '\n[Extension org.example.App%05d.Plugin%d]\ndirectory=extensions/plugin%d\nversion=stable\nsubdirectories=true\nno-autodownload=true\nautodelete=true\n' "$n" "$e" "$e"
  done
  printf '\n[Extension org.example.App%05d.Locale]\ndirectory=share/runtime/locale\nautodelete=true\nlocale-subset=true\n' "$n"
  printf '\n[Extension org.example.App%05d.Debug]\ndirectory=lib/debug\nautodelete=true\nno-autodownload=true\n' "$n"
  printf '\n[Build]\nbuilt-extensions=org.example.App%05d.Locale;org.example.App%05d.Debug;\n' "$n" "$n"
}

runtime_metadata() { # $1 = variant number
  local n=$1
  printf '[Runtime]\nname=org.example.Platform%d\nruntime=org.example.Platform%d/x86_64/%d.08\nsdk=org.example.Sdk%d/x86_64/%d.08\n\n' "$n" "$n" "$((20 + n))" "$n" "$((20 + n))"
  printf '[Environment]\nGI_TYPELIB_PATH=/app/lib/girepository-1.0\nGST_PLUGIN_SYSTEM_PATH=/app/lib/gstreamer-1.0:/usr/lib/extensions/gstreamer-1.0:/usr/lib/x86_64-linux-gnu/gstreamer-1.0\nXDG_DATA_DIRS=/app/share:/usr/share:/usr/share/runtime/share:/run/host/user-share:/run/host/share\n'
  local e
  for e in GL GL32 VAAPI Locale Debug Codecs ffmpeg-full openh264 Icontheme Theme Vulkan Compat.i386 GL.Debug GL32.Debug; do
    printf '\n[Extension org.example.Platform%d.%s]\ndirectory=lib/%s\nversion=%d.08\nversions=%d.08;%d.08-extra;1.4\nsubdirectories=true\nno-autodownload=true\nautodelete=false\nadd-ld-path=lib\nmerge-dirs=vulkan/icd.d;glvnd/egl_vendor.d;OpenCL/vendors;lib/dri;lib/d3d;vulkan/explicit_layer.d\ndownload-if=active-gl-driver\nenable-if=active-gl-driver\n' \
      "$n" "$e" "$e" "$((20 + n))" "$((20 + n))" "$((20 + n))"
  done
}

extension_metadata() { # $1 = Locale|Debug
  printf '[Runtime]\nname=org.example.App.%s\nruntime=org.freedesktop.Platform/x86_64/23.08\nsdk=org.freedesktop.Sdk/x86_64/23.08\n\n[ExtensionOf]\nref=app/org.example.App/x86_64/stable\npriority=-1\n' "$1"
}

# --- commits --------------------------------------------------------------------------------
# One small tree per commit (a `metadata` file and files/…), a fixed timestamp each.
commit() { # $1 = branch, $2 = metadata file, $3.. = extra ostree commit args
  local branch=$1 md=$2
  shift 2
  local d="$W/tree"
  rm -rf "$d"
  mkdir -p "$d/files/bin" "$d/files/share"
  cp "$md" "$d/metadata"
  printf '#!/bin/sh\necho %s\n' "$branch" >"$d/files/bin/run"
  chmod 0755 "$d/files/bin/run"
  head -c 2000 "$md" >"$d/files/share/notes.txt"
  ostree commit --repo="$R" --branch="$branch" --tree=dir="$d" --owner-uid=0 --owner-gid=0 --no-xattrs \
    --timestamp="2024-0$((VARIANT % 9 + 1))-1$((VARIANT % 9)) 12:00:00 +0000" \
    --add-metadata-string=xa.metadata="$(cat "$md")" --add-metadata-string=version="1.$VARIANT.0" \
    -s "$branch" "$@" >/dev/null
}

APP_VARIANTS=24
RT_VARIANTS=6
for v in $(seq 0 $((APP_VARIANTS - 1))); do
  app_metadata "$v" >"$W/app$v.md"
  VARIANT=$v
  extra=()
  # End-of-life and token-type keys end up in Flatpak's xa.sparse-cache.
  if [ $((v % 8)) -eq 7 ]; then
    extra+=("--add-metadata-string=ostree.endoflife=This application is no longer maintained; use org.example.Successor$v instead.")
    extra+=("--add-metadata-string=ostree.endoflife-rebase=org.example.Successor$v")
  fi
  if [ $((v % 6)) -eq 5 ]; then extra+=("--add-metadata=xa.token-type=int32 1"); fi
  commit "app/org.example.Variant$v/x86_64/stable" "$W/app$v.md" "${extra[@]}"
done
for v in $(seq 0 $((RT_VARIANTS - 1))); do
  runtime_metadata "$v" >"$W/rt$v.md"
  VARIANT=$v
  commit "runtime/org.example.Variant$v/x86_64/stable" "$W/rt$v.md"
done
for x in Locale Debug; do
  extension_metadata "$x" >"$W/$x.md"
  VARIANT=3
  commit "runtime/org.example.Variant.$x/x86_64/stable" "$W/$x.md"
done

# --- refs -------------------------------------------------------------------------------------
# Written directly: a ref file is "<checksum>\n". The variant commits' own refs are removed.
declare -a APPC RTC
for v in $(seq 0 $((APP_VARIANTS - 1))); do APPC[v]=$(cat "$R/refs/heads/app/org.example.Variant$v/x86_64/stable"); done
for v in $(seq 0 $((RT_VARIANTS - 1))); do RTC[v]=$(cat "$R/refs/heads/runtime/org.example.Variant$v/x86_64/stable"); done
LOC=$(cat "$R/refs/heads/runtime/org.example.Variant.Locale/x86_64/stable")
DBG=$(cat "$R/refs/heads/runtime/org.example.Variant.Debug/x86_64/stable")
rm -rf "$R/refs/heads/app" "$R/refs/heads/runtime"

H="$R/refs/heads"
{
  for i in $(seq -f '%05g' 1 "$APPS"); do
    for a in x86_64 aarch64; do
      printf '%s\n' "$H/app/org.example.App$i/$a" "$H/runtime/org.example.App$i.Locale/$a" "$H/runtime/org.example.App$i.Debug/$a"
    done
  done
  for i in $(seq 1 "$RUNTIMES"); do
    for a in x86_64 aarch64; do printf '%s\n' "$H/runtime/org.example.Platform$i/$a"; done
  done
} | xargs mkdir -p
n=0
for i in $(seq 1 "$APPS"); do
  id=$(printf 'org.example.App%05d' "$i")
  c=${APPC[i % APP_VARIANTS]}
  for a in x86_64 aarch64; do
    echo "$c" >"$H/app/$id/$a/stable"
    echo "$LOC" >"$H/runtime/$id.Locale/$a/stable"
    echo "$DBG" >"$H/runtime/$id.Debug/$a/stable"
    n=$((n + 3))
  done
done
for i in $(seq 1 "$RUNTIMES"); do
  for a in x86_64 aarch64; do
    for b in 23.08 24.08; do
      echo "${RTC[i % RT_VARIANTS]}" >"$H/runtime/org.example.Platform$i/$a/$b"
      n=$((n + 1))
    done
  done
done

# --- summary ----------------------------------------------------------------------------------
if [ "$TOOL" = flatpak ]; then
  flatpak build-update-repo --no-update-appstream --title="Example Hub" --comment="A Flathub-sized test repository" "$R" >/dev/null
else
  ostree summary --repo="$R" -u -m xa.title="'Example Hub'" -m xa.comment="'A Flathub-sized test repository'"
fi
cp "$R/summary" "$OUT/summary"
rm -rf "$W"
T1=$(date +%s.%N)

SIZE=$(stat -c %s "$OUT/summary")
REFS=$(ostree refs --repo="$R" | wc -l)
cat >"$OUT/info.json" <<EOF
{
  "stamp": "$STAMP",
  "tool": "$TOOL",
  "apps": $APPS,
  "runtimes": $RUNTIMES,
  "refs": $REFS,
  "refFilesWritten": $n,
  "commits": $((APP_VARIANTS + RT_VARIANTS + 2)),
  "summaryBytes": $SIZE,
  "buildSeconds": $(awk "BEGIN { printf \"%.1f\", $T1 - $T0 }")
}
EOF
echo "make-big-summary: $OUT/summary: $SIZE bytes, $REFS refs ($TOOL)" >&2
