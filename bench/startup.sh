#!/usr/bin/env bash
# Startup figures of `npm start` (node --liftoff-only src/library/main.ts), each the median of RUNS runs:
#   - cold start: from spawning the process to the first 200 on /api/books/
#       pglite-fresh     embedded PGlite, a new data folder (initdb, migrations, seeding)
#       pglite-existing  embedded PGlite, a folder a previous start already set up
#       postgres-fresh   PostgreSQL, a database created empty for the run (only when DATABASE_URL is set)
#   - CPU: user+system CPU time the server used up to that first 200 (from /proc; unlike the wall
#     clock, barely moved by other processes competing for the CPUs)
#   - idle RSS: the server's resident memory (ps -o rss) IDLE_SECONDS after that first 200
# Usage: bench/startup.sh [--npm-ci]     env: RUNS (3), PORT (3950), IDLE_SECONDS (2), NODE (node),
#        DATABASE_URL=postgres://user@host:port/db (the server to create the throw-away databases on)
# --npm-ci also times `npm ci` in a clean clone of the repository's HEAD.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
PORT=${PORT:-3950}
IDLE_SECONDS=${IDLE_SECONDS:-2}
NODE=${NODE:-node}
URL="http://127.0.0.1:${PORT}/api/books/"
work=$(mktemp -d "${TMPDIR:-/tmp}/fastrest-startup.XXXXXX")
server_pid=""

cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then kill -TERM "$server_pid"; wait "$server_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

node_major=$("$NODE" -p 'process.versions.node.split(".")[0]')
if (( node_major < 24 )); then echo "Node >= 24 is needed (found $("$NODE" -v)); set NODE or PATH" >&2; exit 1; fi

now_ms() { date +%s%3N; }

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cpu_ms() { awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / tck) }' "/proc/$1/stat"; }

# start_once ENV... : starts the server with ENV, prints "<ms to first 200> <CPU ms> <idle RSS in KiB>", stops it.
start_once() {
  local start elapsed cpu rss
  start=$(now_ms)
  env -u DATABASE_URL -u DATA_DIR HOST=127.0.0.1 PORT="$PORT" LOG_LEVEL=warn "$@" "$NODE" --liftoff-only src/library/main.ts >"$work/server.log" 2>&1 &
  server_pid=$!
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL" || true)" == 200 ]]; do
    if ! kill -0 "$server_pid" 2>/dev/null; then echo "the server exited:" >&2; cat "$work/server.log" >&2; exit 1; fi
    if (( $(now_ms) - start > 120000 )); then echo "no 200 within 120 s" >&2; exit 1; fi
    sleep 0.02
  done
  elapsed=$(( $(now_ms) - start ))
  cpu=$(cpu_ms "$server_pid")
  sleep "$IDLE_SECONDS"
  rss=$(ps -o rss= -p "$server_pid" | tr -d ' ')
  kill -TERM "$server_pid"
  wait "$server_pid" || { echo "the server did not exit cleanly:" >&2; cat "$work/server.log" >&2; exit 1; }
  server_pid=""
  echo "$elapsed $cpu $rss"
}

# report LABEL SETUP : runs SETUP (which sets the array `server_env`) before each of RUNS starts.
report() {
  local label=$1 setup=$2 times=() cpus=() rsses=() out
  for (( i = 1; i <= RUNS; i++ )); do
    "$setup" "$i"
    read -r -a out <<<"$(start_once "${server_env[@]}")"
    times+=("${out[0]}")
    cpus+=("${out[1]}")
    rsses+=("${out[2]}")
  done
  printf '%-16s first 200 %6s ms (runs: %s)  CPU %6s ms (runs: %s)  idle RSS %4d MiB (runs: %s KiB)\n' \
    "$label" "$(median "${times[@]}")" "${times[*]}" "$(median "${cpus[@]}")" "${cpus[*]}" "$(( $(median "${rsses[@]}" | cut -d. -f1) / 1024 ))" "${rsses[*]}"
}

fresh_pglite() { server_env=(DATA_DIR="$work/fresh-$1/pglite"); }

existing_pglite() {
  server_env=(DATA_DIR="$work/existing/pglite")
  if [[ ! -d "$work/existing" ]]; then start_once "${server_env[@]}" >/dev/null; fi # set up once, not measured
}

fresh_postgres() {
  local db="fastrest_startup_$$_$1"
  psql -q "$DATABASE_URL" -c "create database \"$db\"" >/dev/null
  dropped+=("$db")
  server_env=(DATABASE_URL="$(DB="$db" "$NODE" -e 'const u = new URL(process.env.DATABASE_URL); u.pathname = "/" + process.env.DB; console.log(u.href)')")
}

echo "fastrest startup, $RUNS runs each, node $("$NODE" -v), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
report pglite-fresh fresh_pglite
report pglite-existing existing_pglite
if [[ -n "${DATABASE_URL:-}" ]]; then
  dropped=()
  report postgres-fresh fresh_postgres
  for db in "${dropped[@]}"; do psql -q "$DATABASE_URL" -c "drop database if exists \"$db\" with (force)" >/dev/null; done
else
  echo "postgres-fresh   skipped: DATABASE_URL is not set"
fi

if [[ "${1:-}" == "--npm-ci" ]]; then
  git clone -q "$PWD" "$work/clone"
  start=$(now_ms)
  (cd "$work/clone" && npm ci --no-audit --no-fund >/dev/null 2>&1)
  echo "npm ci (clean clone of HEAD): $(( $(now_ms) - start )) ms, node_modules $(du -sh "$work/clone/node_modules" | cut -f1)"
fi
