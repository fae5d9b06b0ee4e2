"""Choosing the encoder runtime of a scoring job: torch, ONNX Runtime fp32, or a checked int8 graph.

The model stage knows how to export and run the encoder in ONNX Runtime
(:mod:`sourcemark.model.onnx_encoder`); which runtime a job uses, and the
accuracy gate an int8 graph must pass first, are scoring decisions, because
the gate reads the bundled dev sets and the evaluation stage's metrics.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from sourcemark.model.onnx_encoder import (
    OnnxEncoder, cache_key, export_encoder, load_graph, use_onnx, weights_sha256_of)
from sourcemark.scoring.int8_check import cached_verdict, check_int8
from sourcemark.scoring.job import Runtime


#: Each :class:`Runtime` -> its ``use_onnx`` quantize recipe (None: stay in torch), keyed by the names the
#: command takes. ``onnx`` gives torch's labels; ``onnx-int8`` changes a few passages, and whether that
#: stays within the int8 gate's tolerances depends on the trained weights, so it is checked for every
#: model before use (:func:`_use_checked_int8`). ``auto`` (the default) is ``onnx`` where it can run,
#: else ``torch``.
RUNTIMES: dict[str, str | None] = {Runtime.auto.value: "none", Runtime.torch.value: None,
                                   Runtime.onnx.value: "none", Runtime.onnx_int8.value: "int8"}


class RuntimeUnavailable(ValueError):
    """A ``--runtime`` that does not exist, or whose packages are not installed (a usage error, exit 1)."""


def _onnx_installed() -> bool:
    try:
        import onnx  # noqa: F401 - the exporter and the fusion need it
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def use_runtime(annotator: Any, model_dir: str | os.PathLike[str], runtime: str,
                notice: Callable[[str], None] | None = None) -> str:
    """Apply a ``--runtime`` name to a freshly loaded annotator; returns the runtime actually used.

    ``auto`` picks ONNX Runtime fp32 (the same labels as torch, faster: see
    bench/results/onnx_runtime.json) and falls back to torch, telling ``notice`` why, when
    ONNX Runtime is not installed or the graph can be neither found nor
    written in ``model_dir`` (a read-only shared model directory).
    """
    if runtime not in RUNTIMES:
        raise RuntimeUnavailable(f"unknown runtime {runtime!r}; one of {', '.join(RUNTIMES)}")
    quantize = RUNTIMES[runtime]
    if quantize is None:
        return "torch"
    if not _onnx_installed():
        if runtime == "auto":
            return "torch"
        raise RuntimeUnavailable(f"--runtime {runtime} needs ONNX Runtime: pip install onnx onnxruntime")
    if quantize == "int8":
        return _use_checked_int8(annotator, model_dir, notice or (lambda _message: None))
    if runtime != "auto":
        use_onnx(annotator, model_dir, quantize)
        return runtime
    try:
        use_onnx(annotator, model_dir, quantize)
    except Exception as exc:  # noqa: BLE001 - any export failure: torch still scores, with the same labels
        if notice is not None:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"{type(exc).__name__}: {exc}"
            notice(f"runtime auto: no ONNX graph for {model_dir} ({reason}); scoring with torch")
        return "torch"
    return "onnx"


def _use_checked_int8(annotator: Any, model_dir: str | os.PathLike[str], notice: Callable[[str], None]) -> str:
    """The int8 graph if this model passed the dev-set check (run once, cached), else the fp32 graph."""
    encoder = annotator.net.encoder
    if isinstance(encoder, OnnxEncoder):
        raise ValueError("this annotator's encoder already runs in ONNX Runtime")
    # hashed once for every graph and the verdict below
    digest = weights_sha256_of(annotator, model_dir)
    graph = export_encoder(encoder, model_dir, "int8", weights_sha256=digest)
    # the verdict is keyed like the graph: new weights are checked again whatever the files' times say
    key = cache_key(digest, "int8")

    def switch() -> None:
        annotator.net.encoder = load_graph(encoder, model_dir, "int8", weights_sha256=digest)

    verdict = cached_verdict(graph, key)
    if verdict is None:
        notice("runtime onnx-int8: checking the int8 graph against fp32 on the bundled dev sets (once per model)")
        verdict = check_int8(annotator, graph, switch, key)
    elif verdict.get("passed"):
        switch()
    if verdict.get("passed"):
        return "onnx-int8"
    annotator.net.encoder = load_graph(encoder, model_dir, "none", weights_sha256=digest)
    notice(f"runtime onnx-int8: the int8 graph moves this model's dev-set scores beyond the rule "
           f"(fp32 {verdict.get('fp32')}, int8 {verdict.get('int8')}); scoring with the fp32 ONNX graph")
    return "onnx"
