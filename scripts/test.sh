#!/usr/bin/env bash
# The test suite: install (if needed), start a real Label Studio for the integration tests
# (unless one is given by LABEL_STUDIO_TEST_URL or SOURCEMARK_SKIP_LABELSTUDIO=1), then pytest.
# Extra arguments go to pytest. The server is stopped with SIGTERM whatever happens. Chromium and
# chromedriver (for the browser test) are installed like Label Studio; when they cannot be, the
# reason goes to the test in SOURCEMARK_NO_CHROMIUM and the browser test skips with it.
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
if [ "${SOURCEMARK_SKIP_LABELSTUDIO:-0}" != "1" ]; then
  chromium_status=0
  chromium_log="$(bash scripts/chromium.sh 2>&1)" || chromium_status=$?
  [ -z "$chromium_log" ] || echo "$chromium_log" >&2
  [ "$chromium_status" = 0 ] || export SOURCEMARK_NO_CHROMIUM="${chromium_log##*$'\n'}"
fi
"$VENV/bin/python" -m pytest "$@"
