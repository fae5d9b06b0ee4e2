"""Scoring speed: ``sourcemark score`` against a hand-written pipeline loop and the TF-IDF baseline.

Run: ``python bench/score_throughput.py --model models/default [--docs 200]``.
Each system runs ``--repeats`` times (default 3, interleaved), and the median
run is reported with the spread (min and max passages/s), so one noisy run
cannot decide. Prints, on the same documents in one run: passages/s of the batch scorer, of a
naive per-passage ``transformers.pipeline`` loop (what a user would write by
hand, same encoder size), and of the TF-IDF baseline; the model's achieved
GFLOP/s as a fraction of a plain fp32 matmul's GFLOP/s measured in the same
run; peak RSS and time to first output. Documents come from
``../shared/realtext`` when present, else from the bundled samples.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, save_results  # noqa: E402

import torch  # noqa: E402

from sourcemark.documents import Document  # noqa: E402
from sourcemark.model.annotator import Annotator  # noqa: E402
from sourcemark.scoring.batch import score_documents  # noqa: E402
from sourcemark.scoring.job import DEFAULT_BATCH_SIZE, ScoreJob  # noqa: E402
from sourcemark.scoring.runtime import use_runtime  # noqa: E402
from sourcemark.segmentation import segment  # noqa: E402
from sourcemark.training.real_articles import REALTEXT  # noqa: E402


def load_texts(limit: int) -> list[Document]:
    """Real articles from the shared FA-KES file when present, else the samples repeated."""
    docs: list[Document] = []
    if REALTEXT.is_file():
        with open(REALTEXT, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                docs.append(Document(record["doc_id"], record["text"], {}))
                if len(docs) >= limit:
                    break
    else:
        samples = sorted((ROOT / "training" / "data" / "samples").glob("*.txt"))
        while len(docs) < limit:
            for path in samples:
                docs.append(Document(f"{path.stem}-{len(docs)}", path.read_text(encoding="utf-8"), {}))
    return docs[:limit]


def matmul_gflops(size: int = 1024, repeats: int = 20) -> float:
    """Plain fp32 matmul rate on this machine, with torch's thread settings."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    seconds = time.perf_counter() - start
    return 2 * size**3 * repeats / seconds / 1e9


def encoder_flops(config, batch: int, length: int) -> float:
    """Forward FLOPs of a BERT-style encoder on a padded batch (matmuls only)."""
    h, layers, inter = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    tokens = batch * length
    per_layer = 2 * tokens * (4 * h * h + 2 * h * inter) + 2 * 2 * batch * length * length * h
    return layers * per_layer


class FlopCounter:
    """Wraps the encoder's forward to count FLOPs and time spent in the model."""

    def __init__(self, annotator: Annotator) -> None:
        self.flops = 0.0
        self.seconds = 0.0
        encoder = annotator.net.encoder
        original = encoder.forward
        config = encoder.config

        def counted(*args, **kwargs):
            ids = kwargs.get("input_ids", args[0] if args else None)
            start = time.perf_counter()
            out = original(*args, **kwargs)
            self.seconds += time.perf_counter() - start
            self.flops += encoder_flops(config, ids.shape[0], ids.shape[1])
            return out

        encoder.forward = counted


def bench_sourcemark(annotator: Annotator, docs: list[Document], workdir: Path, batch_size: int) -> dict:
    inputs = workdir / "docs.jsonl"
    with open(inputs, "w", encoding="utf-8") as handle:
        for doc in docs:
            handle.write(json.dumps({"doc_id": doc.doc_id, "text": doc.text}) + "\n")
    out = workdir / "pred.jsonl"
    first_output: list[float] = []
    start = time.perf_counter()

    def watch() -> None:
        while not first_output:
            if out.exists() and out.stat().st_size > 0:
                first_output.append(time.perf_counter() - start)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    counter = FlopCounter(annotator)
    # the annotator is given: the local engine never reads the job's model_dir
    job = ScoreJob(inputs=(str(inputs),), model_dir=Path(), out=out, batch_size=batch_size, progress=False)
    stats = score_documents(annotator, job)
    seconds = time.perf_counter() - start
    first_output.append(seconds) if not first_output else None
    return {"passages": stats.passages, "seconds": round(seconds, 2),
            "passages_per_s": round(stats.passages / seconds, 1),
            "time_to_first_output_s": round(first_output[0], 2),
            "model_gflops_per_s": round(counter.flops / counter.seconds / 1e9, 2) if counter.seconds else 0.0,
            "model_seconds": round(counter.seconds, 2)}


