"""The corpus's second labelling pass: blind re-labelling of a random sample, and agreement.

``sample`` writes a random share of passages with their neighbours for
context but without labels or mentions; a second annotator labels them
(``relabel.jsonl``: ``{"item", "label", "sources": [{"text", "type"}]}``, a
mention given by its exact text inside the passage). ``score`` computes
Cohen's kappa for roles and F1 for mentions (overlapping span and same type)
and writes ``agreement.json`` for the datasheet.

``python -m sourcemark.training.agreement sample OUT.jsonl`` /
``python -m sourcemark.training.agreement score ITEMS.jsonl RELABEL.jsonl``
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

from sklearn.metrics import cohen_kappa_score

from sourcemark.documents import SourceMention
from sourcemark.eval.metrics import match_mentions, prf
from sourcemark.labels import ROLES, SOURCE_TYPES
from sourcemark.segmentation import mark_sections
from sourcemark.bundled import corpus_documents
from sourcemark.training.corpus_stats import AGREEMENT_FILE


def sample_items(share: float = 0.1, seed: int = 2026) -> list[dict[str, Any]]:
    """A seeded random ``share`` of all corpus passages, with context, labels kept aside."""
    items = []
    for doc in map(mark_sections, corpus_documents()):
        for k, p in enumerate(doc.passages):
            items.append({
                "doc_id": doc.doc_id, "start": p.start, "end": p.end, "section": p.section,
                "before": doc.text[doc.passages[k - 1].start : doc.passages[k - 1].end] if k else "",
                "text": doc.text[p.start : p.end],
                "after": doc.text[doc.passages[k + 1].start : doc.passages[k + 1].end] if k + 1 < len(doc.passages) else "",
                "gold_label": p.label,
                "gold_sources": [{"start": s.start - p.start, "end": s.end - p.start, "type": s.type} for s in p.sources],
            })
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(items)), round(len(items) * share)))
    return [dict(items[i], item=n) for n, i in enumerate(chosen)]


def _mentions(text: str, sources: list[dict[str, Any]]) -> list[SourceMention]:
    """Mentions given by offsets (first pass) or by exact text (second pass) as SourceMentions."""
    mentions = []
    for s in sources:
        if "start" in s:
            mentions.append(SourceMention(s["start"], s["end"], s["type"]))
            continue
        at = text.find(s["text"])
        if at >= 0:
            mentions.append(SourceMention(at, at + len(s["text"]), s["type"]))
    return mentions


def mention_f1(pairs: list[tuple[list[SourceMention], list[SourceMention]]]) -> float:
    """F1 of the second pass against the first, with the evaluation stage's one-to-one matching."""
    tp = sum(len(match_mentions(first, second)) for first, second in pairs)
    n_first = sum(len(first) for first, _ in pairs)
    n_second = sum(len(second) for _, second in pairs)
    if not n_first and not n_second:
        return 1.0
    return float(prf(tp, n_second, n_first)["f1"] or 0.0)


def score(items: list[dict[str, Any]], relabels: list[dict[str, Any]]) -> dict[str, Any]:
    """Agreement between the first labels (in ``items``) and the blind second pass."""
    second = {r["item"]: r for r in relabels}
    missing = [i["item"] for i in items if i["item"] not in second]
    if missing:
        raise ValueError(f"{len(missing)} items have no second label (first: {missing[:5]})")
    bad = [r for r in relabels if r["label"] not in ROLES or any(s["type"] not in SOURCE_TYPES for s in r["sources"])]
    if bad:
        raise ValueError(f"second pass uses unknown label ids (item {bad[0]['item']})")
    first_labels = [i["gold_label"] for i in items]
    second_labels = [second[i["item"]]["label"] for i in items]
    pairs = [(_mentions(i["text"], i["gold_sources"]), _mentions(i["text"], second[i["item"]]["sources"]))
             for i in items]
    agree = sum(a == b for a, b in zip(first_labels, second_labels))
    return {
        "share": 0.1, "passages": len(items),
        "role_kappa": round(float(cohen_kappa_score(first_labels, second_labels, labels=list(ROLES))), 4),
        "role_agreement": round(agree / len(items), 4),
        "mention_f1": round(mention_f1(pairs), 4),
        "role_disagreements": [
            {"item": i["item"], "doc_id": i["doc_id"], "text": i["text"][:120], "first": a, "second": b}
            for i, a, b in zip(items, first_labels, second_labels) if a != b
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample")
    s.add_argument("out")
    s.add_argument("--share", type=float, default=0.1)
    c = sub.add_parser("score")
    c.add_argument("items")
    c.add_argument("relabel")
    c.add_argument("--resolved", type=int, default=0, help="disagreements fixed in the corpus afterwards")
    args = parser.parse_args(argv)
    if args.command == "sample":
        items = sample_items(args.share)
        blind = Path(args.out).with_suffix(".blind.jsonl")
        with open(args.out, "w", encoding="utf-8") as full, open(blind, "w", encoding="utf-8") as hidden:
            for item in items:
                full.write(json.dumps(item, ensure_ascii=False) + "\n")
                shown = {k: v for k, v in item.items() if not k.startswith("gold_")}
                hidden.write(json.dumps(shown, ensure_ascii=False) + "\n")
        print(f"{len(items)} passages sampled into {args.out}; the blind copy for the second annotator: {blind}")
        return 0
    items = [json.loads(line) for line in Path(args.items).read_text(encoding="utf-8").splitlines() if line.strip()]
    relabels = [json.loads(line) for line in Path(args.relabel).read_text(encoding="utf-8").splitlines() if line.strip()]
    result = score(items, relabels)
    result["resolved"] = args.resolved
    AGREEMENT_FILE.write_text(json.dumps({k: v for k, v in result.items() if k != "role_disagreements"}, indent=2) + "\n",
                              encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "role_disagreements"}, indent=2))
    for d in result["role_disagreements"]:
        print(f"item {d['item']} {d['doc_id']}: first {d['first']}, second {d['second']}: {d['text']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
