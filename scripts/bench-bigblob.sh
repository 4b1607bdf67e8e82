#!/usr/bin/env bash
# Peak memory of an import whose repository holds one big blob, for the
# whole process tree (the import command, its runner and the git processes
# the runner starts), sampled every 50 ms. It stays flat whatever the
# blob's size: git gets core.bigFileThreshold (importer/gitcmd) and streams
# a blob above it rather than holding it whole.
#
#   scripts/bench-bigblob.sh [MIB]     (default 256: one 256 MiB blob)
#
# Prints the archive's size, the import's wall time and the peak resident
# memory of the tree and of its largest process.
set -euo pipefail

mib=${1:-256}
# shellcheck source=bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

home="$work/home"
mkdir -p "$home/shared/data/migration/import"
archive="$home/shared/data/migration/import/big.tar"
echo "generating one ${mib} MiB blob ..."
"$bin" gen --out "$archive" --projects 1 --repos 1 --forks 0 --prs 1 --commits 1 \
	--blob-kib $((mib * 1024)) --seed 5 >/dev/null

# tree_rss ROOT: the resident KiB of ROOT and all its descendants, and of
# the largest one.
tree_rss() {
	ps -e -o pid=,ppid=,rss= | awk -v root="$1" '
		{ parent[$1] = $2; rss[$1] = $3 }
		END {
			for (p in parent) {
				q = p
				while (q != root && q > 1 && (q in parent)) q = parent[q]
				if (q == root) { sum += rss[p]; if (rss[p] > one) one = rss[p] }
			}
			print sum + 0, one + 0
		}'
}

t0=$(date +%s.%N)
"$bin" --home "$home" import big.tar >"$work/out" 2>&1 &
root=$!
peak=0 peakone=0
while kill -0 "$root" 2>/dev/null; do
	read -r sum one < <(tree_rss "$root")
	((sum > peak)) && peak=$sum
	((one > peakone)) && peakone=$one
	sleep 0.05
done
status=0
wait "$root" || status=$?
t1=$(date +%s.%N)
if ((status != 0)); then
	cat "$work/out"
	exit "$status"
fi
awk -v size="$(stat -c %s "$archive")" -v wall="$(echo "$t1 - $t0" | bc)" -v peak="$peak" -v one="$peakone" 'BEGIN {
	printf "archive: %.0f MiB, one blob of '"$mib"' MiB\n", size/1048576
	printf "import: %.1f s wall\n", wall
	printf "peak RSS of the process tree: %.0f MiB (largest process %.0f MiB)\n", peak/1024, one/1024
}'
