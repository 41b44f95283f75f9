#!/usr/bin/env bash
# A sign-in flood: starts BINARY (`rockstar`) on a throwaway data folder with the per-IP and
# per-username limits off (as for an attacker with many addresses), sends 15 s of wrong
# passwords over 256 connections with wrk, and prints the rate, the latency and the
# server's peak memory.   Usage: scripts/bench/logins.sh BINARY [LABEL]   (needs wrk)
set -euo pipefail
bin=$(realpath "$1"); label=${2:-$(basename "$1")}; port=${BENCH_PORT:-18556}
source "$(dirname "$0")/serve.sh"
export ROCKSTAR_RATE_LIMIT__LOGIN_PER_MINUTE=0 ROCKSTAR_RATE_LIMIT__LOGIN_PER_ACCOUNT_PER_MINUTE=0
start_server "$bin" "$port"
mb() { echo $(( $(awk -v k="$1:" '$1 == k {print $2}' /proc/$pid/status) / 1024 )); }
start=$(mb VmRSS)
printf '%s: ' "$label"
wrk -t2 -c256 -d15s --timeout 30s -s "$root/scripts/bench/logins.lua" "http://127.0.0.1:$port/" \
    | awk '/Requests\/sec/ {printf "%s attempts/s, ", $2} /^attempts / {printf "%s, ", $0}'
echo "memory $start MB at rest, peak $(mb VmHWM) MB"
