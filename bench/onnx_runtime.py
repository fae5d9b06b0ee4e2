"""Encoder runtimes: torch fp32 against ONNX Runtime fp32 and int8 recipes, accuracy and speed (issue #6).

Run: ``python bench/onnx_runtime.py --model models/default [--docs 100] [--repeats 2]``.
For every runtime, on one loaded model: role macro-F1 and mention F1 on the
real-article dev set and the corpus dev split (gold passage boundaries kept),
how many passages' roles differ from torch fp32, and passages/s of
``score_documents`` on the same real articles as ``score_throughput.py``.
The accuracy rule of the issue: role macro-F1 within 0.01 of torch fp32 on
both dev sets (and, for a default, mention F1 within 0.02).

Speed runs are interleaved (every runtime once, then every runtime again) and
each runtime's best run is reported, with every run and the load average
beside it, so CPU used by other processes shows up as spread between runs
rather than as a difference between runtimes. The naive per-passage
``transformers.pipeline`` loop of ``score_throughput.py`` is timed in the
same rounds, so the speed-up against it is measured under the same load.
Passages per CPU second of this process are reported too; with
``--threads 1`` (saved as ``onnx_runtime_threads1.json``) they hardly depend
on what else the machine runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, save_results  # noqa: E402
from score_throughput import bench_naive_pipeline, load_texts  # noqa: E402

import torch  # noqa: E402

from sourcemark.documents import Document, Passage  # noqa: E402
from sourcemark.eval.metrics import evaluate  # noqa: E402
from sourcemark.jsonl import dumps_document  # noqa: E402
from sourcemark.model.annotator import Annotator  # noqa: E402
from sourcemark.scoring.batch import score_documents  # noqa: E402
from sourcemark.scoring.job import ScoreJob  # noqa: E402
from sourcemark.scoring.int8_check import MENTION_TOLERANCE, ROLE_TOLERANCE  # noqa: E402
from sourcemark.model.onnx_encoder import INT8, QUANTISED_OPS, RECIPES, layer_pattern, use_onnx  # noqa: E402

# Node-name patterns of the exported BERT graph, used to keep some MatMuls in fp32.
_FFN_OUT = r"/layer\.\d+/output/dense/MatMul"
_FFN_IN = r"/layer\.\d+/intermediate/dense/MatMul"
#: The int8 variants compared here, besides the product's own recipes; kept so the choice of INT8
#: can be re-measured.
BENCH_RECIPES = {
    **RECIPES,
    # everything the quantiser knows, the embedding lookups included; per-tensor weight scales
    "int8-all": {},
    "int8-matmul": {"op_types_to_quantize": QUANTISED_OPS},
    # 7-bit weights, for CPUs without VNNI whose u8*s8 products can saturate
    "int8-pc-rr": {"op_types_to_quantize": QUANTISED_OPS, "per_channel": True, "reduce_range": True},
    # errors of the first layers are carried through all the later ones: keep them in fp32
    "int8-pc-late": {"op_types_to_quantize": QUANTISED_OPS, "per_channel": True,
                     "exclude": layer_pattern(lambda n: list(range(n // 2)))},
    # the FFN reads the widest-ranged activations (layer norm outliers in, GELU out): keep it fp32
    "int8-pc-attn": {"op_types_to_quantize": QUANTISED_OPS, "per_channel": True, "exclude": f"{_FFN_OUT}|{_FFN_IN}"},
}
from sourcemark.bundled import bundled_dev_sets  # noqa: E402

TORCH = "torch fp32"


def runtimes(selected: list[str] | None) -> dict[str, str | None]:
    """Runtime label -> ``use_onnx`` recipe (None: torch)."""
    out: dict[str, str | None] = {TORCH: None}
    for name in BENCH_RECIPES:
        if selected is None or name in selected:
            out["onnx fp32" if name == "none" else f"onnx {name}" + (" (int8)" if name == INT8 else "")] = name
    return out


def unlabelled(docs: list[Document]) -> list[Document]:
    """Gold documents with roles and sources stripped but passage boundaries kept."""
    return [Document(d.doc_id, d.text, dict(d.meta), [Passage(p.start, p.end, extra=dict(p.extra))
                                                      for p in d.passages]) for d in docs]


def accuracy(annotator: Annotator, gold: list[Document], batch_size: int) -> tuple[dict[str, Any], list[Document]]:
    """Role macro-F1, role accuracy and mention F1 against ``gold``, and the predictions."""
    preds = list(annotator.annotate(unlabelled(gold), batch_size=batch_size))
    result = evaluate(gold, preds, bootstrap=0)
    return {"role_macro_f1": result["roles"]["macro_f1"], "role_accuracy": result["roles"]["accuracy"],
            "mention_f1": result["sources"]["f1"], "passages": result["n_gold_passages"]}, preds


def disagreement(preds: list[Document], reference: list[Document]) -> dict[str, int]:
    """Passages whose role differs from the reference run, and mentions not found identically in it."""
    roles = sum(p.label != r.label for a, b in zip(preds, reference) for p, r in zip(a.passages, b.passages))
    spans = [{(m.start, m.end, m.type) for p in d.passages for m in p.sources} for d in preds]
    ref_spans = [{(m.start, m.end, m.type) for p in d.passages for m in p.sources} for d in reference]
    return {"roles_changed": roles, "mentions_changed": sum(len(a ^ b) for a, b in zip(spans, ref_spans))}


@contextlib.contextmanager
def encoder_timer(annotator: Annotator) -> Iterator[list[float]]:
    """Seconds spent inside the encoder during the block (the rest is tokenising, heads, decoding, I/O)."""
    encoder = annotator.net.encoder
    original = encoder.forward
    spent = [0.0]

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    encoder.forward = timed
    try:
        yield spent
    finally:
        del encoder.forward  # back to the class's forward


def speed(annotator: Annotator, inputs: Path, workdir: Path) -> dict[str, Any]:
    """One ``score_documents`` run over ``inputs``: passages/s and the encoder's share of the time."""
    out = workdir / "pred.jsonl"
    out.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    with encoder_timer(annotator) as spent:
        start, cpu = time.perf_counter(), time.process_time()
        # the annotator is given: the local engine never reads the job's model_dir
        stats = score_documents(annotator, ScoreJob(inputs=(str(inputs),), model_dir=Path(), out=out, progress=False))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"passages": stats.passages, "seconds": round(seconds, 2),
            "passages_per_s": round(stats.passages / seconds, 1),
            # CPU time this process used: with --threads 1 it hardly depends on other processes' load
            "passages_per_cpu_s": round(stats.passages / cpu, 1),
            "encoder_seconds": round(spent[0], 2), "load_avg_1m_before": round(load, 2)}