def bench_naive_pipeline(annotator: Annotator, docs: list[Document], limit_passages: int) -> dict:
    """One passage at a time through a transformers text-classification pipeline of the same encoder."""
    from transformers import AutoModelForSequenceClassification, pipeline

    model = AutoModelForSequenceClassification.from_config(annotator.net.encoder.config)
    model.base_model.load_state_dict(annotator.net.encoder.state_dict(), strict=False)
    classify = pipeline("text-classification", model=model, tokenizer=annotator.tokenizer, device=-1)
    texts = [d.text[p.start : p.end] for d in (segment(Document(x.doc_id, x.text, {})) for x in docs)
             for p in d.passages][:limit_passages]
    start = time.perf_counter()
    for text in texts:
        classify(text, truncation=True)
    seconds = time.perf_counter() - start
    return {"passages": len(texts), "seconds": round(seconds, 2), "passages_per_s": round(len(texts) / seconds, 1)}


def bench_tfidf(docs: list[Document]) -> dict:
    from sourcemark.training.baselines import TfidfBaseline
    from sourcemark.bundled import split_corpus

    baseline = TfidfBaseline().fit(split_corpus()[0])
    start = time.perf_counter()
    passages = sum(len(d.passages) for d in baseline.predict(Document(x.doc_id, x.text, {}) for x in docs))
    seconds = time.perf_counter() - start
    return {"passages": passages, "seconds": round(seconds, 2), "passages_per_s": round(passages / seconds, 1)}


def median_run(runs: list[dict]) -> dict:
    """The run with the median passages/s (the middle one of an odd number)."""
    return sorted(runs, key=lambda r: r["passages_per_s"])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "default"))
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each system; the median is reported")
    parser.add_argument("--naive-passages", type=int, default=600, help="passages for the slow naive loop")
    parser.add_argument("--batch-size", type=int, default=None, help="sourcemark score --batch-size (default: its own)")
    parser.add_argument("--runtime", default="auto",
                        help="encoder runtime of sourcemark score (auto = the command's default, torch, onnx, ...)")
    args = parser.parse_args()
    docs = load_texts(args.docs)
    annotator = Annotator.load(args.model)
    naive_source = Annotator.load(args.model)  # the naive loop always runs the torch encoder
    used = use_runtime(annotator, args.model, args.runtime, notice=print)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reference = matmul_gflops()
    ours_runs, naive_runs, tfidf_runs = [], [], []
    peak_after = peak_before
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            ours_runs.append(bench_sourcemark(annotator, docs, Path(tmp), args.batch_size or DEFAULT_BATCH_SIZE))
        peak_after = max(peak_after, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        naive_runs.append(bench_naive_pipeline(naive_source, docs, args.naive_passages))
        tfidf_runs.append(bench_tfidf(docs))
    ours, naive, tfidf = (median_run(runs) for runs in (ours_runs, naive_runs, tfidf_runs))
    figures = {
        "documents": len(docs), "threads": torch.get_num_threads(), "runtime": args.runtime, "runtime_used": used,
        "batch_size": args.batch_size or DEFAULT_BATCH_SIZE,
        "sourcemark_score": ours, "naive_pipeline_loop": naive, "tfidf_baseline": tfidf,
        "speedup_vs_naive": round(ours["passages_per_s"] / naive["passages_per_s"], 2),
        "repeats": args.repeats,
        "spread_passages_per_s": {name: [min(r["passages_per_s"] for r in runs), max(r["passages_per_s"] for r in runs)]
                                  for name, runs in (("sourcemark_score", ours_runs), ("naive_pipeline_loop", naive_runs),
                                                     ("tfidf_baseline", tfidf_runs))},
        "matmul_gflops_per_s": round(reference, 2),
        "model_fraction_of_matmul": round(ours["model_gflops_per_s"] / reference, 3),
        "peak_rss_mb_before_scoring": round(peak_before / 1024, 1),
        "peak_rss_mb": round(peak_after / 1024, 1),
    }
    print(f"medians of {args.repeats} runs; spread (passages/s): {figures['spread_passages_per_s']}")
    print(f"sourcemark score : {ours['passages_per_s']:8.1f} passages/s ({used} encoder, "
          f"first output after {ours['time_to_first_output_s']} s)")
    print(f"naive pipeline   : {naive['passages_per_s']:8.1f} passages/s  -> speed-up "
          f"{figures['speedup_vs_naive']}x (target >= 3x)")
    print(f"tf-idf baseline  : {tfidf['passages_per_s']:8.1f} passages/s")
    print(f"model {ours['model_gflops_per_s']} GFLOP/s vs matmul {figures['matmul_gflops_per_s']} GFLOP/s "
          f"= {figures['model_fraction_of_matmul']:.0%} (target >= 50%)")
    print(f"peak RSS {figures['peak_rss_mb']} MB")
    save_results("score_throughput" if args.runtime == "auto" else f"score_throughput_{args.runtime}", figures)


if __name__ == "__main__":
    main()
