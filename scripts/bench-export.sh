#!/usr/bin/env bash
# How fast is an export, and does it stay flat as the home grows? For each
# size, generates an archive of N repositories (N/2 origins with a fork
# each, PRS pull requests per repository), imports it into a fresh home
# with the real binary, then exports everything (*/*) with the detached
# runner, as an admin runs it, side by side with `tar -cf` of that home's
# repositories directory and database file (what copying the home's data
# costs). Prints per size: the export's wall and CPU time against tar's
# (target: at most 1.2x), the runner's peak RSS (target: under 100 MB),
# the archive's size and the load average; then the ratios LARGE/SMALL per
# repository (flat: near 1).
#
#   scripts/bench-export.sh [SMALL LARGE]        # repositories; default 500 2000
#
# The export's wall time runs from the command's start to the job's end
# date (not to when a poll notices it); its CPU time is the command's
# (planning, the estimate, starting the runner) plus the runner's, and its
# peak RSS the runner's: the runner logs both when it ends,
# since it is nobody's child to wait for and a short export is gone before
# a sampler finds it.
#
# Environment: PRS pull requests per repository (default 40: 20,000 at
# 500), COMMITS commits per origin (default 5), RUNS times each of tar and
# the export run, alternately, the best of each kept (default 3: the build
# machine is shared), KEEP=dir keeps the archives there (and reuses those
# already made), BIN=file uses that bbimport binary instead of building
# one, BBIMPORT_CPUPROFILE=dir writes each export runner's CPU profile
# there (export-SIZE.pprof). tar reads the home once before it is timed,
# so that both read from a warm page cache.
set -euo pipefail

small=${1:-500}
large=${2:-2000}
prs=${PRS:-40}
commits=${COMMITS:-5}

runs=${RUNS:-3}

# shellcheck source=bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

# export_once HOME SIZE: one export of everything in HOME; writes "wall
# cpu rssKiB archiveBytes pullRequests" to $work/once (run in this shell,
# not a subshell, so that a failed export's exit keeps HOME).
export_once() {
	local home=$1 n=$2 t0 id TIMEFORMAT='%U %S' cu cs
	t0=$(date +%s%3N)
	{ time BBIMPORT_CPUPROFILE=${profiles:+$profiles/export-$n.pprof} \
		"$bin" --home "$home" export '*/*' --detach --json >"$work/id" 2>/dev/null; } 2>"$work/cli-time"
	read -r cu cs <"$work/cli-time"
	id=$(jq -r .id "$work/id")
	await_job export "$home" "$id"
	local archive
	archive="$home/shared/data/migration/export/$(jq -r .archive "$work/job")"
	awk -v wall="$((end - t0))" -v cpu="$cpu" -v cu="$cu" -v cs="$cs" -v rss="$rss" -v size="$(stat -c %s "$archive")" \
		-v prs="$(jq .counts.pullRequests "$work/job")" 'BEGIN { printf "%.3f %.3f %d %d %d\n", wall / 1000, cu + cs + cpu, rss, size, prs }' >"$work/once"
	rm -f "$archive"
}

# tar_once DATA: one tar of the home's data; writes "wall cpu bytes" to
# $work/tar-once.
tar_once() {
	local data=$1 TIMEFORMAT='%R %U %S' tw tu ts
	# No process substitution, here or around the calls: bash reaps such
	# a child whenever it next waits, and a "time" running then counts the
	# child's CPU (tar's) as its own.
	{ time tar -cf "$work/base.tar" -C "$data" repositories bbimport.db; } 2>"$work/tar-time"
	read -r tw tu ts <"$work/tar-time"
	echo "$tw $(echo "$tu + $ts" | bc) $(stat -c %s "$work/base.tar")" >"$work/tar-once"
	rm -f "$work/base.tar"
}

# measure N: writes "repos prs tarWall tarCPU exportWall exportCPU rssKiB
# archiveBytes homeBytes load" to $work/result-N, each time the best of
# $runs.
measure() {
	local n=$1 tar home="$work/home-$1" data
	tar=$(bench_archive export "$n")
	rm -rf "$home"
	mkdir -p "$home/shared/data/migration/import"
	ln "$tar" "$home/shared/data/migration/import/bench.tar" 2>/dev/null ||
		cp "$tar" "$home/shared/data/migration/import/bench.tar"
	echo "importing $n repositories ..." >&2
	"$bin" --home "$home" import bench.tar >/dev/null
	data="$home/shared/data"

	tar -cf "$work/base.tar" -C "$data" repositories bbimport.db # warms the page cache
	rm -f "$work/base.tar"
	local best_tw='' best_tc='' best_ew='' best_ec='' best_rss=0 size home_bytes i tw tc hb ew ec rss npr
	for ((i = 1; i <= runs; i++)); do
		echo "run $i of $runs at $n repositories: tar, then export (load $(cut -d' ' -f1 /proc/loadavg)) ..." >&2
		tar_once "$data"
		read -r tw tc hb <"$work/tar-once"
		export_once "$home" "$n"
		read -r ew ec rss size npr <"$work/once"
		home_bytes=$hb
		best_tw=$(min "$best_tw" "$tw") best_tc=$(min "$best_tc" "$tc")
		best_ew=$(min "$best_ew" "$ew") best_ec=$(min "$best_ec" "$ec")
		((rss > best_rss)) && best_rss=$rss
	done
	echo "$n $npr $best_tw $best_tc $best_ew $best_ec $best_rss $size $home_bytes $(cut -d' ' -f1 /proc/loadavg)" >"$work/result-$n"
	rm -rf "$home"
}

# min A B: the smaller number, B when A is empty.
min() { if [[ -z "$1" ]] || (($(echo "$2 < $1" | bc))); then echo "$2"; else echo "$1"; fi; }

measure "$small"
measure "$large"

echo "best of $runs runs each; load average (1 min) at each size's end in the last column; $(nproc) cores;"
echo "$prs pull requests per repository, $commits commits per origin; RSS is the highest of the runs"
awk '
FNR == 1 { r[++k] = $1; p[k] = $2; tw[k] = $3; tc[k] = $4; ew[k] = $5; ec[k] = $6; m[k] = $7; a[k] = $8; h[k] = $9; l[k] = $10 }
END {
	printf "%-12s %7s %9s %9s %9s %9s %7s %7s %8s %9s %9s %6s\n", "repositories", "PRs", "tar wall", "tar CPU",
		"exp wall", "exp CPU", "wall x", "CPU x", "RSS MiB", "tar MiB", "arch MiB", "load"
	for (i = 1; i <= 2; i++)
		printf "%-12d %7d %9.2f %9.2f %9.2f %9.2f %7.2f %7.2f %8.1f %9.1f %9.1f %6.1f\n", r[i], p[i], tw[i], tc[i], ew[i], ec[i],
			ew[i]/tw[i], ec[i]/tc[i], m[i]/1024, h[i]/1048576, a[i]/1048576, l[i]
	printf "ratio L/S    export per repository: %.2f wall, %.2f CPU; tar per repository: %.2f wall, %.2f CPU; RSS: %.2f\n",
		(ew[2]/r[2])/(ew[1]/r[1]), (ec[2]/r[2])/(ec[1]/r[1]), (tw[2]/r[2])/(tw[1]/r[1]), (tc[2]/r[2])/(tc[1]/r[1]), m[2]/m[1]
}' "$work/result-$small" "$work/result-$large"
