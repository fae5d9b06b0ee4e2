"""Segmentation quality on the real-article dev set: boundary F1 and comment-section detection.

Run: ``python bench/segmentation.py [GOLD.jsonl]``. A predicted passage matches
a gold one when both ends are within 2 characters after stripping whitespace.
The comment section is right for a document when every gold reader comment
lies in it and no claim, attributed report or analysis does.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, save_results  # noqa: E402

from sourcemark.eval.alignment import boundary_f1  # noqa: E402
from sourcemark.jsonl import read_documents  # noqa: E402
from sourcemark.segmentation import segment_text  # noqa: E402

EDITORIAL = ("claim", "attributed_report", "analysis")


def comment_section_correct(doc, predicted) -> bool:
    spans = [(p.start, p.end) for p in predicted if p.section == "comments"]
    for gold in doc.passages:
        inside = any(s <= gold.start and gold.end <= e for s, e in spans)
        if gold.label == "reader_comment" and not inside:
            return False
        if gold.label in EDITORIAL and inside:
            return False
    return True


def main() -> None:
    gold_path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "training" / "data" / "real_dev.jsonl"
    matched = n_gold = n_pred = 0
    per_doc = {}
    for doc in read_documents(gold_path):
        predicted = segment_text(doc.text, doc.meta)
        scores = boundary_f1(doc.passages, predicted, doc.text, tolerance=2)
        matched += scores["matched"]
        n_gold += scores["n_gold"]
        n_pred += scores["n_pred"]
        per_doc[doc.doc_id] = {"f1": round(scores["f1"], 4), "gold": scores["n_gold"], "pred": scores["n_pred"],
                               "comment_section_correct": comment_section_correct(doc, predicted)}
        print(f"{doc.doc_id:30s} boundary F1 {scores['f1']:.3f}  gold {scores['n_gold']:4d}  "
              f"pred {scores['n_pred']:4d}  comment section {'ok' if per_doc[doc.doc_id]['comment_section_correct'] else 'WRONG'}")
    precision = matched / n_pred if n_pred else 0.0
    recall = matched / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    all_ok = all(d["comment_section_correct"] for d in per_doc.values())
    print(f"overall boundary P {precision:.3f} R {recall:.3f} F1 {f1:.3f} (target >= 0.90); "
          f"comment section correct on {sum(d['comment_section_correct'] for d in per_doc.values())}/{len(per_doc)}")
    save_results("segmentation", {"gold": str(gold_path.name), "boundary_precision": round(precision, 4),
                                  "boundary_recall": round(recall, 4), "boundary_f1": round(f1, 4),
                                  "comment_section_all_correct": all_ok, "documents": per_doc})


if __name__ == "__main__":
    main()
