#!/usr/bin/env bash
# Benchmarks of the archive reader against the standard tools on the same
# file, in one run so that both see the same machine load:
#   - checksum (MD5 + SHA-256) throughput against md5sum
#   - inspect time against tar -tvf
#   - peak memory (max RSS) of inspect and of a full read of every inner file
# Usage: scripts/bench-archive.sh [ARCHIVE]
# Without ARCHIVE it generates one of about 1 GB (kept in $BENCH_DIR, default
# /tmp/bbimport-bench, and reused by later runs).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-/tmp/bbimport-bench}
mkdir -p "$dir"
go build -o "$dir/bbimport" .
go test -c -o "$dir/archive.test" ./archive/

archive=${1:-$dir/bench.tar}
if [[ ! -f $archive ]]; then
  echo "generating $archive (about 1 GB: 10 repositories of 100 commits, each adding 1 MiB)"
  "$dir/bbimport" gen --out "$archive" --projects 1 --repos 10 --forks 0 --prs 5 --commits 100 --blob-kib 1024
fi
size=$(stat -c %s "$archive")
cat "$archive" >/dev/null # into the page cache, for every contender alike

# wall CMD...: the wall time of one run of CMD, in seconds.
wall() {
  local t0
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1
  awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}
# race N BASELINE -- CMD...: runs the two commands in turn N times, so that
# both see the same changes of machine load, and prints the best time of
# each: "baseline cmd".
race() {
  local n=$1 base=() cmd=() b="" c="" t
  shift
  while [[ $1 != -- ]]; do base+=("$1"); shift; done
  shift
  cmd=("$@")
  for ((i = 0; i < n; i++)); do
    t=$(wall "${base[@]}")
    if [[ -z $b ]] || awk -v a="$t" -v b="$b" 'BEGIN { exit !(a < b) }'; then b=$t; fi
    t=$(wall "${cmd[@]}")
    if [[ -z $c ]] || awk -v a="$t" -v b="$c" 'BEGIN { exit !(a < b) }'; then c=$t; fi
  done
  echo "$b $c"
}
# max_rss CMD...: the peak resident memory of CMD, in MB.
max_rss() {
  /usr/bin/time -f %M -o "$dir/time.out" "$@" >/dev/null 2>&1
  tail -1 "$dir/time.out" | awk '{ printf "%.1f", $1 / 1024 }'
}
# cpu_of CMD...: user + system CPU seconds of CMD, which machine load barely changes.
cpu_of() {
  /usr/bin/time -f '%U %S' -o "$dir/time.out" "$@" >/dev/null 2>&1
  tail -1 "$dir/time.out" | awk '{ printf "%.2f", $1 + $2 }'
}
mbps() { awk -v s="$size" -v t="$1" 'BEGIN { printf "%.0f", s / 1048576 / t }'; }

echo "archive: $archive ($((size / 1048576)) MiB, $(tar -tf "$archive" | wc -l) members)"
echo "cpu: $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

read -r md5 sums < <(race 5 md5sum "$archive" -- "$dir/bbimport" checksum "$archive")
printf 'md5sum:            %6ss  %5s MB/s\n' "$md5" "$(mbps "$md5")"
printf 'bbimport checksum: %6ss  %5s MB/s  (MD5 and SHA-256)\n' "$sums" "$(mbps "$sums")"
awk -v a="$md5" -v b="$sums" 'BEGIN { printf "checksum throughput / md5sum throughput = %.2f (target >= 0.9)\n", a / b }'
echo "cpu seconds: md5sum $(cpu_of md5sum "$archive"), sha256sum $(cpu_of sha256sum "$archive"), bbimport checksum $(cpu_of "$dir/bbimport" checksum "$archive") (on two cores)"

read -r start tarv < <(race 3 "$dir/bbimport" --help -- tar -tvf "$archive")
read -r _ insp < <(race 3 true -- "$dir/bbimport" inspect "$archive")
printf 'tar -tvf:          %6ss\n' "$tarv"
printf 'bbimport inspect:  %6ss\n' "$insp"
awk -v a="$insp" -v b="$tarv" 'BEGIN { printf "inspect time / tar -tvf time = %.2f\n", a / b }'
echo "cpu seconds: tar -tvf $(cpu_of tar -tvf "$archive"), bbimport inspect $(cpu_of "$dir/bbimport" inspect "$archive")"
printf 'of which start-up:  %6ss  (bbimport --help)\n' "$start"

echo "peak memory (max RSS):"
echo "  bbimport inspect:             $(max_rss "$dir/bbimport" inspect "$archive") MB"
echo "  full read, every inner file:  $(BBIMPORT_BENCH_ARCHIVE=$archive max_rss "$dir/archive.test" -test.run '^$' -test.bench BenchmarkFullRead -test.benchtime 1x) MB (target < 64)"
echo "  tar -tvf, for scale:          $(max_rss tar -tvf "$archive") MB"
