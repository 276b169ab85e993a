#!/usr/bin/env bash
# Times `release version` against what git needs for the same answer
# (`git describe --tags --abbrev=0` followed by `git log TAG..HEAD`), in the
# same run, on generated histories (never committed) of 100,000 and 300,000
# commits with merges and 1,000 release tags, the last one 100 commits behind
# HEAD; prints the ratio and the peak memory of each. Needs git and hyperfine.
#
#   scripts/bench-version.sh [WORKDIR]     (default: $TMPDIR/release-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-${TMPDIR:-/tmp}/release-bench}
mkdir -p "$work"
go build -o "$work/genrepo" ./scripts/genrepo
go build -trimpath -o "$work/release" ./cmd/release

mean() { # hyperfine JSON export → mean seconds of command $2
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["mean"])' "$1" "$2"
}

for commits in 100000 300000; do
  repo="$work/h$commits-graph-false"
  [ -d "$repo/.git" ] || "$work/genrepo" -out "$repo" -commits "$commits" -tags 1000 -since-tag 100 >/dev/null
  tag=$(git -C "$repo" describe --tags --abbrev=0)
  since=$(git -C "$repo" rev-list --count "$tag..HEAD")
  echo "== $commits commits, 1000 tags, $since commits since $tag"
  "$work/release" version --repo "$repo" --quiet
  # The pipeline as a script runs it (one sh), and each git command alone (no sh: what
  # git itself costs, the stricter comparison).
  hyperfine -N --warmup 3 --runs 40 --style basic --export-json "$work/v$commits.json" \
    -n "release version" "$work/release version --repo $repo --quiet" \
    -n "git describe + git log" "sh -c 'git -C $repo log --format=%H%x00%B \$(git -C $repo describe --tags --abbrev=0)..HEAD >/dev/null'" \
    -n "git describe alone" "git -C $repo describe --tags --abbrev=0" \
    -n "git log alone" "git -C $repo log --format=%H%x00%B $tag..HEAD" \
    2>&1 | grep -E '^(Benchmark|  Time)' || true
  r=$(mean "$work/v$commits.json" 0); g=$(mean "$work/v$commits.json" 1)
  d=$(mean "$work/v$commits.json" 2); l=$(mean "$work/v$commits.json" 3)
  python3 -c "import sys; r,g,d,l=map(float,sys.argv[1:]); print(f'ratio release/git: {r/g:.2f}x  ({r*1000:.1f} ms vs {g*1000:.1f} ms); against the two git commands alone, no sh: {r/(d+l):.2f}x ({(d+l)*1000:.1f} ms)')" "$r" "$g" "$d" "$l"
  for cmd in "$work/release version --repo $repo --quiet" "git -C $repo describe --tags --abbrev=0" "git -C $repo log --format=%H%x00%B $tag..HEAD"; do
    # shellcheck disable=SC2086 # $cmd is a command line: split into its words on purpose
    rss=$(/usr/bin/time -f %M $cmd 2>&1 >/dev/null | tail -1)
    echo "peak RSS $((rss / 1024)) MiB: ${cmd#"$work/"}"
  done
done
