#!/usr/bin/env bash
# Benchmark of `bbimport verify` against what an admin would run by hand to
# check an import: `bbimport inspect` on the archive plus one
# `git for-each-ref` per repository of the home. Then verify again through
# `bbimport serve` on the same home (--url), which reads the same things over
# the REST API.
#
#   scripts/bench-verify.sh [PROJECTS REPOS PRS]
#
# Without arguments the archive has 500 repositories and 20,000 pull
# requests (5 projects x 50 origins, 1 fork each, 40 pull requests per
# repository). On a loaded machine, a smaller one:
#
#   scripts/bench-verify.sh 2 25 40      # 100 repositories, 4,000 pull requests
#
# Prints wall and CPU seconds (user + system, children included: what still
# compares on a shared machine), the ratios (targets: verify < inspect +
# for-each-ref; remote verify <= 3x in-process) and verify's peak memory.
set -euo pipefail

projects=${1:-5} repos=${2:-50} prs=${3:-40}
# shellcheck source=bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"
serve_pid=
cleanup() {
	if [[ -n $serve_pid ]]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

home="$work/home"
dir="$home/shared/data/migration/import"
mkdir -p "$dir"
echo "generating and importing $projects x $repos origins (1 fork each), $prs pull requests per repository ..."
"$bin" gen --out "$dir/bench.tar" --projects "$projects" --repos "$repos" --forks 1 --prs "$prs" --blob-kib 0 --seed 7 >/dev/null
"$bin" --home "$home" import bench.tar --wait >/dev/null

# phase NAME CMD...: runs CMD, its output to $work/NAME.out, and writes
# "<wall> <cpu>" seconds to $work/NAME; it fails as CMD does.
phase() {
	local name=$1 t0 t1 status=0
	shift
	t0=$(date +%s.%N)
	{ time "$@" >"$work/$name.out" 2>&3; } 3>&2 2>"$work/$name.cpu" || status=$?
	t1=$(date +%s.%N)
	echo "$(echo "$t1 - $t0" | bc) $(tail -1 "$work/$name.cpu" | awk '{print $1 + $2}')" >"$work/$name"
	return $status
}
TIMEFORMAT='%3U %3S'

for_each_ref() {
	for r in "$home"/shared/data/repositories/*/; do
		git --git-dir="$r" for-each-ref >/dev/null
	done
}
phase inspect "$bin" inspect "$dir/bench.tar" --json
phase refs for_each_ref
phase verify /usr/bin/time -f '%M' -o "$work/rss" "$bin" --home "$home" verify 1
grep -q '^Everything in the archive is on the target' "$work/verify.out" || { cat "$work/verify.out"; echo "verify found differences" >&2; exit 1; }

BBIMPORT_ADMIN_USER=admin BBIMPORT_ADMIN_PASSWORD=pw "$bin" serve --home "$home" --listen 127.0.0.1:0 2>"$work/serve.log" &
serve_pid=$!
url=
for _ in $(seq 1 300); do
	url=$(sed -n 's/.*msg=serving url=\([^ ]*\).*/\1/p' "$work/serve.log")
	[[ -n $url ]] && break
	kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
	sleep 0.1
done
remote=yes
if ! BITBUCKET_PASSWORD=pw phase remote "$bin" --url "$url" --user admin --import-dir "$dir" verify 1; then
	remote=no
	echo "remote verify did not run (see above)" >&2
fi

read -r iw ic <"$work/inspect"
read -r rw rc <"$work/refs"
read -r vw vc <"$work/verify"
n=$(find "$home/shared/data/repositories" -mindepth 1 -maxdepth 1 -type d | wc -l)
awk -v n="$n" -v prs="$prs" -v iw="$iw" -v ic="$ic" -v rw="$rw" -v rc="$rc" -v vw="$vw" -v vc="$vc" \
	-v rss="$(cat "$work/rss")" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
	printf "archive: %d repositories, %d pull requests; load average %s\n", n, n*prs, load
	printf "                                       wall s    CPU s\n"
	printf "bbimport inspect                     %8.2f %8.2f\n", iw, ic
	printf "git for-each-ref, each repository    %8.2f %8.2f\n", rw, rc
	printf "inspect + for-each-ref               %8.2f %8.2f\n", iw + rw, ic + rc
	printf "bbimport verify (in-process)         %8.2f %8.2f\n", vw, vc
	printf "ratio verify / (inspect + refs): %.2f wall, %.2f CPU (target < 1)\n", vw/(iw + rw), vc/(ic + rc)
	printf "verify peak RSS: %.0f MiB\n", rss/1024
}'
if [[ $remote == yes ]]; then
	read -r mw mc <"$work/remote"
	awk -v vw="$vw" -v vc="$vc" -v mw="$mw" -v mc="$mc" 'BEGIN {
	printf "bbimport verify --url (serve)        %8.2f %8.2f (client only; serve works too)\n", mw, mc
	printf "ratio remote / in-process: %.2f wall (target <= 3)\n", mw/vw
}'
fi
