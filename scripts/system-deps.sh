#!/usr/bin/env bash
# Installs the Debian packages a purpose needs, only those that are missing.
#   runtime: pango and HarfBuzz's subsetter (WeasyPrint renders certificates with them)
#   test:    runtime + PostgreSQL (a throwaway server per test run), psql, Chromium (browser tests)
#   pip:     python3-pip (only to install uv where pip is missing)
set -euo pipefail

case "${1:-runtime}" in
  runtime) packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0) ;;
  test) packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 postgresql postgresql-client chromium) ;;
  pip) packages=(python3-pip) ;;
  *) echo "usage: $0 runtime|test|pip" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "==> not a Debian system: install these yourself if missing: ${packages[*]}" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "==> installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
