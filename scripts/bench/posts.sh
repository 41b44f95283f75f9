#!/usr/bin/env bash
# Posting throughput: starts BINARY (`rockstar`) on a throwaway data folder with the
# embedded defaults, signs one member up with a real selfie, and has wrk post statuses
# for 10 s at 1, 8 and 32 connections. Compare two builds by running it for each, in
# turns, in the same session.   Usage: scripts/bench/posts.sh BINARY [LABEL]
# Needs wrk (apt-get install wrk) and ../shared/data/pairs for the selfie.
set -euo pipefail
bin=$(realpath "$1"); label=${2:-$(basename "$1")}; port=${BENCH_PORT:-18555}
source "$(dirname "$0")/serve.sh"
selfie="$root/../shared/data/pairs/human_001.jpg"
[ -f "$selfie" ] || { echo "no selfie at $selfie"; exit 1; }
export ROCKSTAR_RATE_LIMIT__POST_PER_MINUTE=100000000 ROCKSTAR_RATE_LIMIT__POST_BURST=100000000
start_server "$bin" "$port"
token=$(curl -sf -F "username=bench_$RANDOM" -F "password=correct horse battery" -F consent=true \
    -F "photo=@$selfie" "http://127.0.0.1:$port/api/v1/accounts" \
    | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
for c in 1 8 32; do
    threads=$([ "$c" = 1 ] && echo 1 || echo 2)
    printf '%s, %2d connections: ' "$label" "$c"
    TOKEN=$token wrk -t"$threads" -c"$c" -d10s -s "$root/scripts/bench/posts.lua" "http://127.0.0.1:$port/" \
        | awk '/Requests\/sec/ {printf "%s posts/s, ", $2} /^posts / {print}'
done
