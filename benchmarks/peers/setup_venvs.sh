#!/usr/bin/env bash
# Create one venv per peer engine under benchmarks/.venvs/ (two zen-engine
# versions cannot share an environment). Installs by name from PyPI only.
# Usage: bash benchmarks/peers/setup_venvs.sh [PYTHON]   (default: python3)
set -euo pipefail
PY="${1:-python3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)/.venvs"
mkdir -p "$ROOT"
# Keep the venvs out of git without touching the repo's .gitignore.
printf '*\n' > "$ROOT/.gitignore"

make_venv() {  # make_venv NAME PACKAGE...
  local name="$1"; shift
  echo "== $name: $*"
  "$PY" -m venv --clear "$ROOT/$name"
  "$ROOT/$name/bin/pip" install -q --disable-pip-version-check PyYAML "$@"
}

make_venv cedar cedarpy
make_venv zen037 "zen-engine==0.37.1"
make_venv zen zen-engine
make_venv ruleengine rule-engine
echo "venvs ready in $ROOT"
