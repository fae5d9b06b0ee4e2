"""The HTML report, the comparison and the ``eval``/``compare`` commands end to end."""

from __future__ import annotations

import base64
import copy
import html
import json
import re
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcemark.documents import Document, Passage, SourceMention
from sourcemark.eval.cli import app
from sourcemark.eval.compare import compare_systems, write_comparison_report
from sourcemark.eval.metrics import evaluate
from sourcemark.eval.report import write_report
from sourcemark.eval.run import MODEL_STAGE_MISSING
from sourcemark.jsonl import write_documents
from sourcemark.labels import ROLES

IMG = re.compile(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE = 'Ali <script>alert("x")</script> & co say:'


def make_gold() -> list[Document]:
    text_a = "Troops entered the town. SANA said it was calm. It seems a turning point."
    a = Document("a", text_a, {}, [
        Passage(0, 24, "claim"),
        Passage(25, 47, "attributed_report", [SourceMention(25, 29, "state_media")]),
        Passage(48, 73, "analysis"),
    ])
    text_b = f"Comments\n{HOSTILE}\nGreat piece."
    start = text_b.index("Ali")
    b = Document("b", text_b, {}, [
        Passage(0, 8, "other"),
        Passage(start, start + len(HOSTILE), "reader_comment"),
        Passage(len(text_b) - 12, len(text_b), "reader_comment"),
    ])
    return [a, b]


def predict(gold: list[Document], wrong: dict[tuple[str, int], str], probs: bool = True) -> list[Document]:
    """Gold with some labels replaced; every passage scored 0.7 for its label when ``probs``."""
    out = copy.deepcopy(gold)
    for d in out:
        for i, p in enumerate(d.passages):
            p.label = wrong.get((d.doc_id, i), p.label)
            if probs:
                p.probs = {r: 0.7 if r == p.label else 0.075 for r in ROLES}
    return out


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    gold = make_gold()
    paths = {"gold": tmp_path / "gold.jsonl", "good": tmp_path / "good.jsonl", "bad": tmp_path / "bad.jsonl"}
    write_documents(paths["gold"], gold)
    write_documents(paths["good"], predict(gold, {("a", 2): "claim"}))
    write_documents(paths["bad"], predict(gold, {("a", 2): "claim", ("b", 1): "claim", ("a", 0): "other"}))
    return paths


def images(html_text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in IMG.findall(html_text)]


# --------------------------------------------------------------------------- report

def test_html_report_embeds_plots_and_escapes_text(tmp_path: Path) -> None:
    gold = make_gold()
    result = evaluate(gold, predict(gold, {("b", 1): "claim"}), bootstrap=20)
    path = write_report(result, tmp_path / "rep")
    text = path.read_text(encoding="utf-8")
    pngs = images(text)
    assert len(pngs) == 3  # per-role F1 bars, confusion matrix, reliability diagram
    assert all(p.startswith(PNG_MAGIC) and len(p) > 1000 for p in pngs)
    assert 'alt="reliability diagram"' in text and 'alt="confusion matrix of roles"' in text
    for name in ("confusion_matrix.png", "role_f1.png", "reliability.png"):
        assert (tmp_path / "rep" / name).read_bytes().startswith(PNG_MAGIC)
    # the hostile comment is the one worst passage, shown escaped and never as markup
    assert "<script>" not in text
    assert html.escape(HOSTILE) in text
    assert "Worst passages (1 shown)" in text
    assert "<td>b</td>" in text  # per-document table


def test_html_report_without_probs_has_no_reliability_diagram(tmp_path: Path) -> None:
    gold = make_gold()
    result = evaluate(gold, predict(gold, {}, probs=False), bootstrap=0)
    text = write_report(result, tmp_path / "rep").read_text(encoding="utf-8")
    assert len(images(text)) == 2
    assert "no <code>probs</code>" in text
    assert "No passage is wrongly labelled." in text


def test_comparison_report(tmp_path: Path) -> None:
    gold = make_gold()
    comparison = compare_systems(gold, {"good": predict(gold, {("a", 2): "claim"}), "gold": gold}, bootstrap=20)
    assert list(comparison["systems"]) == ["good", "gold"]
    assert comparison["systems"]["gold"]["roles"]["macro_f1"] == 1.0
    assert comparison["systems"]["good"]["roles"]["accuracy"] == pytest.approx(5 / 6)
    text = write_comparison_report(comparison, tmp_path / "cmp").read_text(encoding="utf-8")
    assert len(images(text)) == 1 and images(text)[0].startswith(PNG_MAGIC)
    assert "<td>good</td>" in text and "<td>gold</td>" in text


# --------------------------------------------------------------------------- commands

runner = CliRunner()


def test_eval_command_writes_metrics_table_and_report(files: dict[str, Path], tmp_path: Path) -> None:
    out, rep = tmp_path / "m.json", tmp_path / "report"
    result = runner.invoke(app, ["eval", "--gold", str(files["gold"]), "--pred", str(files["good"]),
                                 "--out", str(out), "--report", str(rep), "--bootstrap", "30"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    # one of six passages wrong: analysis predicted as claim
    assert metrics["roles"]["accuracy"] == pytest.approx(5 / 6)
    assert metrics["roles"]["per_role"]["analysis"]["recall"] == 0.0
    assert metrics["bootstrap"]["replicates"] == 30 and "roles.macro_f1" in metrics["ci"]
    assert "Roles" in result.stdout and "macro-F1" in result.stdout
    assert len(images((rep / "report.html").read_text(encoding="utf-8"))) == 3


def test_eval_with_several_preds_compares(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp.json"
    result = runner.invoke(app, ["eval", "--gold", str(files["gold"]), "--pred", str(files["good"]),
                                 "--pred", str(files["bad"]), "--out", str(out), "--bootstrap", "0",
                                 "--report", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    systems = json.loads(out.read_text())["systems"]
    assert list(systems) == ["good", "bad"]
    assert systems["bad"]["roles"]["accuracy"] == pytest.approx(3 / 6)
    assert (tmp_path / "r" / "compare_roles.png").exists()


def test_compare_command_with_names(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp.json"
    result = runner.invoke(app, ["compare", "--gold", str(files["gold"]), "--pred", str(files["good"]),
                                 "--pred", str(files["bad"]), "--name", "model", "--name", "rules",
                                 "--out", str(out), "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    assert list(json.loads(out.read_text())["systems"]) == ["model", "rules"]
    assert "model" in result.stdout and "rules" in result.stdout


def error_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_missing_file_is_one_error_line(files: dict[str, Path], tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "--gold", str(files["gold"]), "--pred", str(tmp_path / "nope.jsonl"),
                                 "--out", str(tmp_path / "m.json")])
    assert result.exit_code == 1
    assert "nope.jsonl" in error_line(result)
    assert not (tmp_path / "m.json").exists()


def test_bad_jsonl_names_file_and_line(files: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "broken.jsonl"
    bad.write_text(files["good"].read_text().splitlines()[0] + "\n{not json\n")
    result = runner.invoke(app, ["eval", "--gold", str(files["gold"]), "--pred", str(bad),
                                 "--out", str(tmp_path / "m.json")])
    assert result.exit_code == 1
    assert f"{bad}:2: invalid JSON" in error_line(result)


def test_mismatched_text_is_an_error(files: dict[str, Path], tmp_path: Path) -> None:
    docs = predict(make_gold(), {})
    docs[1].text = docs[1].text.replace("Great", "Good")
    changed = tmp_path / "changed.jsonl"
    write_documents(changed, docs)
    result = runner.invoke(app, ["eval", "--gold", str(files["gold"]), "--pred", str(changed),
                                 "--out", str(tmp_path / "m.json")])
    assert result.exit_code == 1
    line = error_line(result)
    assert "'b'" in line and "changed.jsonl" in line and "text differs" in line


def test_unknown_label_is_an_error(files: dict[str, Path], tmp_path: Path) -> None:
    docs = predict(make_gold(), {("a", 0): "fact"})
    path = tmp_path / "labels.jsonl"
    write_documents(path, docs)
    result = runner.invoke(app, ["eval", "--gold", str(files["gold"]), "--pred", str(path),
                                 "--out", str(tmp_path / "m.json")])
    assert result.exit_code == 1
    assert "unknown role 'fact'" in error_line(result)


def test_nothing_to_score(files: dict[str, Path], tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "--gold", str(files["gold"]), "--out", str(tmp_path / "m.json")])
    assert result.exit_code == 1
    assert "--pred" in error_line(result)


def test_model_without_model_stage(files: dict[str, Path], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sourcemark.model.annotator", None)  # makes the import fail
    result = runner.invoke(app, ["eval", "--gold", str(files["gold"]), "--model", str(tmp_path),
                                 "--out", str(tmp_path / "m.json")])
    assert result.exit_code == 1
    assert error_line(result) == f"error: {MODEL_STAGE_MISSING}"


def test_model_scores_texts_without_gold_passages(files: dict[str, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}
    gold = make_gold()

    class FakeAnnotator:
        @classmethod
        def load(cls, directory):  # type: ignore[no-untyped-def]
            seen["dir"] = Path(directory)
            return cls()

        def annotate(self, docs):  # type: ignore[no-untyped-def]
            docs = list(docs)
            seen["passages"] = sum(len(d.passages) for d in docs)
            seen["meta"] = [d.meta for d in docs]
            yield from predict(gold, {("a", 1): "claim"})

    fake = types.ModuleType("sourcemark.model.annotator")
    fake.Annotator = FakeAnnotator  # type: ignore[attr-defined]
    fake.ModelLoadError = RuntimeError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sourcemark.model.annotator", fake)
    model_dir = tmp_path / "my-model"
    out = tmp_path / "m.json"
    result = runner.invoke(app, ["eval", "--gold", str(files["gold"]), "--model", str(model_dir),
                                 "--out", str(out), "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    assert seen["dir"] == model_dir and seen["passages"] == 0
    assert json.loads(out.read_text())["roles"]["accuracy"] == pytest.approx(5 / 6)


def test_compare_error_names_the_file_of_the_system(files: dict[str, Path], tmp_path: Path) -> None:
    short = tmp_path / "short.jsonl"
    write_documents(short, make_gold()[:1])
    result = runner.invoke(app, ["compare", "--gold", str(files["gold"]), "--pred", str(files["good"]),
                                 "--pred", str(short), "--name", "ok", "--name", "partial",
                                 "--out", str(tmp_path / "m.json"), "--bootstrap", "0"])
    assert result.exit_code == 1
    line = error_line(result)
    assert str(short) in line and "no prediction for gold document 'b'" in line
