"""Readers turn good input into documents and bad input into one-line errors, never exceptions."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from sourcemark.documents import Document
from sourcemark.readers import COMMENT_START_KEY, ReadError, read_inputs


def _one(paths: list[str], **kwargs) -> Document | ReadError:
    results = list(read_inputs(paths, **kwargs))
    assert len(results) == 1, results
    return results[0]


def test_txt_drops_bom_and_keeps_crlf(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("\ufeffHeadline\r\nBody text.\r\n".encode("utf-8"))
    doc = _one([str(path)])
    assert isinstance(doc, Document)
    assert doc.doc_id == "a"
    assert doc.text == "Headline\r\nBody text.\r\n"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file"),
        (b"  \n\n", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file (contains NUL bytes), not a text document"),
        (b"caf\xe9 au lait", "not UTF-8: invalid byte 0xe9 at byte offset 3"),
    ],
)
def test_bad_text_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    error = _one([str(path)])
    assert isinstance(error, ReadError)
    assert str(error) == f"{path}: {message}"


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 200, encoding="utf-8")
    error = _one([str(path)], max_chars=100)
    assert isinstance(error, ReadError) and "over the limit of 100" in error.message


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads everything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("text", encoding="utf-8")
    path.chmod(0)
    error = _one([str(path)])
    assert isinstance(error, ReadError) and "cannot read" in error.message


def test_jsonl_records_and_errors_do_not_stop_the_batch(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    lines = [
        json.dumps({"doc_id": "one", "text": "First.", "outlet": "SANA", "meta": {"k": 1}}),
        "[1, 2]",
        json.dumps({"doc_id": "two"}),
        "{oops",
        json.dumps({"text": "No id here."}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = list(read_inputs([str(path)]))
    assert [type(r).__name__ for r in results] == ["Document", "ReadError", "ReadError", "ReadError", "Document"]
    first = results[0]
    assert isinstance(first, Document) and first.meta == {"k": 1, "outlet": "SANA"}
    assert str(results[1]) == f"{path}:2: expected a JSON object, got list"
    assert str(results[2]) == f"{path}:3: record has no 'text' string"
    assert str(results[3]).startswith(f"{path}:4: invalid JSON")
    assert isinstance(results[4], Document) and results[4].doc_id == "docs-5"


def test_html_keeps_comments_recognisable(tmp_path: Path) -> None:
    html = """<html><head><title>Clashes in Daraa</title></head><body><article>
    <h1>Clashes in Daraa</h1>
    <p>Government forces entered the southern town of Busra on Monday after two days of shelling.</p>
    <p>The Syrian Observatory for Human Rights said at least twelve fighters were killed in the clashes.</p>
    </article>
    <div class="comments"><h3>2 Comments</h3>
    <div class="comment"><p>This is the third time this month that the town has changed hands.</p></div>
    <div class="comment"><p>Thank you for the clear report, it is rare to read one.</p></div></div>
    </body></html>"""
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    doc = _one([str(path)])
    assert isinstance(doc, Document)
    assert "Government forces entered" in doc.text
    start = doc.meta[COMMENT_START_KEY]
    assert doc.text.index("Government") < start <= doc.text.index("third time this month")
    assert doc.text[start:].startswith("2 Comments")


def test_directory_recursion_and_unique_ids(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.txt").write_text("One.", encoding="utf-8")
    (tmp_path / "b" / "x.txt").write_text("Two.", encoding="utf-8")
    (tmp_path / "b" / "notes.bin").write_bytes(b"\x00")
    docs = list(read_inputs([str(tmp_path)]))
    assert [d.doc_id for d in docs] == ["a/x", "b/x"]
    # files named directly are known by their names: the second x is renamed
    docs = list(read_inputs([str(tmp_path / "a" / "x.txt"), str(tmp_path / "b" / "x.txt")]))
    assert [d.doc_id for d in docs] == ["x", "x-2"]


def test_empty_directory_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    results = list(read_inputs([str(tmp_path / "empty"), str(tmp_path / "nope.txt")]))
    assert [str(r) for r in results] == [
        f"{tmp_path / 'empty'}: directory has no readable files (.txt, .jsonl, .html, .htm)",
        f"{tmp_path / 'nope.txt'}: no such file or directory",
    ]


def test_glob_pattern(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "c.md"):
        (tmp_path / name).write_text("Text.", encoding="utf-8")
    docs = list(read_inputs([str(tmp_path / "*.txt")]))
    assert [d.doc_id for d in docs] == ["a", "b"]


def test_stdin_text_and_jsonl(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("Plain text.\n".encode())))
    (doc,) = list(read_inputs(["-"]))
    assert isinstance(doc, Document) and doc.doc_id == "stdin" and doc.text == "Plain text.\n"
    data = b'{"doc_id": "s1", "text": "A."}\n{"doc_id": "s2", "text": "B."}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert [d.doc_id for d in read_inputs(["-"])] == ["s1", "s2"]
