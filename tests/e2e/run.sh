#!/usr/bin/env bash
# Browser tests for the web app: installs Chromium, ffmpeg and playwright-core if
# missing, starts a RockStar server on a throwaway data folder, runs the tests with
# Node's built-in runner, and stops the server. Prints where the screenshots went.
set -euo pipefail

# ---- how the server is started (keep every server flag here) -------------------
E2E_PORT="${E2E_PORT:-18088}"
E2E_PROFILE="${E2E_PROFILE:-dev}"                # cargo profile: dev (as the other tests) | release
serve_cmd() {                                     # $1 = data folder
    local profile_flag=()
    [ "$E2E_PROFILE" = release ] && profile_flag=(--release)
    cargo run "${profile_flag[@]}" --quiet --bin rockstar -- \
        serve --bind "127.0.0.1:$E2E_PORT" --data "$1"
}
# The tests sign up several accounts from one address within a minute.
export ROCKSTAR_RATE_LIMIT__SIGNUP_BURST="${ROCKSTAR_RATE_LIMIT__SIGNUP_BURST:-100}"
export ROCKSTAR_RATE_LIMIT__SIGNUP_PER_MINUTE="${ROCKSTAR_RATE_LIMIT__SIGNUP_PER_MINUTE:-600}"
# The scrolling test seeds 25 posts from one account at once.
export ROCKSTAR_RATE_LIMIT__POST_BURST="${ROCKSTAR_RATE_LIMIT__POST_BURST:-100}"
export ROCKSTAR_RATE_LIMIT__POST_PER_MINUTE="${ROCKSTAR_RATE_LIMIT__POST_PER_MINUTE:-600}"
# The tests run side by side from one address.
export ROCKSTAR_RATE_LIMIT__REQUESTS_BURST="${ROCKSTAR_RATE_LIMIT__REQUESTS_BURST:-2000}"
export ROCKSTAR_RATE_LIMIT__REQUESTS_PER_MINUTE="${ROCKSTAR_RATE_LIMIT__REQUESTS_PER_MINUTE:-6000}"
READY_TIMEOUT_SECS="${READY_TIMEOUT_SECS:-900}"
# ---------------------------------------------------------------------------------

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
shared_data="${E2E_SHARED_DATA:-$root/../shared/data}"
cd "$root"

if [ ! -d "$shared_data/pairs" ]; then
    echo "e2e: SKIPPED: test photos not found at $shared_data/pairs (../shared/data is absent)"
    exit 0
fi

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v curl >/dev/null 2>&1 || need+=(curl)
# The machine's own Node.js when it has one (the runner needs 18.19+ for --test-concurrency).
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
    echo "e2e: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    sudo_ apt-get install -y -qq --no-install-recommends "${need[@]}" \
        || { sudo_ apt-get update -qq && sudo_ apt-get install -y -qq --no-install-recommends "${need[@]}"; }
fi

if [ ! -d "$here/node_modules/playwright-core" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

: "${CARGO_TARGET_DIR:=}"
[ -n "$CARGO_TARGET_DIR" ] && export CARGO_TARGET_DIR
if [ -z "${ORT_DYLIB_PATH:-}" ] && [ -e "$root/vendor/onnxruntime/libonnxruntime.so" ]; then
    export ORT_DYLIB_PATH="$root/vendor/onnxruntime/libonnxruntime.so"
fi

work="$(mktemp -d /tmp/rockstar-e2e.XXXXXX)"
chmod 755 "$work"                      # the embedded PostgreSQL runs as another user
mkdir -p "$work/data"
chmod 777 "$work/data"
shots="${E2E_SHOTS:-$work/screenshots}"
mkdir -p "$shots"
server_log="$work/server.log"

echo "e2e: building the server ($E2E_PROFILE)"
build_flag=()
[ "$E2E_PROFILE" = release ] && build_flag=(--release)
cargo build "${build_flag[@]}" --quiet --bin rockstar

# Something already answering on the port would be tested in place of this build.
if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$E2E_PORT/"; then
    echo "e2e: port $E2E_PORT is already in use; stop what runs there or set E2E_PORT" >&2
    exit 1
fi

server_pid=""
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM -- "-$server_pid" 2>/dev/null || kill -TERM "$server_pid" 2>/dev/null || true
        # Wait for the whole group: the server stops its PostgreSQL before it exits.
        for _ in $(seq 1 120); do kill -0 -- "-$server_pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL -- "-$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work/data"                # the database; screenshots and the log stay
}
trap stop_server EXIT

echo "e2e: starting the server on 127.0.0.1:$E2E_PORT (log: $server_log)"
setsid bash -c "$(declare -f serve_cmd); E2E_PORT=$E2E_PORT E2E_PROFILE=$E2E_PROFILE serve_cmd '$work/data'" \
    >"$server_log" 2>&1 &
server_pid=$!

base="http://127.0.0.1:$E2E_PORT"
deadline=$((SECONDS + READY_TIMEOUT_SECS))
until curl -fsS "$base/readyz" >/dev/null 2>&1; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "e2e: the server exited before it was ready; last lines of its log:"
        tail -n 40 "$server_log"
        exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
        echo "e2e: the server was not ready after ${READY_TIMEOUT_SECS}s; /readyz says:"
        curl -sS "$base/readyz" || true
        echo
        echo "e2e: last lines of its log:"
        tail -n 40 "$server_log"
        exit 1
    fi
    sleep 1
done
echo "e2e: server ready"
echo "e2e: screenshots go to $shots"

status=0
E2E_BASE_URL="$base" E2E_SHOTS="$shots" E2E_SHARED_DATA="$shared_data" E2E_WORK="$work" \
    node --test --test-concurrency=1 --test-reporter=spec "$here"/tests/*.test.mjs || status=$?

echo "e2e: screenshots are in $shots"
ls "$shots" | sed 's/^/  /'
exit $status