def load_runtimes(model: str, selected: list[str] | None) -> tuple[dict[str, Annotator], dict[str, dict]]:
    """One annotator per runtime (exporting graphs not cached yet), and a result row for each."""
    annotators: dict[str, Annotator] = {}
    rows: dict[str, dict[str, Any]] = {}
    for label, recipe in runtimes(selected).items():
        annotator = Annotator.load(model)
        start = time.perf_counter()
        if recipe is not None:
            use_onnx(annotator, model, recipe, recipes=BENCH_RECIPES)
        row: dict[str, Any] = {"recipe": recipe, "setup_s": round(time.perf_counter() - start, 2), "runs": []}
        if recipe is not None:
            path = annotator.net.encoder.path
            row["graph"], row["graph_mb"] = path.name, round(path.stat().st_size / 2**20, 1)
        annotators[label], rows[label] = annotator, row
    return annotators, rows


def measure_speed(annotators: dict[str, Annotator], rows: dict[str, dict], docs: list[Document],
                  repeats: int, naive_passages: int) -> list[dict[str, Any]]:
    """Interleaved rounds of ``score_documents`` per runtime (and the naive loop); returns the naive runs."""
    naive_runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "docs.jsonl"
        inputs.write_text("".join(dumps_document(d) + "\n" for d in docs), encoding="utf-8")
        for round_no in range(1, repeats + 1):
            for label, annotator in annotators.items():
                run = speed(annotator, inputs, Path(tmp))
                rows[label]["runs"].append(run)
                print(f"round {round_no} {label:26s} {run['passages_per_s']:7.1f} passages/s "
                      f"(load {run['load_avg_1m_before']})", flush=True)
            if naive_passages:
                cpu = time.process_time()
                naive = bench_naive_pipeline(annotators[TORCH], docs, naive_passages)
                # CPU time here also counts building the pipeline: a slight understatement of its speed
                naive["passages_per_cpu_s"] = round(naive["passages"] / (time.process_time() - cpu), 1)
                naive_runs.append(naive)
                print(f"round {round_no} {'naive pipeline loop':26s} {naive['passages_per_s']:7.1f} passages/s",
                      flush=True)
    return naive_runs


