"""Windows of passages: packed with context by default, one passage alone for the context ablation."""

from __future__ import annotations

from transformers import AutoTokenizer

from sourcemark.model.backbone import bundled_minilm_path
from sourcemark.model.encoding import build_windows
from synthetic import synthetic_documents


def test_packed_windows_hold_several_passages_and_isolated_ones_hold_one() -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_minilm_path()))
    doc = synthetic_documents(1, seed=5)[0]
    packed = build_windows(doc, 0, tokenizer, max_length=128, context=16)
    isolated = build_windows(doc, 0, tokenizer, max_length=128, context=16, isolate=True)
    assert sorted(k for w in packed for k in w.passage_index) == list(range(len(doc.passages)))
    assert len(packed) < len(doc.passages) and max(len(w.passage_index) for w in packed) > 1
    assert [w.passage_index for w in isolated] == [[k] for k in range(len(doc.passages))]
    for window in isolated:
        (start, end), = window.passage_spans
        # [CLS] passage [SEP] [SEP]: no token of any other passage
        assert start == 1 and len(window.input_ids) == end + 2
