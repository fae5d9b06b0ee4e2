"""How a model reads real articles: the real dev split (60 FA-KES articles + the 3 seeds).

Run: ``python bench/real_check.py --model models/default``.

Two readings of the same gold, both scored by ``sourcemark eval``'s own rules:

* ``segmented``: the model cuts the raw text itself (what a user gets); the
  gold was cut by annotators on the raw text, so segmentation errors count;
* ``gold passages``: the model labels the annotators' passages (roles and
  mentions alone, segmentation set aside).

For each: role macro-F1 and accuracy with 95% CIs, per-role F1, typed and
span-only mention F1, type accuracy on matched spans, boundary F1; and, for
the segmented reading, the same per outlet and for the seeds alone. Saves
``bench/results/real_check.json``. A measurement, never a selection: nothing
is tuned on this split.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, save_results  # noqa: E402

from sourcemark.bundled import seed_documents, split_real_articles  # noqa: E402
from sourcemark.documents import Document  # noqa: E402
from sourcemark.eval.bootstrap import DEFAULT_REPLICATES  # noqa: E402
from sourcemark.eval.metrics import evaluate  # noqa: E402
from sourcemark.eval.report import print_summary  # noqa: E402
from sourcemark.model.annotator import Annotator  # noqa: E402


def figures(result: dict) -> dict:
    """The headline numbers of an ``evaluate`` result, rounded, with their CIs."""
    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 4)
    ci = result.get("ci", {})
    spans = result["mention_spans"]
    return {
        "documents": result["n_documents"], "gold_passages": result["n_gold_passages"],
        "role_macro_f1": r(result["roles"]["macro_f1"]), "role_macro_f1_ci": ci.get("roles.macro_f1"),
        "role_accuracy": r(result["roles"]["accuracy"]), "role_accuracy_ci": ci.get("roles.accuracy"),
        "role_f1": {role: r(v["f1"]) for role, v in result["roles"]["per_role"].items()},
        "mention_f1": r(result["sources"]["f1"]), "mention_f1_ci": ci.get("sources.f1"),
        "mention_precision": r(result["sources"]["precision"]), "mention_recall": r(result["sources"]["recall"]),
        "span_only_mention_f1": r(spans["f1"]), "type_accuracy_on_matched_spans": r(spans["type_accuracy"]),
        "boundary_f1": r(result["segmentation"]["f1"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--name", default="real_check", help="results file name (bench/results/NAME.json)")
    args = parser.parse_args(argv)
    gold = split_real_articles()[1] + seed_documents()
    annotator = Annotator.load(args.model)
    segmented = list(annotator.annotate(Document(d.doc_id, d.text, dict(d.meta), []) for d in gold))
    on_gold = list(annotator.annotate(gold))
    out: dict = {"model": str(args.model), "model_version": annotator.model_version}
    for name, preds in (("segmented", segmented), ("gold passages", on_gold)):
        result = evaluate(gold, preds, bootstrap=DEFAULT_REPLICATES, seed=0, gold_name="real dev split",
                          pred_name=f"model {args.model} ({name})")
        print(f"\n== real dev split, {name} ==")
        print_summary(result)
        out[name] = figures(result)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, doc in enumerate(gold):
        groups[doc.meta.get("outlet", "seeds")].append(i)
    out["segmented by outlet"] = {
        group: figures(evaluate([gold[i] for i in idx], [segmented[i] for i in idx], bootstrap=0))
        for group, idx in sorted(groups.items())}
    print("\n" + f"{'outlet':<15} {'docs':>4} {'macro-F1':>8} {'acc':>6} {'ment F1':>7} {'span F1':>7} "
          f"{'type acc':>8} {'bound F1':>8}")
    for group, f in out["segmented by outlet"].items():
        cells = [f[k] for k in ("role_macro_f1", "role_accuracy", "mention_f1", "span_only_mention_f1",
                                "type_accuracy_on_matched_spans", "boundary_f1")]
        print(f"{group:<15} {f['documents']:>4} " + " ".join(
            f"{'-' if c is None else f'{c:.3f}':>{w}}" for c, w in zip(cells, (8, 6, 7, 7, 8, 8))))
    save_results(args.name, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
