#!/usr/bin/env bash
# How fast is an export, and does it stay flat as the home grows? For each
# size, generates an archive of N repositories (N/2 origins with a fork
# each, PRS pull requests per repository), imports it into a fresh home
# with the real binary, then exports everything (*/*) with the detached
# runner, as an admin runs it, side by side with `tar -cf` of that home's
# repositories directory and database file (what copying the home's data
# costs). Prints per size: the export's wall and CPU time against tar's
# (target: at most 1.2x), the runner's peak RSS (target: under 100 MB) and
# the archive's size; then the ratios LARGE/SMALL per repository (flat:
# near 1).
#
#   scripts/bench-export.sh [SMALL LARGE]        # repositories; default 500 2000
#
# Environment: PRS pull requests per repository (default 40: 20,000 at
# 500), COMMITS commits per origin (default 5), KEEP=dir keeps the archives
# there (and reuses those already made), BIN=file uses that bbimport binary
# instead of building one. tar reads the home once before it is timed, so
# that both read from a warm page cache.
set -euo pipefail

small=${1:-500}
large=${2:-2000}
prs=${PRS:-40}
commits=${COMMITS:-5}

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/bbimport-export.XXXXXX")
trap 'rm -rf "$work"' EXIT
keep=${KEEP:-$work}
mkdir -p "$keep"
bin=${BIN:-$work/bbimport}
[[ -n "${BIN:-}" ]] || (cd "$repo" && go build -o "$bin" .)
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
tick=$(getconf CLK_TCK)

# shellcheck source=bench-lib.sh
source "$repo/scripts/bench-lib.sh"

# measure N: writes "repos prs tarWall tarCPU exportWall exportCPU rssKiB
# archiveBytes homeBytes" to $work/result-N.
measure() {
	local n=$1 tar home="$work/home-$1" data t0 t1 id pid
	tar=$(bench_archive export "$n")
	rm -rf "$home"
	mkdir -p "$home/shared/data/migration/import"
	ln "$tar" "$home/shared/data/migration/import/bench.tar" 2>/dev/null ||
		cp "$tar" "$home/shared/data/migration/import/bench.tar"
	echo "importing $n repositories ..." >&2
	"$bin" --home "$home" import bench.tar >/dev/null
	data="$home/shared/data"

	tar -cf "$work/base.tar" -C "$data" repositories bbimport.db # warms the page cache
	local TIMEFORMAT='%R %U %S' tw tu ts
	read -r tw tu ts < <({ time tar -cf "$work/base.tar" -C "$data" repositories bbimport.db; } 2>&1)
	local home_bytes
	home_bytes=$(stat -c %s "$work/base.tar")
	rm -f "$work/base.tar"

	echo "exporting $n repositories ..." >&2
	t0=$(date +%s.%N)
	id=$("$bin" --home "$home" export '*/*' --detach --json 2>/dev/null | jq -r .id)
	pid=$(pgrep -f -- "__runner --home $home --job $id --export" | head -1 || true)
	[[ -n "$pid" ]] && follow "$pid" 0.1
	t1=$(date +%s.%N)
	local job
	job=$("$bin" --home "$home" status "$id" --bbimport-json)
	if [[ $(jq -r .state <<<"$job") != COMPLETED ]]; then
		echo "bench-export: the export of $n repositories ended $(jq -r .state <<<"$job"); see $home" >&2
		trap - EXIT
		exit 1
	fi
	read -r hwm cpu <"$work/sample"
	local size
	size=$(stat -c %s "$data/migration/export/$(jq -r .archive <<<"$job")")
	echo "$(jq -r '.counts.repositories, .counts.pullRequests' <<<"$job" | tr '\n' ' ')$tw $(echo "$tu + $ts" | bc) $(echo "$t1 - $t0" | bc) $cpu $hwm $size $home_bytes" >"$work/result-$n"
	rm -rf "$home"
}

measure "$small"
measure "$large"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; $prs pull requests per repository, $commits commits per origin"
awk '
FNR == 1 { r[++k] = $1; p[k] = $2; tw[k] = $3; tc[k] = $4; ew[k] = $5; ec[k] = $6; m[k] = $7; a[k] = $8; h[k] = $9 }
END {
	printf "%-12s %7s %9s %9s %9s %9s %7s %7s %8s %9s %9s\n", "repositories", "PRs", "tar wall", "tar CPU",
		"exp wall", "exp CPU", "wall x", "CPU x", "RSS MiB", "tar MiB", "arch MiB"
	for (i = 1; i <= 2; i++)
		printf "%-12d %7d %9.2f %9.2f %9.2f %9.2f %7.2f %7.2f %8.1f %9.1f %9.1f\n", r[i], p[i], tw[i], tc[i], ew[i], ec[i],
			ew[i]/tw[i], ec[i]/tc[i], m[i]/1024, h[i]/1048576, a[i]/1048576
	printf "ratio L/S    export per repository: %.2f wall, %.2f CPU; tar per repository: %.2f wall; RSS: %.2f\n",
		(ew[2]/r[2])/(ew[1]/r[1]), (ec[2]/r[2])/(ec[1]/r[1]), (tw[2]/r[2])/(tw[1]/r[1]), m[2]/m[1]
}' "$work/result-$small" "$work/result-$large"
