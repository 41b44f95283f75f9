#!/usr/bin/env bash
# Runs RockStar on its embedded defaults: a private PostgreSQL under ./data, files on
# local disk, and a built-in rock gallery. Extra arguments go to `rockstar serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec cargo run --release -- serve "$@"
