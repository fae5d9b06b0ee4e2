"""Label Studio config, conversion, change summary and pull rules: fast, no server."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from sourcemark.annotation.config import (
    ROLE_COLOURS, ROLE_CONTROL, SOURCE_COLOURS, SOURCE_CONTROL, TEXT_NAME, config_problems, label_config,
    mention_style, source_label, source_type_of,
)
from sourcemark.annotation.convert import (
    ConversionError, OffsetMap, document_to_prediction, document_to_result, document_to_task,
    document_uncertainty, result_to_document, task_doc_id,
)
from sourcemark.annotation.diff import DiffSummary
from sourcemark.annotation.pull import PullReport, choose_annotation, convert_task, submitted
from sourcemark.documents import Document, Passage, SourceMention
from sourcemark.labels import ROLES, SOURCE_TYPES


def predicted_doc() -> Document:
    text = "SANA said 5 people died in Idlib. \U0001F4A5 It is likely to spread.\n\nTags: war"
    first_end = text.index(".") + 1
    second = text.index("It is")
    second_end = text.index("spread.") + len("spread.")
    tags = text.index("Tags")
    return Document("doc-1", text, {"source_file": "a.txt", "summary": {"big": 1}}, [
        Passage(0, first_end, "attributed_report", [SourceMention(0, 4, "state_media", 0.91)], score=0.8,
                probs={"claim": 0.1, "attributed_report": 0.8, "analysis": 0.05, "reader_comment": 0.0,
                       "other": 0.05}),
        Passage(second, second_end, "analysis", score=0.6,
                probs={"claim": 0.3, "attributed_report": 0.05, "analysis": 0.6, "reader_comment": 0.0,
                       "other": 0.05}),
        Passage(tags, len(text), "other", score=0.99,
                probs={"claim": 0.0, "attributed_report": 0.0, "analysis": 0.0, "reader_comment": 0.01,
                       "other": 0.99}),
    ], model_version="tiny-1")


def task_for(doc: Document, task_id: int = 7) -> dict:
    return {"id": task_id, **document_to_task(doc)}


# ----------------------------------------------------------------------------- config


def test_config_lists_every_label_id_once_per_set() -> None:
    root = ET.fromstring(label_config())
    sets = {e.get("name"): [lab.get("value") for lab in e.iter("Label")] for e in root.iter("Labels")}
    assert sets[ROLE_CONTROL] == list(ROLES)
    assert sets[SOURCE_CONTROL] == [source_label(t) for t in SOURCE_TYPES]
    assert "other_source" in sets[SOURCE_CONTROL] and "other" not in sets[SOURCE_CONTROL], \
        "the source type other needs its own name beside the role other"
    colours = [lab.get("background") for lab in root.iter("Label")]
    assert len(set(colours[len(ROLES):])) == len(SOURCE_TYPES), "source types need distinct colours"
    assert [t.get("value") for t in root.iter("Text") if t.get("name") == TEXT_NAME] == ["$text"]
    assert config_problems(label_config()) == []


def _lab(colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of a #rrggbb colour."""
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
    xyz = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, \
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def _tint(colour: str, alpha: float) -> str:
    """``colour`` at ``alpha`` over white: what the text shows."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(alpha * c + (1 - alpha) * 255):02x}" for c in rgb)


def _contrast_on_white(colour: str) -> float:
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 1.05 / (0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] + 0.05)


def _closest_pair(colours: dict[str, str]) -> tuple[float, str, str]:
    names = list(colours)
    return min((sum((p - q) ** 2 for p, q in zip(_lab(colours[a]), _lab(colours[b]))) ** 0.5, a, b)
               for i, a in enumerate(names) for b in names[i + 1:])


def test_label_colours_are_readable_and_far_apart() -> None:
    # the region list writes each label in its colour on white: readable, unlike the old pale grey `other`
    assert min(_contrast_on_white(c) for c in ROLE_COLOURS.values()) >= 4.5
    assert min(_contrast_on_white(c) for c in SOURCE_COLOURS.values()) >= 3.0
    # in the text, roles are tinted at Label Studio's 0.3 and mentions at the config's stronger opacity;
    # tinted, every two colours still differ clearly (CIE76 distance; about 2 is barely visible)
    distance, a, b = _closest_pair({r: _tint(c, 0.3) for r, c in ROLE_COLOURS.items()})
    assert distance >= 15, f"roles {a} and {b} look alike in the text"
    distance, a, b = _closest_pair({t: _tint(c, 0.55) for t, c in SOURCE_COLOURS.items()})
    assert distance >= 10, f"source types {a} and {b} look alike in the text"


def test_config_shows_labels_in_the_text_and_keeps_the_label_bar_on_screen() -> None:
    root = ET.fromstring(label_config())
    (text,) = root.iter("Text")
    assert text.get("showLabels") == "true"
    bar = next(v for v in root.iter("View") if any(True for _ in v.iter("Labels")) and v is not root)
    assert "position: sticky" in bar.get("style", "") and len(list(bar.iter("Labels"))) == 2
    style = "".join(s.text or "" for s in root.iter("Style"))
    assert ".lsf-outliner-item__text" in style, "region rows are cut short so their score stays visible"
    for source_type in SOURCE_TYPES:
        assert f'[data-label$=":{source_label(source_type)}"]' in mention_style()
    assert style.count("data-label$=") == len(SOURCE_TYPES)


@pytest.mark.parametrize("edit, expected", [
    (lambda x: x.replace('<Label value="expert" background="#0f766e"/>', ""), "lacks expert"),
    (lambda x: x.replace('value="other_source"', 'value="other"'), 'rename that label to "other_source"'),
    (lambda x: x.replace('value="claim"', 'value="fact"'), "unknown label(s) fact"),
    (lambda x: x.replace('name="source"', 'name="src"'), 'no <Labels name="source">'),
    (lambda x: x.replace('value="$text"', 'value="$body"'), "does not show $text"),
    (lambda x: x.replace("</View>", ""), "not valid XML"),
])
def test_config_problems_name_what_is_wrong(edit, expected) -> None:
    problems = config_problems(edit(label_config()))
    assert any(expected in p for p in problems), problems


# ----------------------------------------------------------------------------- offsets


def test_offsets_count_utf16_units_like_label_studio() -> None:
    text = "a\U0001F4A5b\U0001F600c"
    offsets = OffsetMap(text)
    js = text.encode("utf-16-le")
    for i in range(len(text) + 1):
        j = offsets.to_js(i)
        assert j == len(text[:i].encode("utf-16-le")) // 2
        assert offsets.from_js(j) == i
    assert offsets.from_js(2) == 1  # the middle of a surrogate pair rounds down to the character
    assert len(js) // 2 == offsets.to_js(len(text))
    assert OffsetMap("plain").to_js(3) == 3


# ----------------------------------------------------------------------------- push direction


def test_task_and_prediction_shape() -> None:
    doc = predicted_doc()
    task = document_to_task(doc)
    assert task["data"] == {"text": doc.text, "doc_id": "doc-1", "uncertainty": document_uncertainty(doc)}
    assert task["meta"]["sourcemark"]["doc_meta"] == {"source_file": "a.txt"}, "bulky summary is dropped"
    prediction = task["predictions"][0]
    assert prediction["model_version"] == "tiny-1"
    assert prediction["score"] == pytest.approx(1 - document_uncertainty(doc))
    assert document_uncertainty(doc) == pytest.approx(round(((1 - .8) + (1 - .6) + (1 - .99)) / 3, 4))
    regions = prediction["result"]
    assert [r["from_name"] for r in regions] == ["role", "source", "role", "role"]
    assert all(r["to_name"] == "text" and r["type"] == "labels" and "score" in r for r in regions)
    assert len({r["id"] for r in regions}) == len(regions)
    second = regions[2]["value"]
    assert second["labels"] == ["analysis"]
    assert second["text"] == "It is likely to spread."
    start = doc.passages[1].start
    assert second["start"] == start + 1, "one astral character before it: UTF-16 offset is one more"
    assert document_to_task(doc, prediction=False).get("predictions") is None


def test_source_other_is_other_source_in_label_studio_and_other_in_files() -> None:
    text = "Someone said it rained."
    doc = Document("d", text, passages=[Passage(0, len(text), "attributed_report",
                                                [SourceMention(0, 7, "other")])], model_version="v")
    regions = document_to_result(doc)
    assert [r["value"]["labels"] for r in regions] == [["attributed_report"], ["other_source"]]
    back, _ = result_to_document({"id": 1, "data": {"text": text}}, regions)
    assert [s.type for s in back.passages[0].sources] == ["other"]
    assert [source_type_of(source_label(t)) for t in SOURCE_TYPES] == list(SOURCE_TYPES)
    with pytest.raises(ConversionError, match="unknown source label 'other'"):
        result_to_document({"id": 1, "data": {"text": text}},
                           [regions[0], {**regions[1], "value": {**regions[1]["value"], "labels": ["other"]}}])


def test_prediction_needs_a_model_version() -> None:
    doc = predicted_doc()
    doc.model_version = None
    with pytest.raises(ConversionError):
        document_to_prediction(doc)
    assert "predictions" not in document_to_task(doc)


# ----------------------------------------------------------------------------- pull direction


def test_round_trip_keeps_passages_and_mentions() -> None:
    doc = predicted_doc()
    back, notes = result_to_document(task_for(doc), document_to_result(doc))
    assert notes == []
    assert back.doc_id == doc.doc_id and back.text == doc.text
    assert back.meta == {"source_file": "a.txt"}
    assert [(p.start, p.end, p.label) for p in back.passages] == [(p.start, p.end, p.label) for p in doc.passages]
    assert [(s.start, s.end, s.type) for p in back.passages for s in p.sources] == [(0, 4, "state_media")]
    assert all(p.score is None for p in back.passages), "human documents carry no model scores"


def region(control: str, start: int, end: int, label: str, text: str | None = None) -> dict:
    value = {"start": start, "end": end, "labels": [label]}
    if text is not None:
        value["text"] = text
    return {"id": f"{control}{start}", "from_name": control, "to_name": "text", "type": "labels", "value": value}


TEXT = "Amaq said 3 died.  Troops left. \n"
TASK = {"id": 3, "data": {"text": TEXT, "doc_id": "d3"}}


def test_regions_are_trimmed_sorted_and_mentions_assigned() -> None:
    result = [region("role", 17, len(TEXT), "claim"), region("role", 0, 18, "attributed_report"),
              region("source", 0, 4, "armed_group", "Amaq"),
              {"id": "x", "from_name": "notes", "to_name": "text", "type": "textarea", "value": {"text": ["hi"]}}]
    doc, _ = result_to_document(TASK, result)
    assert [(p.start, p.end, p.label) for p in doc.passages] == [(0, 17, "attributed_report"), (19, 31, "claim")]
    assert [(s.start, s.end, s.type) for s in doc.passages[0].sources] == [(0, 4, "armed_group")]


def test_drifted_offsets_are_reanchored_on_the_quoted_text() -> None:
    result = [region("role", 0, 17, "attributed_report"), region("source", 1, 5, "armed_group", "Amaq")]
    doc, notes = result_to_document(TASK, result)
    assert (doc.passages[0].sources[0].start, doc.passages[0].sources[0].end) == (0, 4)
    assert notes and "moved" in notes[0]


@pytest.mark.parametrize("result, message", [
    ([region("role", 0, 17, "claim"), region("role", 10, 31, "claim")], "overlaps"),
    ([region("role", 0, 17, "claim"), region("role", 0, 17, "analysis")], "same span"),
    ([region("role", 0, 4, "claim"), region("source", 19, 25, "official")], "lies in no passage"),
    ([region("role", 0, 17, "fact")], "unknown role label"),
    ([region("source", 0, 4, "armed_group")], r"no passage \(role\) regions"),
    ([region("role", 0, 999, "claim")], "outside the text"),
    ([region("role", 0, 4, "claim", "Nope")], "not in the document"),
])
def test_invalid_annotations_are_rejected_with_a_reason(result, message) -> None:
    with pytest.raises(ConversionError, match=message):
        result_to_document(TASK, result)


def test_doc_id_falls_back_to_the_task_id() -> None:
    assert task_doc_id({"id": 5, "data": {"text": "x"}}) == "ls-task-5"


def test_annotation_choice_ground_truth_first_then_latest() -> None:
    a = {"id": 1, "result": [], "updated_at": "2026-01-02T00:00:00Z"}
    b = {"id": 2, "result": [], "updated_at": "2026-01-03T00:00:00Z"}
    gt = {"id": 3, "result": [], "updated_at": "2026-01-01T00:00:00Z", "ground_truth": True}
    skipped = {"id": 4, "result": [], "updated_at": "2026-01-09T00:00:00Z", "was_cancelled": True}
    assert submitted([a, b, gt, skipped]) == [a, b, gt]
    assert choose_annotation([a, b])["id"] == 2
    assert choose_annotation([a, b, gt])["id"] == 3


def test_convert_task_reports_resolution_diff_and_rejections() -> None:
    doc = predicted_doc()
    prediction = {"id": 11, "model_version": "tiny-1", "created_at": "2026-01-01", **document_to_prediction(doc)}
    human = document_to_result(doc)
    human[0]["value"]["labels"] = ["claim"]             # relabel passage 1
    del human[1]                                         # delete the SANA mention
    idlib = doc.text.index("Idlib")
    human.append(region("source", idlib + 1, idlib + 6, "official", "Idlib"))  # add one (UTF-16 offsets: +1)
    task = {**task_for(doc), "predictions": [prediction], "annotations": [
        {"id": 1, "result": human, "updated_at": "2026-01-03", "completed_by": {"email": "a@x"}},
        {"id": 2, "result": [], "updated_at": "2026-01-02"},
        {"id": 3, "result": [], "was_cancelled": True, "updated_at": "2026-01-05"},
    ]}
    report = PullReport(project_id=9)
    out = convert_task(task, 9, "tiny-1", report)
    assert out is not None and out.passages[0].label == "claim"
    assert out.meta["labelstudio"]["annotation"] == 1 and out.meta["labelstudio"]["annotator"] == "a@x"
    assert out.meta["labelstudio"]["corrected_model_version"] == "tiny-1"
    assert len(report.resolved) == 1 and "2 annotations" in report.resolved[0]
    diff = report.diff
    assert diff.roles["attributed_report"]["relabelled"] == 1
    assert diff.role_changes[("attributed_report", "claim")] == 1
    assert diff.roles["analysis"]["kept"] == 1
    assert diff.sources["state_media"]["deleted"] == 1
    assert diff.sources["official"]["added"] == 1
    assert any("relabels" in line for line in diff.lines())

    bad = {**task_for(doc), "annotations": [{"id": 5, "result": [region("role", 0, 4, "nope")]}]}
    assert convert_task(bad, 9, None, report) is None and "nope" in report.rejected[0]
    assert convert_task({**task_for(doc), "annotations": []}, 9, None, report) is None
    assert report.unannotated == 1


def test_diff_matches_resized_regions_by_overlap() -> None:
    text = "One two three four five six."
    pred = Document("d", text, passages=[Passage(0, 13, "claim"), Passage(14, 28, "other")])
    human = Document("d", text, passages=[Passage(0, 9, "claim"), Passage(14, 28, "analysis")])
    summary = DiffSummary()
    summary.add(pred, human)
    assert summary.roles["claim"]["resized"] == 1 and summary.roles["claim"]["kept"] == 0
    assert summary.roles["other"]["relabelled"] == 1
    assert summary.totals()["roles"]["deleted"] == 0
    assert summary.to_dict()["role_changes"] == {"other -> analysis": 1}


# ----------------------------------------------------------------------------- project instructions and tab


def test_instructions_carry_the_guides_definitions(tmp_path, monkeypatch) -> None:
    from html import escape

    from sourcemark.annotation.instructions import GUIDE_PATH, SOURCE_SECTION, guide_table, instructions_html
    from sourcemark.labels import ROLE_DESCRIPTIONS

    _, sources = guide_table(GUIDE_PATH.read_text(encoding="utf-8"), SOURCE_SECTION)
    assert list(sources) == list(SOURCE_TYPES), "the guide's source table has every type, in order"
    monkeypatch.setenv("SOURCEMARK_GUIDE_URL", "https://wiki.example/guide")
    html = instructions_html()
    assert 'href="https://wiki.example/guide"' in html and "Order by Score" in html
    assert escape(sources["state_media"][0], quote=False) in html
    assert "The passage conveys what a source said" in html  # the guide's role definition, not the short hint
    for label in list(ROLES) + [source_label(t) for t in SOURCE_TYPES]:
        assert f"<b>{label}</b>" in html

    bare = instructions_html(tmp_path / "missing.md")  # an installed wheel has no docs/
    assert escape(ROLE_DESCRIPTIONS["claim"], quote=False) in bare and "<b>other_source</b>" in bare


def test_uncertain_first_tab_sorts_by_prediction_score_and_shows_uncertainty_as_a_number() -> None:
    from sourcemark.annotation.views import uncertain_first_view

    data = uncertain_first_view(4)["data"]
    assert data["ordering"] == ["tasks:predictions_score"], "ascending: the least confident prediction first"
    assert data["columnsDisplayType"] == {"tasks:data.uncertainty": "Number"}
    hidden = data["hiddenColumns"]
    assert "tasks:data" in hidden["explore"] and "tasks:data.uncertainty" not in hidden["explore"]
    assert "tasks:predictions_score" not in hidden["explore"] + hidden["labeling"]
