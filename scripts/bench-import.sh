#!/usr/bin/env bash
# Benchmark of the in-process import against a baseline on the same archive:
# extract it with tar (the outer tar, then each repository's metadata and
# objects tars) and run `git fsck --connectivity-only` on each repository.
#
#   scripts/bench-import.sh [ARCHIVE]
#
# Without ARCHIVE, one of 500 repositories and 20,000 pull requests is
# generated (5 projects x 50 origins, 1 fork each, 40 pull requests per
# repository). Prints both times, their ratio (target <= 1.5), pull
# requests per second and the importer's peak resident memory.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/bbimport-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
bin="$work/bbimport"
(cd "$repo" && go build -o "$bin" .)

archive=${1:-}
if [[ -z "$archive" ]]; then
	archive="$work/bench.tar"
	echo "generating $archive ..."
	"$bin" gen --out "$archive" --projects 5 --repos 50 --forks 1 --prs 40 --seed 7 >/dev/null
fi
archive=$(cd "$(dirname "$archive")" && pwd)/$(basename "$archive")
size=$(stat -c %s "$archive")

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

now() { date +%s.%N; }

# Baseline: what an admin would do by hand with tar and git.
base="$work/baseline"
mkdir -p "$base/x" "$base/repos"
t0=$(now)
tar -xf "$archive" -C "$base/x"
repos=0
for objects in "$base"/x/*_git/repositories/*/contents/objects.atl.tar; do
	rid=$(basename "$(dirname "$(dirname "$objects")")")
	dir="$base/repos/$rid"
	mkdir -p "$dir/objects"
	tar -xzf "$(dirname "$(dirname "$objects")")/metadata/metadata.atl.tar.atl.gz" -C "$dir"
	tar -xf "$objects" -C "$dir/objects"
	meta=$(ls "$base"/x/*_metadata/project_*/repository_"$rid".json.atl.gz)
	if origin=$(zcat "$meta" | grep -o '"originId":"[0-9]*"' | grep -o '[0-9]\+'); then
		mkdir -p "$dir/objects/info"
		echo "../../$origin/objects" >"$dir/objects/info/alternates"
	fi
	repos=$((repos + 1))
done
tx=$(now)
for dir in "$base"/repos/*; do
	git --git-dir="$dir" -c core.hooksPath=/dev/null fsck --connectivity-only --no-progress --no-dangling
done
t1=$(now)
rm -rf "$base"

# The import, in-process, as an admin runs it.
home="$work/home"
mkdir -p "$home/shared/data/migration/import"
ln "$archive" "$home/shared/data/migration/import/bench.tar" 2>/dev/null ||
	cp "$archive" "$home/shared/data/migration/import/bench.tar"
t2=$(now)
/usr/bin/time -f '%M' -o "$work/rss" "$bin" --home "$home" import bench.tar >/dev/null
t3=$(now)
prs=$("$bin" --home "$home" messages 1 --severity INFO | grep -o '[0-9]* pull request(s) imported' | tail -1 | grep -o '^[0-9]*')

awk -v size="$size" -v repos="$repos" -v prs="$prs" -v b="$(echo "$t1 - $t0" | bc)" -v x="$(echo "$tx - $t0" | bc)" \
	-v i="$(echo "$t3 - $t2" | bc)" -v rss="$(cat "$work/rss")" 'BEGIN {
	printf "archive:  %.1f MiB, %d repositories, %d pull requests\n", size/1048576, repos, prs
	printf "baseline: %.2f s (tar -x: %.2f s, git fsck --connectivity-only per repository: %.2f s)\n", b, x, b - x
	printf "import:   %.2f s (bbimport import)\n", i
	printf "ratio:    %.2f (target <= 1.5)\n", i/b
	printf "pull requests per second: %.0f (over the whole import)\n", prs/i
	printf "peak RSS: %.0f MiB\n", rss/1024
}'
