#!/usr/bin/env bash
# Benchmark of the in-process import against two baselines on the same
# archive. Both extract it with tar (the outer tar, then each repository's
# metadata and objects tars), then run on each repository either
# `git fsck --connectivity-only` (refs resolve, nothing missing) or
# `git fsck --full` (also every object's bytes match its name, which is what
# the import verifies).
#
#   scripts/bench-import.sh [ARCHIVE]
#
# Without ARCHIVE, one of 500 repositories and 20,000 pull requests is
# generated (5 projects x 50 origins, 1 fork each, 40 pull requests per
# repository). A modest one, 100 repositories of which the 50 origins are
# packed (over 600 objects each) and the forks loose:
#
#   go run . gen --out /tmp/bench100.tar --projects 2 --repos 25 --forks 1 \
#       --prs 40 --commits 100 --seed 7
#   scripts/bench-import.sh /tmp/bench100.tar
#
# Prints the times, the ratios (targets: <= 1.5 against the connectivity
# baseline, <= 0.6 against the full one), pull requests per second and the
# runner's peak resident memory. The import's wall time runs from the
# command's start to the job's end date; its CPU time is the command's plus
# what the runner logs as it ends (its own and its git processes').
set -euo pipefail

# shellcheck source=bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

archive=${1:-}
if [[ -z "$archive" ]]; then
	archive="$work/bench.tar"
	echo "generating $archive ..."
	"$bin" gen --out "$archive" --projects 5 --repos 50 --forks 1 --prs 40 --seed 7 >/dev/null
fi
archive=$(cd "$(dirname "$archive")" && pwd)/$(basename "$archive")
size=$(stat -c %s "$archive")

# phase NAME CMD...: runs CMD and writes "<wall> <cpu>" seconds to
# $work/NAME, the CPU time (user + system, children included) being what
# still compares on a machine shared with other work.
phase() {
	local name=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	{ time "$@" 2>&3; } 3>&2 2>"$work/$name.cpu"
	t1=$(date +%s.%N)
	echo "$(echo "$t1 - $t0" | bc) $(awk '{print $1 + $2}' "$work/$name.cpu")" >"$work/$name"
}
TIMEFORMAT='%3U %3S'

# Baselines: what an admin would do by hand with tar and git.
base="$work/baseline"
mkdir -p "$base/x" "$base/repos"
extract() {
	tar -xf "$archive" -C "$base/x"
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
	done
}
fsck_each() {
	for dir in "$base"/repos/*; do
		git --git-dir="$dir" -c core.hooksPath=/dev/null fsck "$@" --no-progress --no-dangling
	done
}
phase extract extract
repos=$(find "$base/repos" -mindepth 1 -maxdepth 1 | wc -l)
phase connectivity fsck_each --connectivity-only
phase full fsck_each --full
rm -rf "$base"

# The import, in-process, as an admin runs it.
home="$work/home"
mkdir -p "$home/shared/data/migration/import"
ln "$archive" "$home/shared/data/migration/import/bench.tar" 2>/dev/null ||
	cp "$archive" "$home/shared/data/migration/import/bench.tar"
# Detached, so that the runner's CPU and memory are read from its log
# (await_job), all of them: a runner ending after the command that waits
# for it is nobody's child, and no time(1) sees it.
t0=$(date +%s%3N)
phase start "$bin" --home "$home" import bench.tar --detach --json >"$work/id"
await_job import "$home" "$(jq -r .id "$work/id")"
read -r _ sc <"$work/start"
awk -v ms=$((end - t0)) -v sc="$sc" -v cpu="$cpu" 'BEGIN { printf "%.3f %.3f\n", ms / 1000, sc + cpu }' >"$work/import"
prs=$(jq .counts.pullRequests "$work/job")

read -r xw xc <"$work/extract"
read -r cw cc <"$work/connectivity"
read -r fw fc <"$work/full"
read -r iw ic <"$work/import"
awk -v size="$size" -v repos="$repos" -v prs="$prs" -v xw="$xw" -v xc="$xc" -v cw="$cw" -v cc="$cc" \
	-v fw="$fw" -v fc="$fc" -v iw="$iw" -v ic="$ic" -v rss="$rss" 'BEGIN {
	printf "archive:  %.1f MiB, %d repositories, %d pull requests\n", size/1048576, repos, prs
	printf "                                      wall s    CPU s\n"
	printf "tar -x                              %8.2f %8.2f\n", xw, xc
	printf "git fsck --connectivity-only each   %8.2f %8.2f\n", cw, cc
	printf "git fsck --full each                %8.2f %8.2f\n", fw, fc
	printf "baseline (tar -x + connectivity)    %8.2f %8.2f\n", xw + cw, xc + cc
	printf "full (tar -x + fsck --full)         %8.2f %8.2f\n", xw + fw, xc + fc
	printf "bbimport import (every object)      %8.2f %8.2f\n", iw, ic
	printf "ratio to baseline: %.2f wall, %.2f CPU (target <= 1.5)\n", iw/(xw + cw), ic/(xc + cc)
	printf "ratio to full:     %.2f wall, %.2f CPU (target <= 0.6)\n", iw/(xw + fw), ic/(xc + fc)
	printf "pull requests per second: %.0f (over the whole import)\n", prs/iw
	printf "peak RSS: %.0f MiB\n", rss/1024
}'
