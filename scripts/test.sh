#!/usr/bin/env bash
# The test suite: install (if needed), then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
VENV="${SOURCEMARK_VENV:-.venv}"
exec "$VENV/bin/python" -m pytest "$@"
