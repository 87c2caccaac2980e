# Sourced by the bench/make-*.sh scripts: reusing or starting the output directory, and the
# facts their info.json records, read from the repository $R.

# reuse_if_built NAME OUT STAMP [OSTREE]: ends the script when OUT/info.json records STAMP (a
# build with the same parameters; FORCE=1 rebuilds anyway); fails when OSTREE (default ostree)
# is not installed.
reuse_if_built() {
  if [ -z "${FORCE:-}" ] && [ -f "$2/info.json" ] && grep -qF "\"stamp\": \"$3\"" "$2/info.json"; then
    echo "$1: reusing $2 ($3)" >&2
    exit 0
  fi
  command -v "${4:-ostree}" >/dev/null 2>&1 || {
    echo "$1: ${4:-ostree} is not installed" >&2
    exit 1
  }
}

# start_out OUT: empties OUT; sets R (OUT/repo), TREE (OUT/tree) and T0 (start time).
start_out() {
  rm -rf "$1"
  mkdir -p "$1"
  R="$1/repo"
  TREE="$1/tree"
  T0=$(date +%s.%N)
}

# show_deltas OSTREE OUT OLD HEAD: `static-delta show` of the scratch and the OLD → HEAD delta,
# kept in OUT/static-delta-{scratch,from}.show; sets SCRATCH_SHOW and FROM_SHOW.
show_deltas() {
  SCRATCH_SHOW=$("$1" static-delta show --repo="$R" "$4")
  FROM_SHOW=$("$1" static-delta show --repo="$R" "$3-$4")
  printf '%s\n' "$SCRATCH_SHOW" >"$2/static-delta-scratch.show"
  printf '%s\n' "$FROM_SHOW" >"$2/static-delta-from.show"
}

# delta_field TEXT NAME: the number after "NAME: " in a `static-delta show` output.
delta_field() { printf '%s\n' "$1" | sed -n "s/^$2: \([0-9]*\).*/\1/p"; }

# count EXT: loose objects of that kind.
count() { find "$R/objects" -name "*.$1" | wc -l; }

# files_json DIR (under the repo): "relative path": size, … (trailing comma).
files_json() {
  find "$R/$1" -type f | sort | while read -r p; do printf '"%s": %s,' "${p#"$R"/}" "$(stat -c %s "$p")"; done
}
