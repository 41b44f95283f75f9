#!/usr/bin/env bash
# A sign-in flood: starts BINARY (`rockstar`) on a throwaway data folder with the per-IP and
# per-username limits off (as for an attacker with many addresses), sends 15 s of wrong
# passwords over 256 connections with wrk, and prints the rate, the latency and the
# server's peak memory.   Usage: scripts/bench/logins.sh BINARY [LABEL]   (needs wrk)
set -euo pipefail
bin=$(realpath "$1"); label=${2:-$(basename "$1")}; port=${BENCH_PORT:-18556}
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then echo "port $port is busy"; exit 1; fi
work=$(mktemp -d /tmp/rockstar-bench.XXXXXX); chmod 755 "$work"; mkdir -p "$work/data"; chmod 777 "$work/data"
export ROCKSTAR_RATE_LIMIT__LOGIN_PER_MINUTE=0 ROCKSTAR_RATE_LIMIT__LOGIN_PER_ACCOUNT_PER_MINUTE=0
cd "$root"
"$bin" serve --bind "127.0.0.1:$port" --data "$work/data" > "$work/server.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
    kill -0 $pid 2>/dev/null || { cat "$work/server.log"; exit 1; }
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 1
done
mb() { echo $(( $(awk -v k="$1:" '$1 == k {print $2}' /proc/$pid/status) / 1024 )); }
start=$(mb VmRSS)
printf '%s: ' "$label"
wrk -t2 -c256 -d15s --timeout 30s -s "$root/scripts/bench/logins.lua" "http://127.0.0.1:$port/" \
    | awk '/Requests\/sec/ {printf "%s attempts/s, ", $2} /^attempts / {printf "%s, ", $0}'
echo "memory $start MB at rest, peak $(mb VmHWM) MB"
