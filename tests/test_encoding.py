"""Windows of passages: one passage alone by default, or several packed with their context."""

from __future__ import annotations

from transformers import AutoTokenizer

from sourcemark.documents import Document, Passage
from sourcemark.model.backbone import bundled_minilm_path
from sourcemark.model.encoding import CONTEXT, ISOLATE_PASSAGES, MAX_LENGTH, build_windows, passage_token_limit
from synthetic import synthetic_documents


def test_packed_windows_hold_several_passages_and_isolated_ones_hold_one() -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_minilm_path()))
    doc = synthetic_documents(1, seed=5)[0]
    packed = build_windows(doc, 0, tokenizer, max_length=128, context=16, isolate=False)
    isolated = build_windows(doc, 0, tokenizer, max_length=128, context=16, isolate=True)
    assert sorted(k for w in packed for k in w.passage_index) == list(range(len(doc.passages)))
    assert len(packed) < len(doc.passages) and max(len(w.passage_index) for w in packed) > 1
    assert [w.passage_index for w in isolated] == [[k] for k in range(len(doc.passages))]
    for window in isolated:
        (start, end), = window.passage_spans
        # [CLS] passage [SEP] [SEP]: no token of any other passage
        assert start == 1 and len(window.input_ids) == end + 2


def test_defaults_are_the_model_stage_settings_and_long_passages_are_cut_to_the_limit() -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_minilm_path()))
    doc = synthetic_documents(1, seed=5)[0]
    default = build_windows(doc, 0, tokenizer)
    explicit = build_windows(doc, 0, tokenizer, MAX_LENGTH, CONTEXT, ISOLATE_PASSAGES)
    assert [w.to_dict() for w in default] == [w.to_dict() for w in explicit]
    text = " ".join(["word"] * 400)
    long_doc = Document("long", text, {}, [Passage(0, len(text), label="claim")])
    for isolate in (True, False):
        (window,) = build_windows(long_doc, 0, tokenizer, 128, 16, isolate)
        (start, end), = window.passage_spans
        assert end - start == passage_token_limit(128, 16, isolate)
        assert len(window.input_ids) <= 128


def test_a_context_segment_keeps_one_window_per_passage_with_its_neighbours_as_type_one() -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_minilm_path()))
    text = "Rebels took the town. SOHR said ten died. The road is cut."
    cuts = [(0, 21), (22, 41), (42, len(text))]
    doc = Document("d", text, {}, [Passage(a, b, label="claim") for a, b in cuts])
    paired = build_windows(doc, 0, tokenizer, 128, 16, isolate=True, context_segment=True)
    assert [w.passage_index for w in paired] == [[0], [1], [2]]
    middle = paired[1]
    (start, end), = middle.passage_spans
    assert tokenizer.decode(middle.input_ids[start:end]) == "sohr said ten died."
    # [CLS] passage [SEP] | previous passage [SEP] next passage [SEP] [SEP]: the second segment is type 1
    second = tokenizer.decode(middle.input_ids[end + 1:])
    assert second.startswith("rebels took the town.") and "the road is cut." in second
    assert set(middle.token_types[:end + 1]) == {0} and set(middle.token_types[end + 1:]) == {1}
    assert all(t == -100 for t in middle.tags[end:])  # neighbours are read, never trained on as tags
    text = " ".join(["word"] * 400)
    (window,) = build_windows(Document("long", text, {}, [Passage(0, len(text), label="claim")]), 0, tokenizer,
                              128, 16, isolate=True, context_segment=True)
    (start, end), = window.passage_spans
    assert end - start == passage_token_limit(128, 16, True, context_segment=True) and len(window.input_ids) <= 128
