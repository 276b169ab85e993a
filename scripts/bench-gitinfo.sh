#!/usr/bin/env bash
# Compares gitinfo's version walk (scripts/walk: Open + Tags + Log from HEAD
# to the reachable tags) with what git needs for the same answer
# (`git describe --tags --abbrev=0` then `git log TAG..HEAD`), on generated
# histories of 100,000 and 300,000 commits with 1,000 release tags, the last
# one 100 commits behind HEAD. Needs git and hyperfine.
#
#   scripts/bench-gitinfo.sh [WORKDIR]     (default: $TMPDIR/release-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-${TMPDIR:-/tmp}/release-bench}
mkdir -p "$work"
go build -o "$work/genrepo" ./scripts/genrepo
go build -o "$work/walk" ./scripts/walk

for commits in 100000 300000; do
  for graph in false true; do
    repo="$work/h$commits-graph-$graph"
    [ -d "$repo/.git" ] || "$work/genrepo" -out "$repo" -commits "$commits" -tags 1000 -since-tag 100 -commit-graph="$graph" >/dev/null
    tag=$(git -C "$repo" describe --tags --abbrev=0)
    # Same commits, same order as git.
    if ! diff <("$work/walk" "$repo" 2>/dev/null) <(git -C "$repo" log --date-order --format='%H %s' "$tag..HEAD") >/dev/null; then
      echo "MISMATCH between gitinfo and git log on $repo" >&2
      exit 1
    fi
    echo "== $commits commits, commit-graph $graph, $(git -C "$repo" rev-list --count "$tag..HEAD") commits since $tag"
    hyperfine -N --warmup 3 --runs 30 --style basic \
      -n gitinfo "$work/walk -q $repo" \
      -n "git describe + git log" "sh -c 'git -C $repo log --format=%H%x00%B \$(git -C $repo describe --tags --abbrev=0)..HEAD >/dev/null'" \
      2>&1 | grep -E '^(Benchmark|  Time|  Range)|ran$|times faster' || true
    for cmd in "$work/walk -q $repo" "git -C $repo describe --tags --abbrev=0" "git -C $repo log --format=%H%x00%B $tag..HEAD"; do
      # shellcheck disable=SC2086 # $cmd is a command line: split into its words on purpose
      rss=$(/usr/bin/time -f %M $cmd 2>&1 >/dev/null | tail -1)
      echo "peak RSS ${rss} KiB: $cmd"
    done
  done
done
