"""Segmentation: exact offsets, no overlaps, comment sections found, quotations kept whole."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from sourcemark.cli import app
from sourcemark.jsonl import read_documents
from sourcemark.readers import read_inputs
from sourcemark.segmentation import segment_text


def _check_offsets(text: str, passages) -> None:
    previous_end = 0
    for p in passages:
        assert previous_end <= p.start < p.end <= len(text)
        piece = text[p.start : p.end]
        assert piece == piece.strip() and piece
        previous_end = p.end
    covered = {i for p in passages for i in range(p.start, p.end)}
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


def test_offsets_on_the_seed_articles(sample_dir: Path) -> None:
    docs = list(read_inputs([str(sample_dir)]))
    assert len(docs) == 3
    for doc in docs:
        passages = segment_text(doc.text)
        assert len(passages) > 15
        _check_offsets(doc.text, passages)


def test_comment_section_on_gold(real_dev_path: Path) -> None:
    """Every gold reader comment is in the detected comment section; no editorial passage is."""
    for doc in read_documents(real_dev_path):
        passages = segment_text(doc.text, doc.meta)
        in_comments = [(p.start, p.end) for p in passages if p.section == "comments"]
        for gold in doc.passages:
            inside = any(s <= gold.start and gold.end <= e for s, e in in_comments)
            if gold.label == "reader_comment":
                assert inside, doc.text[gold.start : gold.end]
            if gold.label in ("claim", "attributed_report", "analysis"):
                assert not inside, doc.text[gold.start : gold.end]


def test_comment_lines_stay_whole_and_body_is_split() -> None:
    text = (
        "Title of the piece\n\nFirst sentence here. Second sentence follows. Third one ends it.\n"
        "More body text. And more.\n\n3 Comments\nAbu Karim says:\n"
        "I do not believe it. The numbers are wrong. Check again.\nReply\n"
    )
    passages = segment_text(text)
    pieces = [(text[p.start : p.end], p.section) for p in passages]
    assert ("First sentence here.", "body") in pieces
    assert ("Second sentence follows.", "body") in pieces
    assert ("3 Comments", "comments") in pieces
    assert ("I do not believe it. The numbers are wrong. Check again.", "comments") in pieces
    _check_offsets(text, passages)


def test_crlf_text_offsets() -> None:
    text = "Headline\r\n\r\nOne sentence. Two sentence.\r\n"
    passages = segment_text(text)
    assert [text[p.start : p.end] for p in passages] == ["Headline", "One sentence.", "Two sentence."]


def test_continued_quotation_is_one_passage() -> None:
    text = ("“We will hold the bridge. Nobody crosses,” the commander told Reuters. "
            "“They will pay for it.” The river rose overnight.\n")
    pieces = [text[p.start : p.end] for p in segment_text(text)]
    assert pieces == [
        "“We will hold the bridge. Nobody crosses,” the commander told Reuters. “They will pay for it.”",
        "The river rose overnight.",
    ]


def test_a_quotation_that_never_closes_does_not_swallow_the_paragraph() -> None:
    """Scraped text loses closing quotes; the sentences after a stray opening quote stay separate."""
    text = ('"We killed over 20 of its operators Carter said on Wednesday. '
            "He spoke at a meeting in Washington. The coalition was formed in 2014.\n")
    pieces = [text[p.start : p.end] for p in segment_text(text)]
    assert pieces == [
        '"We killed over 20 of its operators Carter said on Wednesday.',
        "He spoke at a meeting in Washington.",
        "The coalition was formed in 2014.",
    ]


def test_segment_command_writes_valid_jsonl(sample_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "seg.jsonl"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00\x01")
    result = CliRunner().invoke(app, ["segment", str(sample_dir), str(bad), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "binary file" in result.output
    docs = list(read_documents(out))
    assert len(docs) == 3
    assert all(p.label is None and p.section in ("body", "comments") for d in docs for p in d.passages)
    check = CliRunner().invoke(app, ["validate", "--allow-unlabelled", str(out)])
    assert check.exit_code == 0, check.output


def test_segment_command_with_only_bad_inputs_keeps_the_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "seg.jsonl"
    out.write_text("previous run\n", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    result = CliRunner().invoke(app, ["segment", str(empty), "--out", str(out)])
    assert result.exit_code == 1 and "empty file" in result.output
    assert out.read_text(encoding="utf-8") == "previous run\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
