"""The accuracy gate of the int8 runtime: an int8 graph is used only if it keeps the dev-set scores.

Dynamic int8 quantisation changes a few passages' labels, and how many
depends on the trained weights: the same recipe kept one model within the
rule and cost another 0.04 role macro-F1. So ``--runtime onnx-int8`` checks
each model once, the first time it is asked for, on the bundled dev sets (the
corpus dev split and the real dev split, gold passage boundaries): role
macro-F1 must stay within :data:`ROLE_TOLERANCE` of the fp32 model and
mention F1 within :data:`MENTION_TOLERANCE` on both. The verdict is cached
beside the graph (``encoder.<recipe>.check.json``) under the graph's own key
(the weights' sha256, the recipe and the opset: ``onnx_encoder.cache_key``)
and redone when the key differs, never by file times; a model that fails is
scored with the fp32 graph instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

from sourcemark.bundled import bundled_dev_sets
from sourcemark.eval.dev_scores import dev_scores_by_set

#: How far int8 may move the dev-set scores from fp32: a few labels may change, the figures may not.
ROLE_TOLERANCE, MENTION_TOLERANCE = 0.01, 0.02


def verdict_path(graph: Path) -> Path:
    """Where the check of ``graph`` is cached."""
    return graph.with_name(graph.name[: -len(".onnx")] + ".check.json")


def cached_verdict(graph: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    """The cached check of ``graph``, unless missing, unreadable or made for another ``key``."""
    try:
        verdict = json.loads(verdict_path(graph).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return verdict if isinstance(verdict, dict) and verdict.get("key") == key else None


def within_rule(reference: dict[str, dict[str, float]], candidate: dict[str, dict[str, float]]) -> bool:
    """Every dev set keeps role macro-F1 and mention F1 within the tolerances."""
    return all(
        abs(candidate[name]["role_macro_f1"] - ref["role_macro_f1"]) <= ROLE_TOLERANCE
        and abs(candidate[name]["mention_f1"] - ref["mention_f1"]) <= MENTION_TOLERANCE
        for name, ref in reference.items()
    )


def check_int8(annotator: Any, graph: Path, switch_to: Callable[[], None],
               key: dict[str, Any]) -> dict[str, Any]:
    """Score the dev sets with ``annotator`` as it is (fp32), call ``switch_to()`` (int8), score again.

    Returns the verdict (``passed`` plus both sets of figures) and caches it
    beside ``graph`` under ``key``, the graph's cache key; a directory that
    cannot be written only loses the cache.
    """
    gold = bundled_dev_sets()
    reference = dev_scores_by_set(annotator, gold)
    switch_to()
    candidate = dev_scores_by_set(annotator, gold)
    verdict = {"passed": within_rule(reference, candidate), "fp32": reference, "int8": candidate,
               "rule": {"role_macro_f1_within": ROLE_TOLERANCE, "mention_f1_within": MENTION_TOLERANCE},
               "key": key}
    path = verdict_path(graph)
    try:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(verdict, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return verdict
