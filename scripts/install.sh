#!/usr/bin/env bash
# Create .venv beside this project and install sourcemark into it (editable, with test extras).
# torch is pinned first: on these machines torch==2.13.0 is a local CPU wheel, while an unpinned
# torch would pull a multi-GB CUDA build from PyPI. Re-running is cheap: it skips when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${SOURCEMARK_VENV:-.venv}"
PY="${PYTHON:-python3}"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
stamp="$VENV/.sourcemark-installed"
want="$(cat pyproject.toml scripts/install.sh | sha1sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
"$VENV/bin/python" -m pip install -q --upgrade pip "setuptools>=68" wheel
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
"$VENV/bin/python" -m pip install -q -e ".[dev,ray]"
echo "$want" > "$stamp"
echo "sourcemark installed in $VENV" >&2
