#!/usr/bin/env bash
# The main job on the bundled default: install, then segment the sample articles.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
VENV="${SOURCEMARK_VENV:-.venv}"
mkdir -p out
"$VENV/bin/sourcemark" segment training/data/samples --out out/samples.segmented.jsonl
"$VENV/bin/sourcemark" validate --allow-unlabelled out/samples.segmented.jsonl
echo "wrote out/samples.segmented.jsonl" >&2
