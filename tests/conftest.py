"""Shared fixtures: paths to the bundled data and the shared material beside the project."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "training" / "data"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def real_dev_path() -> Path:
    """The real-article gold (a copy of the user's seeds' annotations)."""
    return DATA / "real_dev.jsonl"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The raw sample articles the README's main command scores."""
    return DATA / "samples"
