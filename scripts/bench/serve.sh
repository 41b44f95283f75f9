# Sourced by the benchmark scripts: start_server BINARY PORT starts `rockstar serve` from the
# repository root on a throwaway data folder with the embedded defaults, waits until it is
# ready, and stops it and removes the folder when the script exits. Sets $root and $pid.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

start_server() {
    local bin=$1 port=$2
    # Load comes from one address; the per-IP request limit would measure itself.
    export ROCKSTAR_RATE_LIMIT__REQUESTS_PER_MINUTE=0
    command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
    if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then echo "port $port is busy"; exit 1; fi
    work=$(mktemp -d /tmp/rockstar-bench.XXXXXX); chmod 755 "$work"; mkdir -p "$work/data"; chmod 777 "$work/data"
    (cd "$root" && exec "$bin" serve --bind "127.0.0.1:$port" --data "$work/data") > "$work/server.log" 2>&1 &
    pid=$!
    trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
    for _ in $(seq 1 600); do
        kill -0 $pid 2>/dev/null || { cat "$work/server.log"; exit 1; }
        curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0
        sleep 1
    done
    echo "the server was not ready within 10 minutes"; exit 1
}
