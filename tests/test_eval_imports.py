"""The evaluation stage stands on its own: installs without the training, annotation or model stage can score."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import sourcemark.eval

EVAL_DIR = Path(sourcemark.eval.__file__).parent
NEVER = ("sourcemark.training", "sourcemark.annotation")
MODEL = "sourcemark.model"
MODEL_ALLOWED_IN = ("run.py", "predict_with_model")


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def imports(path: Path) -> list[tuple[str, str | None]]:
    """Every module ``path`` imports, with the function the import sits in (None: module level)."""
    found: list[tuple[str, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((alias.name, function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: resolved against sourcemark.eval
                    base = ".".join(["sourcemark.eval", base][: 2 if base else 1])
                found.append((base, function))
                found.extend((f"{base}.{alias.name}", function) for alias in child.names)
            visit(child, child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function)

    visit(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


def test_eval_files_never_import_training_or_annotation_and_model_only_lazily() -> None:
    files = sorted(EVAL_DIR.glob("*.py"))
    assert files
    for path in files:
        for name, function in imports(path):
            assert not any(_within(name, stage) for stage in NEVER), f"{path.name} imports {name}"
            if _within(name, MODEL):
                assert (path.name, function) == MODEL_ALLOWED_IN, (
                    f"{path.name} imports {name} outside {MODEL_ALLOWED_IN[1]}")


def test_importing_the_evaluation_stage_loads_no_other_stage() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import sourcemark.eval as e\n"
        "for m in pkgutil.iter_modules(e.__path__): importlib.import_module('sourcemark.eval.' + m.name)\n"
        f"print(sorted(k for k in sys.modules if k.startswith({(*NEVER, MODEL)!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