def measure_accuracy(annotators: dict[str, Annotator], rows: dict[str, dict],
                     dev_sets: dict[str, list[Document]], sizes: list[int]) -> None:
    """Dev-set scores per runtime and batch size, and passages changed against torch fp32."""
    reference: dict[str, list[Document]] = {}
    for label, annotator in annotators.items():
        row = rows[label]
        for name, gold in dev_sets.items():
            by_size = {}
            for size in sizes:
                scores, preds = accuracy(annotator, gold, size)
                reference.setdefault(name, preds)  # torch fp32 at the headline batch size comes first
                by_size[size] = {**scores, **disagreement(preds, reference[name])}
            row[name] = {**by_size[sizes[0]], "by_batch_size": by_size}
        print(f"{label:26s} real dev role F1 {row['real_dev']['role_macro_f1']:.4f}  "
              f"corpus dev role F1 {row['corpus_dev']['role_macro_f1']:.4f}", flush=True)


def summarise(rows: dict[str, dict], naive_best: float | None, dev_sets: list[str]) -> None:
    """Best runs, speed-ups and the accuracy rules, added to each row."""
    base = rows[TORCH]
    for row in rows.values():
        best = max(row["runs"], key=lambda r: r["passages_per_s"], default=None)
        row["passages_per_s"] = best["passages_per_s"] if best else None
        row["encoder_share_of_time"] = round(best["encoder_seconds"] / best["seconds"], 3) if best else None
        row["passages_per_cpu_s"] = max((r["passages_per_cpu_s"] for r in row["runs"]), default=None)
    for row in rows.values():
        timed = row["passages_per_s"] is not None
        row["speedup_vs_torch"] = round(row["passages_per_s"] / base["passages_per_s"], 2) if timed else None
        row["speedup_vs_naive"] = round(row["passages_per_s"] / naive_best, 2) if timed and naive_best else None
        deltas = {name: {"role_macro_f1": row[name]["role_macro_f1"] - base[name]["role_macro_f1"],
                         "mention_f1": row[name]["mention_f1"] - base[name]["mention_f1"]} for name in dev_sets}
        row["delta_vs_torch"] = {n: {k: round(v, 4) for k, v in d.items()} for n, d in deltas.items()}
        row["meets_role_rule"] = all(abs(d["role_macro_f1"]) <= ROLE_TOLERANCE for d in deltas.values())
        row["meets_role_rule_at_every_batch_size"] = all(
            abs(scores["role_macro_f1"] - base[name]["role_macro_f1"]) <= ROLE_TOLERANCE
            for name in dev_sets for scores in row[name]["by_batch_size"].values())
        row["meets_default_rule"] = (row["meets_role_rule_at_every_batch_size"]
                                     and all(abs(d["mention_f1"]) <= MENTION_TOLERANCE for d in deltas.values())
                                     and (row["speedup_vs_torch"] or 0) > 1)


