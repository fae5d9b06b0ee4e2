"""Memory of ``sourcemark score`` as the batch grows: peak RSS for 1,000 and 10,000 documents.

Run: ``python bench/score_memory.py --model models/default [--counts 1000 10000]``.
Each count is scored by a separate ``sourcemark score`` process (local engine)
on short real articles (the opening of FA-KES articles from ``../shared/realtext``,
else the bundled samples, repeated under new ids). The process's resident set
is sampled from ``/proc`` while it runs; the script prints and saves the peak
RSS per count and the RSS after 10%, 50% and 100% of the documents of the
largest run. Streaming means the peak must not grow with the count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, save_results  # noqa: E402
from score_throughput import load_texts  # noqa: E402


def write_inputs(path: Path, count: int, chars: int) -> None:
    """``count`` documents: openings of real articles, cycled, each under its own id."""
    texts = [d.text[:chars].rsplit(". ", 1)[0] + "." for d in load_texts(500)]
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(json.dumps({"doc_id": f"doc-{i:06d}", "text": texts[i % len(texts)]}) + "\n")


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def lines_in(path: Path) -> int:
    try:
        with open(path, "rb") as handle:
            return sum(1 for _ in handle)
    except OSError:
        return 0


def run_once(model: str, inputs: Path, out: Path, count: int) -> dict:
    """Score ``inputs`` in a child process, sampling its RSS against the documents written so far."""
    command = [sys.executable, "-m", "sourcemark", "score", str(inputs), "--model", model, "--out", str(out),
               "--quiet"]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    started = time.time()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    samples: list[tuple[int, float]] = []
    while child.poll() is None:
        current = rss_mb(child.pid)
        if current is not None:
            samples.append((lines_in(out), current))
        time.sleep(1.0)
    if child.returncode != 0:
        raise SystemExit(f"sourcemark score failed ({child.returncode}): {child.stderr.read().decode()[-500:]}")
    peak = max(rss for _, rss in samples)
    by_progress = {}
    for share in (0.1, 0.5, 1.0):
        seen = [rss for done, rss in samples if done <= share * count]
        by_progress[f"rss_mb_up_to_{int(share * 100)}pct_docs"] = round(max(seen), 1) if seen else None
    return {"documents": count, "seconds": round(time.time() - started, 1), "peak_rss_mb": round(peak, 1),
            **by_progress, "samples": len(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "default"))
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--chars", type=int, default=400, help="characters kept of each article")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.counts:
            inputs, out = Path(tmp) / f"docs-{count}.jsonl", Path(tmp) / f"pred-{count}.jsonl"
            write_inputs(inputs, count, args.chars)
            result = run_once(args.model, inputs, out, count)
            runs.append(result)
            print(f"{count:7d} documents: peak RSS {result['peak_rss_mb']:.0f} MB "
                  f"(after 10%: {result['rss_mb_up_to_10pct_docs']}, 50%: {result['rss_mb_up_to_50pct_docs']}) "
                  f"in {result['seconds']} s")
    growth = runs[-1]["peak_rss_mb"] / runs[0]["peak_rss_mb"] if len(runs) > 1 else 1.0
    print(f"peak RSS ratio largest/smallest run: {growth:.2f} (constant memory: about 1)")
    save_results("score_memory", {"runs": runs, "peak_ratio_largest_to_smallest": round(growth, 3),
                                  "chars_per_document": args.chars})


if __name__ == "__main__":
    main()
