#!/usr/bin/env bash
# A whole `bbimport migrate` against the sum of its steps run by hand, in
# one run so that both see the same machine load. The source is an instance
# home with a generated archive imported; each target is a fresh
# `bbimport serve` whose import directory is reached over a real sshd on
# 127.0.0.1 (started as bench-carry.sh starts it). By hand:
#   bbimport export '*/*'; scp; md5sum here; md5sum over ssh;
#   bbimport --url … import --wait; bbimport --url … verify --archive …
# Usage: scripts/bench-migrate.sh [PROJECTS REPOS PRS BLOB_KIB] [RUNS]
# (default 2 10 20 64, 2 runs; each figure is the best of the runs). Needs
# openssh-server, openssh-client, jq; run as root or a user sshd lets in.
set -euo pipefail
cd "$(dirname "$0")/.."

projects=${1:-2} repos=${2:-10} prs=${3:-20} blob=${4:-64} runs=${5:-2}
dir=${BENCH_DIR:-/tmp/bbimport-bench}
mkdir -p "$dir"
# Each target's serve leaves its pid in a .pid file of $work, as sshd does
# (bench-sshd.sh stops them all): serve_target runs in a command
# substitution, a subshell, whose variables the caller never sees.
source scripts/bench-sshd.sh
bb=$work/bbimport
export XDG_STATE_HOME=$work/state BITBUCKET_PASSWORD=pw SSH_AUTH_SOCK=

src=$work/source
mkdir -p "$src/shared/data/migration/import"
"$bb" gen --out "$src/shared/data/migration/import/in.tar" --projects "$projects" --repos "$repos" --prs "$prs" --blob-kib "$blob" >/dev/null
"$bb" --home "$src" import in.tar >/dev/null

# serve_target HOME: starts serve on a fresh home; prints its URL.
serve_target() {
  mkdir -p "$1/shared/data/migration/import"
  BBIMPORT_ADMIN_USER=admin BBIMPORT_ADMIN_PASSWORD=pw "$bb" serve --home "$1" --listen 127.0.0.1:0 >"$1.log" 2>&1 &
  echo $! >"$1.pid"
  for _ in $(seq 100); do
    url=$(grep -o 'url=http://127\.0\.0\.1:[0-9]*' "$1.log" | head -1 | cut -d= -f2 || true)
    [[ -n $url ]] && { echo "$url"; return; }
    sleep 0.1
  done
  echo "serve did not start: $(cat "$1.log")" >&2
  exit 2
}

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
best() { if [[ -z $1 ]] || awk -v a="$2" -v b="$1" 'BEGIN { exit !(a < b) }'; then echo "$2"; else echo "$1"; fi; }

hand_t="" migrate_t="" size=0
for ((i = 0; i < runs; i++)); do
  tgt=$work/hand-$i
  url=$(serve_target "$tgt")
  t0=$(now)
  job=$("$bb" --home "$src" export '*/*' --json 2>/dev/null | jq -r .id)
  archive=$src/shared/data/migration/export/Bitbucket_export_$job.tar
  scp -q -P "$port" "${ssh_opts[@]}" "$archive" "$user@127.0.0.1:$tgt/shared/data/migration/import/"
  md5sum "$archive" >/dev/null
  ssh -p "$port" "${ssh_opts[@]}" "$user@127.0.0.1" md5sum "$tgt/shared/data/migration/import/$(basename "$archive")" >/dev/null
  ijob=$("$bb" --url "$url" --user admin import "$(basename "$archive")" --wait --json 2>/dev/null | jq -r .id)
  "$bb" --url "$url" --user admin verify "$ijob" --archive "$archive" >/dev/null
  t1=$(now)
  hand_t=$(best "$hand_t" "$(secs "$t0" "$t1")")
  size=$(stat -c %s "$archive")
  stop "$tgt.pid"

  tgt=$work/migrate-$i
  url=$(serve_target "$tgt")
  t0=$(now)
  HOME=$home "$bb" migrate --from-home "$src" --to "$url" --user admin --to-ssh "$user@127.0.0.1:$port" \
    --to-shared-home "$tgt/shared" '*/*' >/dev/null
  t1=$(now)
  migrate_t=$(best "$migrate_t" "$(secs "$t0" "$t1")")
  stop "$tgt.pid"
done

echo "archive: $projects projects x $repos repositories, $prs pull requests each, $size bytes; best of $runs runs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-62s %8s s\n' "by hand: export + scp + md5sum x2 + import --wait + verify" "$hand_t"
printf '%-62s %8s s  %sx by hand\n' "bbimport migrate (the same steps, one command)" "$migrate_t" \
  "$(awk -v a="$migrate_t" -v b="$hand_t" 'BEGIN { printf "%.2f", a / b }')"
