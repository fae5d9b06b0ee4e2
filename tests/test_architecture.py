"""Imports run one way: core <- model <- eval, training, scoring <- annotation (docs/ARCHITECTURE.md).

Read from the source with ``ast`` (imports inside functions included), so an
upward import fails here even when no test happens to execute it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = {"sourcemark": ROOT / "sourcemark", "model": ROOT / "model", "training": ROOT / "training",
          "eval": ROOT / "eval", "scoring": ROOT / "scoring", "annotation": ROOT / "annotation"}
#: stage -> the stages it must never import (``sourcemark`` is the core package).
FORBIDDEN = {
    "sourcemark": {"model", "training", "eval", "scoring", "annotation"},
    "model": {"training", "eval", "scoring", "annotation"},
    "eval": {"training", "scoring", "annotation"},
    "training": {"scoring", "annotation"},
    "scoring": {"training", "annotation"},
    "annotation": set(),
}
#: The one core module allowed to reach up: it registers each stage's commands on the main app.
COMMAND_REGISTRY = ROOT / "sourcemark" / "cli.py"


def imported_stages(path: Path) -> set[str]:
    """The stages (``sourcemark.<stage>``) a source file imports anywhere in its body."""
    stages = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "sourcemark" and len(parts) > 1 and parts[1] in STAGES:
                stages.add(parts[1])
    return stages


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_no_stage_imports_upward(stage: str) -> None:
    bad = {}
    for path in sorted(STAGES[stage].glob("*.py")):
        if path == COMMAND_REGISTRY:
            continue
        upward = imported_stages(path) & FORBIDDEN[stage]
        if upward:
            bad[str(path.relative_to(ROOT))] = sorted(upward)
    assert bad == {}, f"upward imports: {bad}"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself finds imports inside functions and ``from sourcemark import <stage>`` forms."""
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from sourcemark.training.corpus import x\n"
                      "from sourcemark import scoring\n", encoding="utf-8")
    assert imported_stages(source) == {"training", "scoring"}
