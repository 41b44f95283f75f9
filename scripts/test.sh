#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (real PostgreSQL, real ONNX models,
# real S3 server) and the browser tests (headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export ORT_DYLIB_PATH="$PWD/vendor/onnxruntime/libonnxruntime.so"
export PATH="$PWD/.cache/tools/bin:$PATH"
cargo test --no-fail-fast -- --test-threads=2
tests/e2e/run.sh
