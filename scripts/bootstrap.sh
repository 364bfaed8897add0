#!/usr/bin/env bash
# Installs what running award_jury needs on a fresh Debian machine with python3, make and apt:
# uv (from PyPI), the locked Python dependencies, the compiled translation catalogs,
# and the system libraries for PDF rendering. Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never

python3 - <<'PY' || { echo "award_jury needs Python >= 3.11 as python3" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

scripts/system-deps.sh runtime

UV="$(command -v uv || true)"
if [ -z "$UV" ] && [ -x "$HOME/.local/bin/uv" ]; then UV="$HOME/.local/bin/uv"; fi
if [ -z "$UV" ]; then
  echo "==> installing uv from PyPI"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    scripts/system-deps.sh pip
  fi
  python3 -m pip install --quiet --user --break-system-packages uv 2>/dev/null \
    || python3 -m pip install --quiet --user uv
  UV="$(command -v uv || echo "$HOME/.local/bin/uv")"
fi

"$UV" sync --frozen --quiet
"$UV" run --frozen python -m award_jury.web.catalogs compile
