#!/usr/bin/env bash
# The transfer of `bbimport carry` against scp of the same file over
# 127.0.0.1, in one run so that both see the same machine load:
#   - the bytes crossing: carry's transfer (MD5 and SHA-256 computed while it
#     streams) against scp's wall time;
#   - the whole job: carry with both ends' MD5 compared, against what an admin
#     does by hand: scp, then md5sum on both machines.
# It starts its own sshd (host key, client key and configuration in a
# temporary directory, as the tests do) and needs openssh-server and
# openssh-client; run it as root, or as a user sshd lets log in.
# Usage: scripts/bench-carry.sh [FILE] [RUNS]
# Without FILE it makes 1 GiB of random bytes (kept in $BENCH_DIR, default
# /tmp/bbimport-bench, and reused by later runs). RUNS defaults to 3. Each
# run's pair (scp, then carry, back to back) is printed with its ratio,
# then the best of each figure over the runs.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-/tmp/bbimport-bench}
runs=${2:-3}
mkdir -p "$dir"

file=${1:-$dir/carry-1g.bin}
if [[ ! -f $file ]]; then
  echo "making $file (1 GiB of random bytes)"
  head -c 1073741824 /dev/urandom >"$file"
fi
size=$(stat -c %s "$file")
cat "$file" >/dev/null # into the page cache, for both alike

source scripts/bench-sshd.sh
dst=$work/dst

now() { date +%s%N; }
# sshd_cpu: CPU seconds of the connections sshd has ended (its reaped
# children: the per-connection processes, sftp and md5sum included).
sshd_cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($16 + $17) / t }' "/proc/$(cat "$work/sshd.pid")/stat"; }
# client_cpu CMD...: runs CMD; its user + system CPU seconds, children included.
client_cpu() {
  /usr/bin/time -f '%U %S' -o "$work/time.out" "$@" >/dev/null 2>&1
  tail -1 "$work/time.out" | awk '{ printf "%.2f", $1 + $2 }'
}
plus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a + b }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
best() { if [[ -z $1 ]] || awk -v a="$2" -v b="$1" 'BEGIN { exit !(a < b) }'; then echo "$2"; else echo "$1"; fi; }

scp_t="" manual_t="" carry_t="" whole_t="" manual_cpu="" carry_cpu="" runs_out=()
for ((i = 0; i < runs; i++)); do
  # scp, then the two MD5s an admin runs by hand.
  s0=$(sshd_cpu)
  t0=$(now)
  c1=$(client_cpu scp -q -P "$port" "${ssh_opts[@]}" "$file" "$user@127.0.0.1:$dst/scp.bin")
  t1=$(now)
  sleep 0.5 # sshd reaps the connections' processes (not timed)
  run_scp_cpu=$(plus "$c1" "$(minus "$(sshd_cpu)" "$s0")")
  t1b=$(now)
  c2=$(client_cpu md5sum "$file")
  c3=$(client_cpu ssh -p "$port" "${ssh_opts[@]}" "$user@127.0.0.1" md5sum "$dst/scp.bin")
  t2=$(now)
  sleep 0.5
  run_manual_cpu=$(plus "$(plus "$c1" "$c2")" "$(plus "$c3" "$(minus "$(sshd_cpu)" "$s0")")")
  manual_cpu=$(best "$manual_cpu" "$run_manual_cpu")
  rm -f "$dst/scp.bin"
  run_scp=$(secs "$t0" "$t1")
  run_manual=$(awk -v a="$run_scp" -v b="$(secs "$t1b" "$t2")" 'BEGIN { printf "%.3f", a + b }')
  scp_t=$(best "$scp_t" "$run_scp")
  manual_t=$(best "$manual_t" "$run_manual")

  s0=$(sshd_cpu)
  t0=$(now)
  # shellcheck disable=SC2016 # sh -c expands $0 to $3, its own arguments
  c1=$(client_cpu env HOME="$home" SSH_AUTH_SOCK= sh -c '"$0" carry "$1" "$2" --json >"$3"' \
    "$work/bbimport" "$file" "$user@127.0.0.1:$port:$dst" "$work/carry.json")
  t1=$(now)
  sleep 0.5
  run_carry_cpu=$(plus "$c1" "$(minus "$(sshd_cpu)" "$s0")")
  carry_cpu=$(best "$carry_cpu" "$run_carry_cpu")
  rm -f "$dst/$(basename "$file")"
  run_carry=$(jq -r '.seconds * 1000 | round / 1000' "$work/carry.json") run_whole=$(secs "$t0" "$t1")
  carry_t=$(best "$carry_t" "$run_carry")
  whole_t=$(best "$whole_t" "$run_whole")
  # This run's pair: scp and carry ran back to back, under about the same load.
  runs_out+=("$(printf 'run %d (load %s): scp %s s, carry transfer %s s (%sx scp); by hand %s s, carry whole %s s; CPU scp %s s, by hand %s s, carry %s s' \
    "$((i + 1))" "$(cut -d' ' -f1 /proc/loadavg)" "$run_scp" "$run_carry" "$(awk -v a="$run_scp" -v b="$run_carry" 'BEGIN { printf "%.2f", a / b }')" \
    "$run_manual" "$run_whole" "$run_scp_cpu" "$run_manual_cpu" "$run_carry_cpu")")
done

mbps() { awk -v s="$size" -v t="$1" 'BEGIN { printf "%.0f", s / 1048576 / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%s\n' "${runs_out[@]}"
echo "file: $file ($size bytes), best of $runs runs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-58s %8s s  %5s MiB/s\n' "scp" "$scp_t" "$(mbps "$scp_t")"
printf '%-58s %8s s  %5s MiB/s  %sx scp\n' "bbimport carry: the transfer, MD5 + SHA-256 while streaming" "$carry_t" "$(mbps "$carry_t")" "$(ratio "$scp_t" "$carry_t")"
printf '%-58s %8s s\n' "scp + md5sum here + md5sum over ssh (by hand)" "$manual_t"
printf '%-58s %8s s  %sx by hand\n' "bbimport carry: whole (transfer, both MD5s compared)" "$whole_t" "$(ratio "$manual_t" "$whole_t")"
echo "CPU seconds of both ends, client + sshd (less noisy than wall time on a busy machine):"
printf '%-58s %8s s\n' "scp + md5sum here + md5sum over ssh (by hand)" "$manual_cpu"
printf '%-58s %8s s  %sx by hand\n' "bbimport carry: whole" "$carry_cpu" "$(ratio "$manual_cpu" "$carry_cpu")"
