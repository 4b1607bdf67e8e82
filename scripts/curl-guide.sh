#!/usr/bin/env bash
# Runs the curl commands of Atlassian's import guide, as the guide writes
# them, against `bbimport serve` on a temporary home, and checks the answers
# with jq. Only two things differ from the guide: <admin> is admin:pw, and
# the port is a free one instead of 7990. `-n` reads a temporary ~/.netrc.
#
#   scripts/curl-guide.sh            # builds bbimport with go build
#   BBIMPORT=/path/to/bbimport scripts/curl-guide.sh
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "curl-guide: $tool is not installed" >&2; exit 2; }
done

work=$(mktemp -d)
serve_pid=
cleanup() {
  if [[ -n $serve_pid ]]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "curl-guide: FAIL: $*" >&2; [[ -f $work/serve.log ]] && sed 's/^/  serve: /' "$work/serve.log" >&2; exit 1; }
step() { echo "== $*"; }

bin=${BBIMPORT:-}
if [[ -z $bin ]]; then
  bin=$work/bbimport
  go build -o "$bin" .
fi

home=$work/home
import_dir=$home/shared/data/migration/import
mkdir -p "$import_dir"
step "generating archives"
"$bin" gen --out "$import_dir/Bitbucket_export_422.tar" --projects 1 --repos 2 --forks 1 --prs 3 --commits 3 --blob-kib 0 >/dev/null
# Big enough to be still running when the guide's cancel arrives.
"$bin" gen --out "$import_dir/Bitbucket_export_423.tar" --projects 2 --repos 4 --forks 1 --prs 10 --commits 20 --blob-kib 8 --seed 2 >/dev/null

# -n reads ~/.netrc, as the guide's admin has it.
export HOME=$work
printf 'machine localhost\n  login admin\n  password pw\n' >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"

BBIMPORT_ADMIN_USER=admin BBIMPORT_ADMIN_PASSWORD=pw \
  "$bin" serve --home "$home" --listen 127.0.0.1:0 2>"$work/serve.log" &
serve_pid=$!
url=
for _ in $(seq 1 300); do
  url=$(sed -n 's/.*msg=serving url=\([^ ]*\).*/\1/p' "$work/serve.log")
  [[ -n $url ]] && break
  kill -0 "$serve_pid" 2>/dev/null || fail "bbimport serve exited"
  sleep 0.1