def print_table(rows: dict[str, dict], sizes: list[int], naive_runs: list[dict[str, Any]]) -> None:
    print(f"{'runtime':26s} {'real role':>9s} {'corp role':>9s} {'real ment':>9s} {'corp ment':>9s} "
          f"{'chg roles':>9s} {'pass/s':>7s} {'runs':>13s} {'x torch':>7s} {'x naive':>7s} {'rule':>5s} "
          f"{'pass/cpu-s':>10s}")
    for label, row in rows.items():
        real, corpus = row["real_dev"], row["corpus_dev"]
        runs = "/".join(f"{r['passages_per_s']:.0f}" for r in row["runs"]) or "-"
        shown = [f"{v:{fmt}}" if v is not None else "-" for v, fmt in
                 ((row["passages_per_s"], ".1f"), (row["speedup_vs_torch"], ".2f"), (row["speedup_vs_naive"], ".2f"))]
        print(f"{label:26s} {real['role_macro_f1']:9.4f} {corpus['role_macro_f1']:9.4f} "
              f"{real['mention_f1']:9.4f} {corpus['mention_f1']:9.4f} "
              f"{real['roles_changed'] + corpus['roles_changed']:9d} {shown[0]:>7s} {runs:>13s} "
              f"{shown[1]:>7s} {shown[2]:>7s} {'yes' if row['meets_role_rule'] else 'no':>5s} "
              f"{row['passages_per_cpu_s'] or '-':>10}")
    print(f"\nrole macro-F1 (roles changed vs torch fp32) by batch size {sizes}:")
    for label, row in rows.items():
        cells = [" ".join(f"{r['role_macro_f1']:.4f}({r['roles_changed']})" for r in row[name]["by_batch_size"].values())
                 for name in ("real_dev", "corpus_dev")]
        print(f"{label:26s} real dev {cells[0]}   corpus dev {cells[1]}   "
              f"rule at every size: {'yes' if row['meets_role_rule_at_every_batch_size'] else 'no'}")
    if naive_runs:
        print(f"naive pipeline loop: {[r['passages_per_s'] for r in naive_runs]} passages/s, "
              f"best {max(r['passages_per_cpu_s'] for r in naive_runs)} passages/cpu-s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "default"))
    parser.add_argument("--docs", type=int, default=100, help="real articles for the speed runs")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch and ONNX Runtime threads (default: torch's, one per core)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="interleaved speed rounds; the best is reported (0: accuracy only)")
    parser.add_argument("--naive-passages", type=int, default=600,
                        help="passages for the naive pipeline loop (0: skip it)")
    parser.add_argument("--batch-sizes", default="16,8,32",
                        help="windows per forward pass in the accuracy runs; the first (score's default) is the "
                             "headline. int8 results depend on it: dynamic quantisation takes one activation "
                             "scale over the whole padded batch, so the other windows of a batch matter")
    parser.add_argument("--recipes", default=None,
                        help=f"comma-separated use_onnx recipes to run besides torch (default: all of "
                             f"{', '.join(BENCH_RECIPES)})")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)  # OnnxEncoder sessions take torch's setting
    sizes = [int(size) for size in args.batch_sizes.split(",")]
    dev_sets = bundled_dev_sets()
    docs = load_texts(args.docs)

    annotators, rows = load_runtimes(args.model, args.recipes.split(",") if args.recipes else None)
    # speed first: the machine is shared, and it is the part that needs a quiet spell
    naive_runs = measure_speed(annotators, rows, docs, args.repeats, args.naive_passages)
    measure_accuracy(annotators, rows, dev_sets, sizes)
    naive_best = max((r["passages_per_s"] for r in naive_runs), default=None)
    summarise(rows, naive_best, list(dev_sets))
    print_table(rows, sizes, naive_runs)
    save_results("onnx_runtime" + (f"_threads{args.threads}" if args.threads else ""), {
        "documents": len(docs), "threads": torch.get_num_threads(), "repeats": args.repeats,
        "accuracy_batch_sizes": sizes,
        "dev_sets": {name: {"documents": len(gold), "passages": sum(len(d.passages) for d in gold)}
                     for name, gold in dev_sets.items()},
        "int8_is": INT8,
        "rules": {"role_macro_f1_within": ROLE_TOLERANCE, "mention_f1_within": MENTION_TOLERANCE,
                  "default_needs": "role rule at every batch size, mention F1 rule, faster than torch fp32"},
        "runtimes": rows, "naive_pipeline_loop": {"best_passages_per_s": naive_best, "runs": naive_runs},
    })


if __name__ == "__main__":
    main()
