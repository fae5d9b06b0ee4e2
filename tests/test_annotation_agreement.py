"""Agreement, adjudication and pre-label influence computed on documents (no server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest

from sourcemark.annotation.adjudication import MENTION, PASSAGE, clusters, find_conflicts, read_conflicts, \
    write_conflicts
from sourcemark.annotation.agreement import (
    AgreementError, alpha_from_coincidences, coincidences, kappa_from_confusion, library_alpha, measure_agreement,
    role_units, warnings,
)
from sourcemark.annotation.agreement_report import interpretation, summary_lines, write_report
from sourcemark.annotation.pull import PullReport, convert_task
from sourcemark.annotation.team import TeamTask, team_task
from sourcemark.annotation.convert import document_to_result, document_to_task
from sourcemark.documents import Document, Passage, SourceMention
from sourcemark.labels import ROLES

Part = tuple[str, str, Sequence[tuple[str, str]]]


def build(doc_id: str, parts: Sequence[Part]) -> Document:
    """A document from (sentence, role, [(mention text, type)]) parts joined by spaces."""
    text = " ".join(sentence for sentence, _, _ in parts)
    passages, at = [], 0
    for sentence, role, mentions in parts:
        p = Passage(at, at + len(sentence), role)
        for mention, kind in mentions:
            start = text.index(mention, at)
            p.sources.append(SourceMention(start, start + len(mention), kind))
        passages.append(p)
        at += len(sentence) + 1
    return Document(doc_id, text, {}, passages)


def relabel(doc: Document, roles: Sequence[str] | None = None,
            mentions: Sequence[tuple[str, str]] | None = None) -> Document:
    """A copy of ``doc`` with other roles and/or, when given, other mentions (text, type) in the same passages."""
    copy = Document(doc.doc_id, doc.text, {}, [Passage(p.start, p.end, p.label, sources=list(p.sources))
                                              for p in doc.passages])
    for p, role in zip(copy.passages, roles or [p.label for p in copy.passages]):
        p.label = role
    if mentions is not None:
        for p in copy.passages:
            p.sources = []
        for mention, kind in mentions:
            start = doc.text.index(mention)
            home = next(p for p in copy.passages if p.start <= start < p.end)
            home.sources.append(SourceMention(start, start + len(mention), kind))
    return copy


DOC1 = build("doc-1", [("Troops entered Aleppo on Monday.", "claim", []),
                       ("SANA said five people died.", "attributed_report", [("SANA", "state_media")]),
                       ("The offensive will probably stall.", "analysis", []),
                       ("Subscribe to our newsletter.", "other", [])])
DOC2 = build("doc-2", [("The Observatory said the raid killed 12.", "attributed_report",
                        [("The Observatory", "monitor_group")]),
                       ("Jets struck a market, a witness told us.", "claim", []),
                       ("Such raids usually precede a ground push.", "analysis", []),
                       ("Share this article.", "other", [])])
DOC3 = build("doc-3", [("Shelling hit Douma.", "claim", []), ("Rebels said they repelled it.",
                                                                 "attributed_report", []),
                       ("What a disgrace, writes a reader.", "reader_comment", []), ("Tags: war", "other", [])])


def planted() -> list[TeamTask]:
    """Annotator a keeps every pre-label; b changes two roles, one mention type and adds one mention."""
    b1 = relabel(DOC1, ["claim", "attributed_report", "claim", "other"], [("SANA", "news_media")])
    b2 = relabel(DOC2, ["claim", "claim", "analysis", "other"],
                 [("The Observatory", "monitor_group"), ("a witness", "local_source")])
    teams = []
    for k, (pre, b) in enumerate(((DOC1, b1), (DOC2, b2), (DOC3, relabel(DOC3)))):
        teams.append(TeamTask(task_id=k + 1, doc_id=pre.doc_id, text=pre.text,
                              documents={"a@x.org": relabel(pre), "b@x.org": b},
                              annotation_ids={"a@x.org": 10 + k, "b@x.org": 20 + k}, prelabel=pre))
    return teams


def test_kappa_and_mention_f1_equal_hand_computed_values() -> None:
    result = measure_agreement(planted(), bootstrap=200)
    # a: claim ar analysis other | ar claim analysis other | claim ar reader_comment other
    # b: claim ar CLAIM    other | CLAIM claim analysis other | claim ar reader_comment other
    # observed 10/12; marginals a (claim 3, ar 3, analysis 2, rc 1, other 3), b (5, 2, 1, 1, 3):
    # expected (15 + 6 + 2 + 1 + 9) / 144 = 33/144; kappa = (120 - 33) / (144 - 33) = 87/111
    roles = result["roles"]
    assert roles["coefficient"] == "cohen_kappa" and roles["value"] == pytest.approx(87 / 111)
    assert roles["observed_agreement"] == pytest.approx(10 / 12) and roles["n_units"] == 12
    # analysis: a 2, b 1, both 1 -> 2*1/3; reader_comment: both once -> 1
    assert roles["per_role"]["analysis"]["specific_agreement"] == pytest.approx(2 / 3)
    assert roles["per_role"]["reader_comment"]["specific_agreement"] == 1.0
    # mentions: typed, only "The Observatory" matches: 2*1/(2+3); span only, SANA matches too: 2*2/5
    mentions = result["mentions"]
    assert mentions["f1"] == pytest.approx(0.4) and mentions["span_f1"] == pytest.approx(0.8)
    assert mentions["type_agreement"] == pytest.approx(0.5)
    assert mentions["per_type"]["monitor_group"]["f1"] == 1.0
    assert mentions["per_type"]["state_media"]["f1"] == 0.0
    ci = result["ci"]
    assert ci["roles.coefficient"][0] <= roles["value"] <= ci["roles.coefficient"][1]
    assert "mentions.per_type.monitor_group.f1" in ci and result["bootstrap"]["unit"] == "document"


def test_prelabel_influence_per_annotator() -> None:
    influence = measure_agreement(planted(), bootstrap=0)["prelabel_influence"]
    a, b = influence["a@x.org"], influence["b@x.org"]
    assert a["roles"]["acceptance"] == 1.0 and b["roles"]["acceptance"] == pytest.approx(10 / 12)
    assert a["roles"]["agreement"] == pytest.approx(10 / 12)
    # b labelled claim 5 times, the model had said claim for 3 of them
    assert b["per_role"]["claim"] == {"acceptance": pytest.approx(3 / 5), "n": 5,
                                      "agreement": pytest.approx(3 / 5), "n_paired": 5}
    assert a["mentions"]["acceptance"] == 1.0 and b["mentions"]["acceptance"] == pytest.approx(1 / 3)
    assert a["mentions"]["agreement"] == pytest.approx(1 / 2) and b["mentions"]["agreement"] == pytest.approx(1 / 3)


def test_high_acceptance_with_low_agreement_is_said_in_words() -> None:
    # a keeps all 6 pre-labels; b relabels 3 of them: a accepts 100% but agrees with b on 50%
    pre = build("d", [(f"Sentence number {i}.", "claim", []) for i in range(6)])
    b = relabel(pre, ["claim", "analysis", "claim", "analysis", "claim", "analysis"])
    team = TeamTask(1, "d", pre.text, {"a": relabel(pre), "b": b}, {"a": 1, "b": 2}, prelabel=pre)
    result = measure_agreement([team], bootstrap=0)
    assert result["warnings"], "the warning sign must be reported"
    text = " ".join(interpretation(result))
    assert "a, passage roles: kept the model's pre-label on 100% of passages (n=6)" in text
    assert "only 50%" in text and "warning sign" in text
    assert not any(w.startswith("b,") for w in result["warnings"]), "b changed half the pre-labels: no sign"
    assert "No warning sign" in interpretation(measure_agreement(planted(), bootstrap=0))[0]
    assert warnings({}) == []


def test_more_than_two_annotators_use_krippendorffs_alpha() -> None:
    # units: (c,c,c) (c,c,a) (a,a,a) (a,a,-): coincidences o_cc=4, o_ca=o_ac=1, o_aa=5; n_c=5, n_a=6, n=11
    # alpha = 1 - (n - 1) * 2 / (n^2 - 25 - 36) = 1 - 20/60
    pre = build("d", [(f"Sentence number {i}.", "claim", []) for i in range(4)])
    docs = {"x": relabel(pre, ["claim", "claim", "analysis", "analysis"]),
            "y": relabel(pre, ["claim", "claim", "analysis", "analysis"]),
            "z": Document("d", pre.text, {}, [Passage(p.start, p.end, r) for p, r in
                                              zip(pre.passages[:3], ["claim", "analysis", "analysis"])])}
    result = measure_agreement([TeamTask(1, "d", pre.text, docs, {})], bootstrap=0)
    assert result["roles"]["coefficient"] == "krippendorff_alpha" and result["roles"]["cohen_kappa"] is None
    assert result["roles"]["value"] == pytest.approx(2 / 3)
    assert result["tasks_with_prelabel"] == 0


def test_pooled_formulas_equal_the_libraries() -> None:
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(3)
    first, second = rng.integers(0, 5, 60), rng.integers(0, 5, 60)
    second[:30] = first[:30]
    confusion = np.zeros((5, 5))
    np.add.at(confusion, (first, second), 1)
    assert kappa_from_confusion(confusion) == pytest.approx(cohen_kappa_score(first, second))
    counts = rng.integers(0, 3, (40, 5)).astype(float)  # units x labels, some with a single label (unpairable)
    assert alpha_from_coincidences(coincidences(counts)) == pytest.approx(library_alpha(counts))
    assert kappa_from_confusion(np.zeros((5, 5))) is None and library_alpha(np.zeros((0, 5))) is None


def test_units_follow_every_annotators_boundaries() -> None:
    text = "Alpha beta. Gamma delta."
    a = Document("d", text, {}, [Passage(0, 24, "claim")])
    b = Document("d", text, {}, [Passage(0, 11, "claim"), Passage(12, 24, "analysis")])
    units = role_units(TeamTask(1, "d", text, {"a": a, "b": b}, {}))
    assert [(s, e, labels) for s, e, labels in units] == [(0, 11, {"a": "claim", "b": "claim"}),
                                                          (12, 24, {"a": "claim", "b": "analysis"})]


def test_no_task_with_two_annotators_is_an_error() -> None:
    with pytest.raises(AgreementError, match="no task has two or more"):
        measure_agreement([TeamTask(1, "d", DOC1.text, {"a": DOC1}, {})])


def test_conflicts_are_exactly_the_planted_disagreements(tmp_path: Path) -> None:
    found = [c for team in planted() for c in find_conflicts(team)]
    assert [(c.doc_id, c.kind, c.text) for c in found] == [
        ("doc-1", MENTION, "SANA"), ("doc-1", PASSAGE, "The offensive will probably stall."),
        ("doc-2", PASSAGE, "The Observatory said the raid killed 12."), ("doc-2", MENTION, "a witness")]
    sana = found[0]
    assert {n: [r[2] for r in rs] for n, rs in sana.labels.items()} == {"a@x.org": ["state_media"],
                                                                        "b@x.org": ["news_media"]}
    assert found[3].labels["a@x.org"] == [] and [r[2] for r in found[3].prelabel] == []
    assert [r[2] for r in found[1].prelabel] == ["analysis"]
    path = tmp_path / "c.jsonl"
    assert write_conflicts(path, found, project=7) == 4
    records = read_conflicts(path)
    assert records[1] == {"doc_id": "doc-1", "project": 7, "task": 1, "kind": "passage",
                          "start": DOC1.passages[2].start, "end": DOC1.passages[2].end,
                          "text": "The offensive will probably stall.",
                          "labels": {"a@x.org": [{"start": DOC1.passages[2].start, "end": DOC1.passages[2].end,
                                                  "label": "analysis"}],
                                     "b@x.org": [{"start": DOC1.passages[2].start, "end": DOC1.passages[2].end,
                                                  "label": "claim"}]},
                          "prelabel": [{"start": DOC1.passages[2].start, "end": DOC1.passages[2].end,
                                        "label": "analysis"}],
                          "annotations": {"a@x.org": 10, "b@x.org": 20}}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"doc_id": "x", "task": 1}\n[1]\n')
    with pytest.raises(ValueError, match="bad.jsonl:2: not a conflict record"):
        read_conflicts(bad)


def test_a_split_passage_is_one_conflict() -> None:
    regions = {"a": [(0, 24, "claim")], "b": [(0, 11, "claim"), (12, 24, "claim")]}
    assert clusters(regions) == [{"a": [(0, 24, "claim")], "b": [(0, 11, "claim"), (12, 24, "claim")]}]


def _task(doc: Document, annotations: list[tuple[int, str, Document, bool]]) -> dict:
    task = {"id": 5, **document_to_task(doc, prediction=False)}
    task["annotations"] = [{"id": i, "completed_by": {"id": i, "email": who}, "result": document_to_result(d),
                            "ground_truth": truth, "updated_at": f"2026-01-0{i}"} for i, who, d, truth in annotations]
    return task


def test_pull_writes_agreed_documents_and_holds_conflicts_back() -> None:
    report = PullReport()
    agreed = convert_task(_task(DOC3, [(1, "a", DOC3, False), (2, "b", relabel(DOC3), False)]), 1, None, report)
    assert agreed is not None and agreed.meta["labelstudio"]["annotators"] == ["a", "b"] and report.agreed == 1
    b1 = relabel(DOC1, ["claim", "attributed_report", "claim", "other"])
    assert convert_task(_task(DOC1, [(1, "a", DOC1, False), (2, "b", b1, False)]), 1, None, report) is None
    assert len(report.conflicts) == 1 and report.held and "doc-1" in report.held[0]
    # a lead's ground truth resolves the task
    resolved = convert_task(_task(DOC1, [(1, "a", DOC1, False), (2, "b", b1, False), (3, "lead", b1, True)]),
                            1, None, report)
    assert resolved is not None and resolved.meta["labelstudio"]["annotator"] == "lead"


def test_team_task_keeps_each_annotators_latest_submission() -> None:
    task = _task(DOC1, [(1, "a", relabel(DOC1, ["other"] * 4), False), (2, "a", DOC1, False),
                        (3, "b", DOC1, False)])
    task["annotations"].append({"id": 4, "completed_by": 9, "result": [], "was_cancelled": True})
    team = team_task(task)
    assert team.annotators == ["a", "b"] and team.annotation_ids == {"a": 2, "b": 3}
    assert [p.label for p in team.documents["a"].passages] == [p.label for p in DOC1.passages]


def test_report_files(tmp_path: Path) -> None:
    result = measure_agreement(planted(), bootstrap=50)
    html_path = write_report(result, tmp_path / "report")
    names = sorted(p.name for p in (tmp_path / "report").iterdir())
    assert names == ["agreement.html", "agreement.json", "mention_agreement.png", "prelabel_influence.png",
                     "role_agreement.png"]
    page = html_path.read_text(encoding="utf-8")
    assert "Cohen&#x27;s kappa" in page and "No warning sign" in page and page.count("data:image/png") == 3
    assert json.loads((tmp_path / "report" / "agreement.json").read_text())["roles"]["n_units"] == 12
    lines = summary_lines(result)
    assert "3 task(s) with two or more annotators" in lines[0] and any("0.784" in line for line in lines)
    assert set(ROLES) >= set(result["roles"]["per_role"])
