#!/usr/bin/env bash
# Does the import stay flat as the instance grows? Generates two archives
# with the same pull requests per repository, SMALL and LARGE repositories,
# imports each into a fresh home with the real binary (the detached runner,
# as an admin runs it), and prints per size: repositories and pull requests
# per second (wall and CPU), the runner's peak RSS, database bytes per pull
# request, and the ratios LARGE/SMALL (target: rates within 20%, RSS under
# 100 MB). The wall time runs from the command's start to the job's end
# date; the CPU time (the runner's and its git processes') and the peak RSS
# are what the runner logs as it ends. Then a cancel in the middle of the
# LARGE import: the time from `cancel` to CANCELED against one
# repository's and one pull request's time.
#
#   scripts/bench-scale.sh [SMALL LARGE]        # repositories; default 500 10000
#
# Environment: PRS pull requests per repository (default 100), COMMITS
# commits per origin (default 5), KEEP=dir keeps the archives there (and
# reuses those already made with the same options), BBIMPORT_CPUPROFILE=dir
# writes each runner's CPU profile there (import-SIZE.pprof), BIN=file uses
# that bbimport binary instead of building one, CANCEL=N cancels an import
# of N repositories instead of LARGE (a tenth of LARGE's pull requests
# first is a long wait at 10,000).
# A size of N repositories is N/2 origins with one fork each, in projects
# of at most 50 origins: a multiple of 100, or an even number up to 100.
set -euo pipefail

small=${1:-500}
large=${2:-10000}
prs=${PRS:-100}
commits=${COMMITS:-5}

# shellcheck source=bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

# start HOME ARCHIVE: a fresh home importing ARCHIVE, detached; prints the
# job id.
start() {
	local home=$1 tar=$2
	rm -rf "$home"
	mkdir -p "$home/shared/data/migration/import"
	# A link that leads out of the import directory is refused: a hard
	# link, else a copy.
	ln "$tar" "$home/shared/data/migration/import/bench.tar" 2>/dev/null ||
		cp "$tar" "$home/shared/data/migration/import/bench.tar"
	"$bin" --home "$home" import bench.tar --detach --json | jq -r .id
}

# measure N: imports the archive of N repositories and writes
# "repos prs wall cpu rssKiB dbBytes" to $work/result-N.
measure() {
	local n=$1 tar home="$work/home-$1" t0 id
	tar=$(bench_archive scale "$n")
	t0=$(date +%s%3N)
	id=$(BBIMPORT_CPUPROFILE=${profiles:+$profiles/import-$n.pprof} start "$home" "$tar")
	await_job import "$home" "$id"
	# status was the last to close the database: its write-ahead log is
	# checkpointed into bbimport.db and gone.
	local db
	db=$(stat -c %s "$home/shared/data/bbimport.db")
	echo "$(jq -r '.counts.repositories, .counts.pullRequests' "$work/job" | tr '\n' ' ')$(awk -v ms=$((end - t0)) 'BEGIN { printf "%.3f", ms / 1000 }') $cpu $rss $db" >"$work/result-$n"
	rm -rf "$home"
}

# cancelTime N: starts the import of N repositories, cancels it once a
# tenth of its pull requests are in, and prints the seconds from cancel to
# CANCELED.
cancelTime() {
	local n=$1 home="$work/home-cancel" id want t0 t1 tar
	tar=$(bench_archive scale "$n")
	want=$((n * prs / 10))
	id=$(start "$home" "$tar")
	while (($("$bin" --home "$home" status "$id" --bbimport-json | jq -r '.counts.pullRequests // 0') < want)); do
		sleep 0.5
	done
	t0=$(date +%s.%N)
	"$bin" --home "$home" cancel "$id" --wait >/dev/null || true
	t1=$(date +%s.%N)
	local state
	state=$("$bin" --home "$home" status "$id" --json | jq -r .state)
	echo "$(echo "$t1 - $t0" | bc) $state"
	rm -rf "$home"
}

measure "$small"
measure "$large"
read -r cw cstate < <(cancelTime "${CANCEL:-$large}")

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; $prs pull requests per repository, $commits commits per origin"
awk -v small="$small" -v large="$large" -v cw="$cw" -v cstate="$cstate" -v csize="${CANCEL:-$large}" '
FNR == 1 { r[++k] = $1; p[k] = $2; w[k] = $3; c[k] = $4; m[k] = $5; d[k] = $6 }
END {
	printf "%-12s %8s %9s %8s %8s %8s %8s %8s %8s %7s %9s\n", "repositories", "PRs", "wall s", "CPU s",
		"repo/s", "repo/CPUs", "PR/s", "PR/CPUs", "RSS MiB", "DB MiB", "DB B/PR"
	for (i = 1; i <= 2; i++)
		printf "%-12d %8d %9.1f %8.1f %8.2f %8.2f %8.1f %8.1f %8.1f %7.1f %9.0f\n", r[i], p[i], w[i], c[i],
			r[i]/w[i], r[i]/c[i], p[i]/w[i], p[i]/c[i], m[i]/1024, d[i]/1048576, d[i]/p[i]
	printf "ratio L/S    rate per repository: %.2f wall, %.2f CPU; per pull request: %.2f wall, %.2f CPU; DB bytes per PR: %.2f; RSS: %.2f\n",
		(r[2]/w[2])/(r[1]/w[1]), (r[2]/c[2])/(r[1]/c[1]), (p[2]/w[2])/(p[1]/w[1]), (p[2]/c[2])/(p[1]/c[1]), (d[2]/p[2])/(d[1]/p[1]), m[2]/m[1]
	printf "cancel of the %d-repository import: %s in %.2f s; one repository takes %.2f s and one pull request %.3f s (wall, at %d)\n",
		csize, cstate, cw, w[2]/r[2], w[2]/p[2], r[2]
}' "$work/result-$small" "$work/result-$large"
