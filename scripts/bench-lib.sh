# Shared by the benchmarks that import generated archives (bench-scale.sh,
# bench-export.sh); sourced, not run. The caller sets bin, keep, work,
# prs and commits, and for follow tick.

# bench_archive NAME N: an archive of N repositories (N/2 origins with a
# fork each, in projects of at most 50 origins), made once under $keep.
bench_archive() {
	local name=$1 n=$2 origins projects per
	origins=$((n / 2))
	projects=$(((origins + 49) / 50))
	per=$((origins / projects))
	if ((projects * per * 2 != n)); then
		echo "bench-$name: $n repositories do not split into projects of equal size; use a multiple of 100 or an even number up to 100" >&2
		exit 2
	fi
	local out="$keep/$name-$n-$prs-$commits.tar"
	if [[ ! -f "$out" ]]; then
		echo "generating $out ..." >&2
		"$bin" gen --out "$out" --projects "$projects" --repos "$per" --forks 1 --prs "$prs" \
			--commits "$commits" --blob-kib 0 --seed 7 >/dev/null
	fi
	echo "$out"
}

# follow PID SECONDS: samples the process every SECONDS until it exits;
# leaves in $work/sample its last peak RSS (KiB, VmHWM) and CPU seconds
# (its own and its children's), read at most SECONDS before it ended.
follow() {
	local pid=$1 every=$2 hwm cpu
	while [[ -r /proc/$pid/status ]]; do
		hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
		cpu=$(awk -v t="$tick" '{print ($14 + $15 + $16 + $17) / t}' "/proc/$pid/stat" 2>/dev/null) || break
		[[ -n "$hwm" ]] && echo "$hwm $cpu" >"$work/sample"
		sleep "$every"
	done
}