done
[[ -n $url ]] || fail "bbimport serve did not start"
port=${url#http://127.0.0.1:}
port=${port%%/*}
echo "serving on port $port"

# The guide's first command, starting the big archive.
step "start (guide: curl -u <admin> -s -n -X POST ... | jq .)"
curl -u admin:pw -s -n -X POST -H 'Content-type: application/json' \
     -d '{"archivePath":"Bitbucket_export_423.tar"}' "http://localhost:$port/rest/api/1.0/migration/imports" | jq . | tee "$work/start.json"
jq -e '(.id|type) == "number" and .type == "com.atlassian.bitbucket.migration.import"
       and (.state|IN("INITIALISING","READY","RUNNING")) and .initiator.name == "admin"
       and (.startDate|type) == "number"' "$work/start.json" >/dev/null || fail "start answer"
big=$(jq .id "$work/start.json")

step "a second import while one runs: 503"
curl -u admin:pw -s -n -X POST -H 'Content-type: application/json' \
     -d '{"archivePath":"Bitbucket_export_422.tar"}' "http://localhost:$port/rest/api/1.0/migration/imports" | jq . | tee "$work/busy.json"
jq -e '.errors[0].message | test("already running")' "$work/busy.json" >/dev/null || fail "second import was not refused"

# The guide's cancel: a JSON content type and no body; 204 prints nothing.
step "cancel (guide: curl -u <admin> -s -n -X POST -H 'Content-type: application/json' .../cancel)"
out=$(curl -u admin:pw -s -n -X POST -H 'Content-type: application/json' \
     "http://localhost:$port/rest/api/1.0/migration/imports/$big/cancel")
[[ -z $out ]] || fail "cancel answered $out"

# The command inside the guide's watch -n1 '…', once a second until the end.
step "watch (guide: watch -n1 'curl -u <admin> -s -n -X GET .../imports/<jobId> | jq .')"
wait_finished() {
  local id=$1 state
  for _ in $(seq 1 600); do
    curl -u admin:pw -s -n -X GET "http://localhost:$port/rest/api/1.0/migration/imports/$id" | jq . >"$work/job.json"
    state=$(jq -r .state "$work/job.json")
    echo "job $id: $state $(jq -r '.progress.percentage' "$work/job.json")%"
    case $state in COMPLETED|FAILED|CANCELED|TIMED_OUT|ABORTED) return 0;; esac
    sleep 1
  done
  fail "job $id did not finish"
}
wait_finished "$big"
jq -e '.state == "CANCELED" and (.endDate|type) == "number"' "$work/job.json" >/dev/null || fail "canceled job: $(cat "$work/job.json")"

step "start the small archive and watch it to the end"
curl -u admin:pw -s -n -X POST -H 'Content-type: application/json' \
     -d '{"archivePath":"Bitbucket_export_422.tar"}' "http://localhost:$port/rest/api/1.0/migration/imports" | jq . >"$work/start2.json"
small=$(jq -e .id "$work/start2.json") || fail "second start: $(cat "$work/start2.json")"
wait_finished "$small"

step "messages (guide: curl -u <admin> -s -n -X GET .../imports/<jobId>/messages | jq .)"
curl -u admin:pw -s -n -X GET "http://localhost:$port/rest/api/1.0/migration/imports/$small/messages" | jq . | tee "$work/messages.json" | head -20
jq -e '.start == 0 and .limit == 25 and .size == (.values|length) and .size > 0
       and (.isLastPage == (has("nextPageStart")|not))
       and all(.values[]; (.id|type) == "string" and (.severity|IN("INFO","WARN","ERROR")) and (.createdDate|type) == "number")' \
   "$work/messages.json" >/dev/null || fail "messages page"

step "what the import brought in: projects, repositories, pull requests (under /rest/api/latest too)"
curl -u admin:pw -s "http://localhost:$port/rest/api/latest/projects" | jq . >"$work/projects.json"
jq -e '.size >= 1 and .isLastPage and all(.values[]; (.key|type) == "string" and (.id|type) == "number")' "$work/projects.json" >/dev/null \
  || fail "projects: $(cat "$work/projects.json")"
# The canceled import may have left a repository without pull requests (a
# cancel during git data skips them), so look for one that has some.
found=
for key in $(jq -r '.values[] | select(.type == "NORMAL") | .key' "$work/projects.json"); do
  curl -u admin:pw -s "http://localhost:$port/rest/api/1.0/projects/$key/repos" | jq . >"$work/repos.json"
  jq -e 'all(.values[]; .project.key == "'"$key"'")' "$work/repos.json" >/dev/null || fail "repositories of $key: $(cat "$work/repos.json")"
  for slug in $(jq -r '.values[].slug' "$work/repos.json"); do
    curl -u admin:pw -s "http://localhost:$port/rest/api/1.0/projects/$key/repos/$slug/pull-requests?state=ALL" | jq . >"$work/prs.json"
    jq -e 'all(.values[]; (.state|IN("OPEN","MERGED","DECLINED")))' "$work/prs.json" >/dev/null || fail "pull requests of $key/$slug: $(cat "$work/prs.json")"
    if jq -e '.size >= 1' "$work/prs.json" >/dev/null; then found=$key/$slug; break 2; fi
  done
done
[[ -n $found ]] || fail "no imported repository has pull requests"
echo "$key/$slug: $(jq .size "$work/prs.json") pull requests"

step "cancel of a finished job: 409"
curl -u admin:pw -s -n -X POST -H 'Content-type: application/json' \
     "http://localhost:$port/rest/api/1.0/migration/imports/$small/cancel" | jq . | tee "$work/409.json"
jq -e '.errors[0].message | test("finished|CANCELED|COMPLETED|FAILED")' "$work/409.json" >/dev/null || fail "cancel of a finished job"

step "-n alone: the password from ~/.netrc"
curl -s -n "http://localhost:$port/rest/api/1.0/migration/imports/$small" | jq -e ".id == $small" >/dev/null || fail "netrc auth"

step "wrong password: 401 with Bitbucket's error JSON"
code=$(curl -u admin:nope -s -o "$work/401.json" -w '%{http_code}' "http://localhost:$port/rest/api/1.0/migration/imports/$small")
if [[ $code != 401 ]] || ! jq -e '.errors[0] | has("context") and has("exceptionName")' "$work/401.json" >/dev/null; then
  fail "401: $code $(cat "$work/401.json")"
fi

step "SIGTERM: serve exits cleanly"
kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve exited with status $?"
serve_pid=
echo "curl-guide: all guide commands gave the documented results"
