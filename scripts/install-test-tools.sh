#!/usr/bin/env bash
# Installs the test-only tools into .cache/tools (git-ignored) when missing:
#   s3s-fs 0.14.1 — a real S3 server on a folder, for the storage/import tests.
# 0.15+ needs a newer rustc than this machine's. Shares the workspace target dir so
# cargo's lock keeps it to one build at a time.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="$ROOT/.cache/tools"
mkdir -p "$TOOLS"
if [ -x "$TOOLS/bin/s3s-fs" ]; then
    echo "s3s-fs already installed: $TOOLS/bin/s3s-fs"
else
    echo "installing s3s-fs 0.14.1 into $TOOLS (about 3 minutes)"
    cargo install s3s-fs --version 0.14.1 --features binary --locked --root "$TOOLS"
fi
