"""What a scoring run is asked to do, as one value both engines and the command share.

The local and the Ray engine take the same inputs, outputs and limits; one
frozen value carries them, so a new option is added in one place and cannot
reach one engine and not the other. Every scoring default lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from sourcemark.readers import DEFAULT_MAX_CHARS

#: Passages per forward pass; bench/score_throughput.py compares batch sizes.
DEFAULT_BATCH_SIZE = 16
#: Documents read, scored and appended together: a crash loses at most this many.
DEFAULT_CHUNK_SIZE = 32
#: The first chunk's size; chunks then double up to the chunk size, so the first predictions are written
#: after a couple of documents, not after a whole chunk.
FIRST_CHUNK = 2


class Engine(str, Enum):
    """Where the job runs."""

    local = "local"
    ray = "ray"


class Runtime(str, Enum):
    """How the encoder runs (the heads and decoding always run in torch)."""

    auto = "auto"
    torch = "torch"
    onnx = "onnx"
    onnx_int8 = "onnx-int8"


@dataclass(frozen=True)
class ScoreJob:
    """Inputs, model, outputs and limits of one ``sourcemark score`` run."""

    inputs: tuple[str, ...]
    model_dir: Path
    out: Path
    errors: Path | None = None
    summary: Path | None = None
    max_chars: int = DEFAULT_MAX_CHARS
    batch_size: int = DEFAULT_BATCH_SIZE
    chunk_size: int = DEFAULT_CHUNK_SIZE
    runtime: Runtime = Runtime.auto
    engine: Engine = Engine.local
    progress: bool = True
    #: Ray only: model actors (None: one per CPU) and the cluster to join (None: a local instance).
    actors: int | None = None
    ray_address: str | None = field(default=None, repr=False)
