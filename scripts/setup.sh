#!/usr/bin/env bash
# Installs what RockStar needs on a fresh Debian machine with Rust: PostgreSQL server
# binaries and ONNX Runtime. With --test also the test tools (Chromium, ffmpeg, s3s-fs,
# playwright-core). Idempotent: skips what is already there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ $apt_updated = 0 ]; then sudo_ apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql
"$here/scripts/fetch-onnxruntime.sh" >/dev/null

if [ $want_test = 1 ]; then
    apt_install chromium ffmpeg
    "$here/scripts/install-test-tools.sh"
fi
