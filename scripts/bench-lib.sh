# shellcheck shell=bash
# Shared by the benchmarks that build bbimport and import into fresh homes
# (bench-scale.sh, bench-export.sh, bench-import.sh, bench-verify.sh,
# bench-bigblob.sh); sourced, not run, at the script's start. It sets
#   repo      the repository's root;
#   work      a temporary directory, removed on exit (a script that needs
#             more at its exit sets its own EXIT trap, which removes it too);
#   bin       the bbimport binary: $BIN, else one built into $work;
#   keep      where bench_archive keeps archives: $KEEP, else $work;
#   profiles  $BBIMPORT_CPUPROFILE, a directory where the script has each
#             runner write its CPU profile, under a name of its own (the
#             variable is unset, so that no other bbimport writes there);
# and exports GIT_CONFIG_NOSYSTEM and GIT_CONFIG_GLOBAL, so that no git
# configuration of the machine changes what git does. bench_archive needs
# prs and commits set.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/bbimport-$(basename "$0" .sh).XXXXXX")
trap 'rm -rf "$work"' EXIT
keep=${KEEP:-$work}
mkdir -p "$keep"
bin=${BIN:-$work/bbimport}
[[ -n "${BIN:-}" ]] || (cd "$repo" && go build -o "$bin" .)
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
# shellcheck disable=SC2034 # for the caller
profiles=${BBIMPORT_CPUPROFILE:-}
unset BBIMPORT_CPUPROFILE

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
	local out="$keep/$name-$n-${prs:?}-${commits:?}.tar"
	if [[ ! -f "$out" ]]; then
		echo "generating $out ..." >&2
		"$bin" gen --out "$out" --projects "$projects" --repos "$per" --forks 1 --prs "$prs" \
			--commits "$commits" --blob-kib 0 --seed 7 >/dev/null
	fi
	echo "$out"
}

# await_job KIND HOME ID: waits until job ID of HOME (KIND import or
# export, run detached) has ended and its runner has exited; exits,
# keeping HOME to look at, unless the job COMPLETED. Leaves the job's
# status (--bbimport-json) in $work/job and sets
#   end   the job's end date, in milliseconds since the epoch;
#   cpu   the CPU seconds (user + system) of its runner and of the
#         processes the runner waited for (an import's git);
#   rss   the runner's peak resident memory, in KiB.
# The runner logs the last two as it ends ("KIND ID used:
# cpu_user_s=… max_rss_kib=…" in log/job-ID.log): it is nobody's child to
# wait for, and a short job ends before a sampler finds it.
await_job() {
	local kind=$1 home=$2 id=$3 pid log usage state
	# The runner's command line ends "__runner --home HOME --job ID",
	# --export after it for an export; one that has already exited is not
	# found, and there is nothing to wait for.
	pid=$(pgrep -f -- "__runner --home $home --job $id( |\$)" | head -1) || true
	while [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
	done
	"$bin" --home "$home" status "$id" --bbimport-json >"$work/job"
	state=$(jq -r .state "$work/job")
	if [[ $state != COMPLETED ]]; then
		echo "$(basename "$0"): the $kind of job $id ended $state; see $home" >&2
		trap - EXIT
		exit 1
	fi
	log="$home/log/job-$id.log"
	usage=$(grep -h "^$kind $id used:" "$log" | tail -n 1) || true
	if [[ -z "$usage" ]]; then
		echo "$(basename "$0"): the runner of $kind $id logged no usage in $log" >&2
		trap - EXIT
		exit 1
	fi
	# shellcheck disable=SC2034 # for the caller
	end=$(jq -r .endDate "$work/job")
	# shellcheck disable=SC2034 # for the caller
	read -r cpu rss < <(awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); u[kv[1]] = kv[2] }
		printf "%.3f %d\n", u["cpu_user_s"] + u["cpu_system_s"] + u["children_cpu_user_s"] + u["children_cpu_system_s"], u["max_rss_kib"]
	}' <<<"${usage#*: }")
}
