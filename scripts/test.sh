#!/usr/bin/env bash
# The test suite: install (if needed), start a real Label Studio for the integration tests
# (unless one is given by LABEL_STUDIO_TEST_URL or SOURCEMARK_SKIP_LABELSTUDIO=1), then pytest.
# Extra arguments go to pytest. The server is stopped with SIGTERM whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
bash scripts/install.sh
VENV="${SOURCEMARK_VENV:-.venv}"
if [ -z "${LABEL_STUDIO_TEST_URL:-}" ] && [ "${SOURCEMARK_SKIP_LABELSTUDIO:-0}" != "1" ]; then
  bash scripts/labelstudio.sh install
  trap 'bash scripts/labelstudio.sh stop' EXIT
  ls_env="$(bash scripts/labelstudio.sh start)"
  eval "$ls_env"
fi
"$VENV/bin/python" -m pytest "$@"
