#!/usr/bin/env bash
# Puts libonnxruntime.so (from the PyPI wheel onnxruntime==1.31.1) into vendor/onnxruntime/.
# ort is built with `load-dynamic`, so nothing is downloaded at build time; the binary
# finds this library through face.onnxruntime, ORT_DYLIB_PATH or this default folder.
set -euo pipefail
VERSION=1.31.1
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/vendor/onnxruntime"
lib="$dest/libonnxruntime.so.$VERSION"
if [ -f "$lib" ]; then ln -sf "libonnxruntime.so.$VERSION" "$dest/libonnxruntime.so"; echo "$lib"; exit 0; fi
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A fresh Debian has neither python3 nor pip; the machine's own are used when present.
if ! python3 -m pip --version >/dev/null 2>&1; then
    sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq --no-install-recommends python3 python3-pip ca-certificates
fi
python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --python-version 3.11 --platform manylinux_2_27_x86_64 --platform manylinux_2_28_x86_64 \
    -d "$tmp" "onnxruntime==$VERSION" >&2
wheel=$(ls "$tmp"/onnxruntime-*.whl)
python3 - "$wheel" "$dest" "$VERSION" <<'PY'
import sys, zipfile, os
wheel, dest, version = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if base.startswith("libonnxruntime.so"):
            with z.open(name) as src, open(os.path.join(dest, f"libonnxruntime.so.{version}"), "wb") as out:
                out.write(src.read())
            break
    else:
        sys.exit("libonnxruntime.so not found in " + wheel)
PY
ln -sf "libonnxruntime.so.$VERSION" "$dest/libonnxruntime.so"
echo "$lib"
