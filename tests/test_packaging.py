"""The wheel installs everything under the one ``sourcemark`` package, data included."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT


def test_wheel_builds_and_imports(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(ROOT)],
        check=True,
    )
    (wheel,) = dist.glob("sourcemark-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_levels = {n.split("/")[0] for n in names if not n.startswith("sourcemark-")}
    assert top_levels == {"sourcemark"}
    for stage in ("model", "annotation", "training", "eval"):
        assert f"sourcemark/{stage}/__init__.py" in names
    assert "sourcemark/training/data/real_dev.jsonl" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                    str(wheel)], check=True)
    probe = (
        "import sourcemark, sourcemark.model, sourcemark.eval, sourcemark.training, sourcemark.annotation;"
        "from sourcemark.labels import ROLES; print(sourcemark.__file__)"
    )
    out = subprocess.run([sys.executable, "-c", probe], env={"PYTHONPATH": str(target), "PATH": ""},
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip().startswith(str(target))
