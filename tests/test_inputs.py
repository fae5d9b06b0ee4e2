"""Inputs: ids that stay unique and stable, encodings, limits, unreadable folders, link loops, interrupted writes."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sourcemark.documents import Document
from sourcemark.readers import ReadError, UniqueIds, read_inputs

ROOT = Path(__file__).resolve().parents[1]


def _ids(inputs: list[str]) -> list[str]:
    return [r.doc_id for r in read_inputs(inputs) if isinstance(r, Document)]


def test_renamed_ids_never_collide_with_other_ids() -> None:
    unique = UniqueIds()
    # a renamed "dup" must skip the "dup-2" that exists, and a later "dup-3" must not reuse a renamed one
    assert [unique(i) for i in ["dup-2", "x", "dup", "dup", "dup-3", "dup"]] == \
        ["dup-2", "x", "dup", "dup-3", "dup-3-2", "dup-4"]


def test_duplicate_ids_in_one_jsonl_file_stay_distinct(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    records = [("dup-2", "First."), ("x", "Second."), ("dup", "Third."), ("dup", "Fourth.")]
    path.write_text("".join(json.dumps({"doc_id": i, "text": t}) + "\n" for i, t in records), encoding="utf-8")
    docs = [r for r in read_inputs([str(path)]) if isinstance(r, Document)]
    assert len({d.doc_id for d in docs}) == 4
    assert [d.text for d in docs] == [t for _, t in records]


def test_ids_from_files_are_their_path_under_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    for day in ("2018-02-24", "2018-02-25"):
        (folder / day).mkdir(parents=True)
        (folder / day / "index.txt").write_text(f"Report of {day}.", encoding="utf-8")
    (folder / "top.txt").write_text("Top.", encoding="utf-8")
    assert _ids([str(folder)]) == ["2018-02-24/index", "2018-02-25/index", "top"]
    # the same file keeps its id whatever else the folder holds
    (folder / "2018-02-24" / "index.txt").unlink()
    assert _ids([str(folder)]) == ["2018-02-25/index", "top"]
    # a glob names files relative to the folder before its first wildcard
    assert _ids([str(folder / "**" / "*.txt")]) == ["2018-02-25/index", "top"]


def test_jsonl_fallback_ids_include_the_folder(tmp_path: Path) -> None:
    for day in ("a", "b"):
        (tmp_path / day).mkdir()
        (tmp_path / day / "docs.jsonl").write_text(json.dumps({"text": f"From {day}."}) + "\n", encoding="utf-8")
    assert _ids([str(tmp_path)]) == ["a/docs-1", "b/docs-1"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le"])
def test_utf16_text_with_bom_is_read(tmp_path: Path, encoding: str) -> None:
    text = "Headline\r\nCafé bombed, the Observatory said.\r\n"
    path = tmp_path / "a.txt"
    bom = "" if encoding == "utf-16" else "\ufeff"  # the "utf-16" codec writes its own BOM
    path.write_bytes((bom + text).encode(encoding))
    (doc,) = read_inputs([str(path)])
    assert isinstance(doc, Document) and doc.text == text


def test_utf16_jsonl_says_how_to_convert(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_bytes((json.dumps({"doc_id": "a", "text": "A."}) + "\n").encode("utf-16"))
    (error,) = read_inputs([str(path)])
    assert isinstance(error, ReadError)
    assert "UTF-16" in error.message and "iconv -f UTF-16 -t UTF-8" in error.message


def test_utf16_stdin_jsonl_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (json.dumps({"doc_id": "s1", "text": "A."}) + "\n").encode("utf-16")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert _ids(["-"]) == ["s1"]


def test_max_chars_applies_to_stdin_jsonl(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (json.dumps({"doc_id": "long", "text": "x" * 200}) + "\n"
            + json.dumps({"doc_id": "short", "text": "y"}) + "\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    results = list(read_inputs(["-"], max_chars=100))
    assert isinstance(results[0], ReadError) and "over the limit of 100" in results[0].message
    assert isinstance(results[1], Document) and results[1].doc_id == "short"


def test_unreadable_subfolder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.txt").write_text("A.", encoding="utf-8")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "b.txt").write_text("B.", encoding="utf-8")
    locked.chmod(0)
    try:
        if os.geteuid() == 0:  # root reads everything: make the folder unreadable the way a mount would
            real_scandir = os.scandir

            def scandir(path):  # type: ignore[no-untyped-def]
                if Path(path) == locked:
                    raise PermissionError(13, "Permission denied", str(path))
                return real_scandir(path)

            monkeypatch.setattr(os, "scandir", scandir)
        results = list(read_inputs([str(tmp_path)]))
    finally:
        locked.chmod(0o755)
    errors = [r for r in results if isinstance(r, ReadError)]
    assert [str(e) for e in errors] == [f"{locked}: cannot read folder: Permission denied"]
    assert [r.doc_id for r in results if isinstance(r, Document)] == ["ok/a"]


def test_glob_over_a_self_loop_yields_each_file_once(tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "a.txt").write_text("A.", encoding="utf-8")
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    assert _ids([str(folder / "**" / "*.txt")]) == ["a"]
    assert _ids([str(folder)]) == ["a"]
    # the same real file named twice is read once
    assert _ids([str(folder), str(folder / "a.txt")]) == ["a"]


def test_glob_through_symlink_loops_terminates(tmp_path: Path) -> None:
    """Two links back to the folder used to branch without end: the expansion must finish at once."""
    folder = tmp_path / "dir"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("A.", encoding="utf-8")
    (folder / "sub" / "up").symlink_to(folder, target_is_directory=True)
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "b.txt").write_text("B.", encoding="utf-8")
    (folder / "other").symlink_to(linked, target_is_directory=True)
    code = ("import sys; from sourcemark.readers import read_inputs; "
            "print([r.doc_id for r in read_inputs(sys.argv[1:])])")
    # a child process, so the old behaviour (endless) ends at the timeout instead of hanging the suite
    result = subprocess.run([sys.executable, "-c", code, str(folder / "**" / "*.txt")], capture_output=True,
                            text=True, timeout=30, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(["other/b", "sub/a"])


def test_segment_removes_its_temporary_file_on_sigterm(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    # reading stdin that never ends keeps the command inside the atomic writer until the signal
    proc = subprocess.Popen([sys.executable, "-m", "sourcemark", "segment", "-", "--out", str(out)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".out.jsonl.*.tmp")):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "segment never opened its temporary file"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream:
                stream.close()
    assert proc.returncode != 0
    assert list(tmp_path.iterdir()) == []
