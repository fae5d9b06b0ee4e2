"""Segmentation: exact offsets, no overlaps, comment sections found, quotations kept whole."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from sourcemark.cli import app
from sourcemark.documents import Document, Passage
from sourcemark.jsonl import read_documents
from sourcemark.readers import read_inputs
from sourcemark.segmentation import _PYSBD_WINDOW, _windows, mark_sections, segment_text


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
    bad.write_bytes(b"\x00\x01\x02\x89PNG\x00\x00")
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


# ---------------------------------------------------------------------------------------------
# Run-on text (guide rules 3a.10-12): made-up articles that lost their line breaks and commas
# ---------------------------------------------------------------------------------------------

#: Filler sentences that make a line long enough to count as run-on text (whole articles on one line).
FILL = (" The convoy moved north on Monday. Aid workers counted the tents in the camp."
        " Medics treated the wounded at a field clinic. Shops in the old market stayed shut."
        " Trucks queued at the crossing for a second day. Teachers reopened two schools in the north.")


def _pieces(text: str, meta: dict | None = None) -> list[str]:
    passages = segment_text(text, meta)
    _check_offsets(text, passages)
    return [text[p.start : p.end] for p in passages]


def _starts_with(text: str, expected: list[str], meta: dict | None = None) -> None:
    pieces = _pieces(text, meta)
    assert pieces[: len(expected)] == expected, pieces


def _ends_with(text: str, expected: list[str]) -> None:
    pieces = _pieces(text)
    assert pieces[-len(expected):] == expected, pieces


def test_leading_date_glued_to_the_headline_is_its_own_passage() -> None:
    _starts_with("Tue 05 Jul 2016 Rebels Retake Hill Near Harem. Rebels retook the hill on Tuesday." + FILL,
                 ["Tue 05 Jul 2016", "Rebels Retake Hill Near Harem.", "Rebels retook the hill on Tuesday."])
    _starts_with("Wednesday 9 Jul 2014 10:13 Shelling Hits Market. Shells hit the market in the morning." + FILL,
                 ["Wednesday 9 Jul 2014 10:13", "Shelling Hits Market."])
    _starts_with("Published March 3 2016 The convoy reached the bridge at dawn." + FILL,
                 ["Published March 3 2016", "The convoy reached the bridge at dawn."])
    _starts_with("14-05-2016 Bridge Reopens After Repairs. Engineers finished the work on Friday." + FILL,
                 ["14-05-2016", "Bridge Reopens After Repairs."])


def test_byline_glued_to_the_first_sentence_is_its_own_passage() -> None:
    _starts_with("Last Updated: 05 Jul 2016 By Jane Roe The army said it had taken the hill." + FILL,
                 ["Last Updated: 05 Jul 2016", "By Jane Roe", "The army said it had taken the hill."])
    _starts_with("Published 3 Jul 2016 By Monday the army had left the town." + FILL,
                 ["Published 3 Jul 2016", "By Monday the army had left the town."])


def test_a_date_inside_a_sentence_stays_in_it() -> None:
    text = "The ceasefire took hold on Friday 21 November 2014 across the north." + FILL
    assert _pieces(text)[0] == "The ceasefire took hold on Friday 21 November 2014 across the north."


def test_share_buttons_are_one_passage_each() -> None:
    """Menu and button rows: one item a passage (rule 3a.11)."""
    _starts_with("Barrel bombs hit Aleppo NGO AFP Monday 16 Jun 2014 Print Tweet Syrian helicopters on Monday dropped "
                 "barrel bombs on an opposition district." + FILL,
                 ["Barrel bombs hit Aleppo NGO", "AFP", "Monday 16 Jun 2014", "Print", "Tweet",
                  "Syrian helicopters on Monday dropped barrel bombs on an opposition district."])


def test_share_widgets_and_counters_are_passages() -> None:
    _starts_with("12.03.2016(updated 1502 12.03.2016) Get short URL 0 12 Fighters seized the ridge on Saturday." + FILL,
                 ["12.03.2016(updated 1502 12.03.2016)", "Get short URL", "0 12",
                  "Fighters seized the ridge on Saturday."])


def test_known_headline_without_final_punctuation_is_cut_from_the_first_sentence() -> None:
    meta = {"title": "Rebels seize ridge near Harem - Region - World - Example Online"}
    _starts_with("Rebels seize ridge near Harem AFP Monday 3 Jul 2016 Fighters seized the ridge on Monday." + FILL,
                 ["Rebels seize ridge near Harem", "AFP", "Monday 3 Jul 2016", "Fighters seized the ridge on Monday."],
                 meta)
    # a title field that lost the headline's last word keeps it in the headline
    meta = {"title": "Rebels seize ridge near"}
    _starts_with("Rebels seize ridge near Harem AFP Monday 3 Jul 2016 Fighters seized the ridge on Monday." + FILL,
                 ["Rebels seize ridge near Harem", "AFP", "Monday 3 Jul 2016"], meta)


def test_datelines_are_their_own_passages() -> None:
    """Rule 3a.10, in run-on and in ordinary text."""
    assert _pieces("BEIRUT (Reuters) - Fighters seized a ridge near the border on Monday, a monitor said.") == [
        "BEIRUT (Reuters) -", "Fighters seized a ridge near the border on Monday, a monitor said."]
    assert _pieces("NNA - The army said it had reopened the coastal road after two days.")[0] == "NNA -"
    assert _pieces("DAMASCUS SANA - Army units restored calm to several villages.")[0] == "DAMASCUS SANA -"
    assert _pieces("Aleppo (SANA) - Army units restored calm to several villages.")[0] == "Aleppo (SANA) -"
    assert _pieces("Moscow. March 3. /TASS/. The ministry said the convoy had reached the city.") == [
        "Moscow. March 3. /TASS/.", "The ministry said the convoy had reached the city."]
    # a page heading with a dash is no dateline
    assert _pieces("VALLEY REVIEW — News in depth") == ["VALLEY REVIEW — News in depth"]
    # a place in capitals opening the body of a run-on article, or after a caption's photo note
    note = " Smoke rose over the port (AFP photo) ALEPPO Twelve people died on Sunday."
    assert "ALEPPO" in _pieces(FILL.strip() + note)
    _starts_with("Last updated at Jul 012016 BEIRUT At least ten fighters were killed on Sunday." + FILL,
                 ["Last updated at Jul 012016", "BEIRUT", "At least ten fighters were killed on Sunday."])
    # a wire city in capitals whatever words open the sentence; "A" opens one too
    _starts_with("Last updated at Jul 012016 DAMASCUS Syrian and Russian jets struck the town on Sunday." + FILL,
                 ["Last updated at Jul 012016", "DAMASCUS", "Syrian and Russian jets struck the town on Sunday."])
    _starts_with("Last updated at Jul 012016 BEIRUT A rocket killed ten fighters on Sunday." + FILL,
                 ["Last updated at Jul 012016", "BEIRUT", "A rocket killed ten fighters on Sunday."])
    # an acronym in capitals before a headline is no dateline
    assert "NATO" not in _pieces("Last updated at Jul 012016 NATO Chief Visits Ankara The visit was announced "
                                 "on Sunday." + FILL)
    # a date without its comma (commas lost), and an agency's dash glued to the first word
    assert _pieces("MOSCOW October 1 (RIA Novosti) - A double attack in Homs killed 18 civilians on Sunday.")[0] == (
        "MOSCOW October 1 (RIA Novosti) -")
    assert _pieces("SANA-One civilian was killed while 16 others were injured in the attacks.")[0] == "SANA-"
    pieces = _pieces("8 killed in rocket attacks on Aleppo city 6 October 2016 Aleppo SANA-Terrorist groups fired "
                     "shells on the neighbourhoods." + FILL)
    assert pieces[1:3] == ["Aleppo SANA-", "Terrorist groups fired shells on the neighbourhoods."]


def test_credit_lines_at_the_end_are_passages() -> None:
    """Rule 3a.12."""
    end = " The talks will resume next week."
    _ends_with(FILL.strip() + end + " - REUTERS", ["The talks will resume next week.", "- REUTERS"])
    _ends_with(FILL.strip() + end + " (Levant Daily and Agencies)",
               ["The talks will resume next week.", "(Levant Daily and Agencies)"])
    _ends_with(FILL.strip() + end + " Source Levant Daily Related News",
               ["The talks will resume next week.", "Source Levant Daily", "Related News"])
    _ends_with(FILL.strip() + end + " (Reporting by Jane Roe; Editing by John Doe)",
               ["The talks will resume next week.", "(Reporting by Jane Roe; Editing by John Doe)"])
    _ends_with(FILL.strip() + end + " H.Kareem/ Nasser /M. al-Hadi/H. Said",
               ["The talks will resume next week.", "H.Kareem/ Nasser /M. al-Hadi/H. Said"])


def test_tag_list_runs_into_the_first_sentence() -> None:
    _starts_with("Tags Syria Idlib ceasefire talks The talks resumed on Monday in Geneva." + FILL,
                 ["Tags Syria Idlib ceasefire talks", "The talks resumed on Monday in Geneva."])
    _starts_with("Tags Idlib Aleppo Hama Anti-government activists say the market was hit." + FILL,
                 ["Tags Idlib Aleppo Hama", "Anti-government activists say the market was hit."])


def test_headings_and_openers_glued_to_the_words_before_them() -> None:
    """Rule 3a.11: a place-name section heading, and a sentence whose full stop was lost."""
    _ends_with(FILL.strip() + " Hama An army unit destroyed two vehicles. Homs Meanwhile clashes went on in the east.",
               ["Hama", "An army unit destroyed two vehicles.", "Homs", "Meanwhile clashes went on in the east."])
    _ends_with(FILL.strip() + " Two people were wounded in the old city According to a source the shells came north.",
               ["Two people were wounded in the old city", "According to a source the shells came north."])
    # no cut where the capital belongs to a name or to a headline's title case
    _ends_with(FILL.strip() + " A resident told The Daily Courier that the road was closed.",
               ["A resident told The Daily Courier that the road was closed."])
    _ends_with(FILL.strip() + " Related Rebel Commanders Deny Killing Dozens of Civilians",
               ["Related", "Rebel Commanders Deny Killing Dozens of Civilians"])


def test_related_headlines_without_line_breaks_are_one_passage_each() -> None:
    """Rules 3a.11-12: related-article links after "Related" are one passage per headline, in title case or not."""
    _ends_with(FILL.strip() + " Related Rebels Retake Hill Near Harem After Long Battle (VIDEO)"
               " Army Opens Coastal Road to Aid Trucks - Reports Tags Harem convoy",
               ["Related", "Rebels Retake Hill Near Harem After Long Battle (VIDEO)",
                "Army Opens Coastal Road to Aid Trucks - Reports", "Tags Harem convoy"])
    _starts_with("Related Coverage Relief convoy reaches besieged town in the north"
                 " Talks on prisoner swap stall again in the capital The council met on Monday to discuss it." + FILL,
                 ["Related Coverage", "Relief convoy reaches besieged town in the north",
                  "Talks on prisoner swap stall again in the capital", "The council met on Monday to discuss it."])
    # a headline never ends on a preposition or an article, and a short list stays whole
    _ends_with(FILL.strip() + " Related Families return to the farms of Harem after the long winter in the hills",
               ["Related", "Families return to the farms of Harem after the long winter in the hills"])


def test_a_headline_the_title_field_cut_short_keeps_its_last_words() -> None:
    """The title field lost the headline's credit ("... state TV"): the words before the first sentence's
    opener still belong to the headline: a credit ending a headline stays in it (rule 3a.13)."""
    meta = {"title": "Market fire kills four in Harem state"}
    _starts_with("Market fire kills four in Harem state TV A fire killed four people in the market on Monday." + FILL,
                 ["Market fire kills four in Harem state TV", "A fire killed four people in the market on Monday."],
                 meta)
    # a wire agency after the headline is a credit line of its own, not a lost word
    meta = {"title": "Market fire kills four in Harem"}
    _starts_with("Market fire kills four in Harem AFP A fire killed four people in the market on Monday." + FILL,
                 ["Market fire kills four in Harem", "AFP"], meta)


def test_title_case_headings_and_date_lines_on_their_own_line_stay_whole() -> None:
    text = "Five Years After the Fires, the Town Is Still Waiting\n4 November 2021 | 14 min read\nThe town waits."
    assert _pieces(text) == ["Five Years After the Fires, the Town Is Still Waiting", "4 November 2021 | 14 min read",
                             "The town waits."]


def test_navigation_footer_one_item_a_passage() -> None:
    _ends_with(FILL.strip() + " Like Follow Watch Live TV Schedule Contact Us Terms of Use Privacy Policy",
               ["Like", "Follow", "Watch Live", "TV Schedule", "Contact Us", "Terms of Use", "Privacy Policy"])


def test_a_broadcaster_footer_with_two_word_items_is_one_item_a_passage() -> None:
    _ends_with(FILL.strip() + " Watch Live TV Schedule Connect with TRT World iOS Android Youtube Satellite Coverage"
               " Partner Hotels Corporate Careers",
               ["iOS", "Android", "Youtube", "Satellite Coverage", "Partner Hotels", "Corporate", "Careers"])


def test_update_lines_with_time_zones_and_share_counters_are_passages_of_their_own() -> None:
    _ends_with(FILL.strip() + " Last Update: Saturday 7 October 2017 KSA 16:06 - GMT 13:06 3885",
               ["Last Update: Saturday 7 October 2017 KSA 16:06 - GMT 13:06", "3885"])
    _starts_with("August 13 2016 2037 UTC+3 Kurdish forces took the town on Saturday after a week of fighting." + FILL,
                 ["August 13 2016 2037 UTC+3", "Kurdish forces took the town on Saturday after a week of fighting."])


def test_photo_credit_and_teaser_headline() -> None:
    _ends_with(FILL.strip() + " REUTERS Jane Doe Rebels Capture Airport in Northern Syria After Long Siege"
               " The army denied the report on Monday.",
               ["REUTERS Jane Doe", "Rebels Capture Airport in Northern Syria After Long Siege",
                "The army denied the report on Monday."])


def test_a_credit_at_the_end_of_a_caption_stays_in_the_caption() -> None:
    """Rule 3a.9."""
    assert _pieces("Smoke rises over the old city on Monday. REUTERS/Jane Doe Rescue teams searched the rubble.") == [
        "Smoke rises over the old city on Monday. REUTERS/Jane Doe", "Rescue teams searched the rubble."]
    assert _pieces("Families wait at the crossing. Photograph: Handout/Reuters") == [
        "Families wait at the crossing. Photograph: Handout/Reuters"]
    assert _pieces("Families wait at the crossing on Sunday. (AFP Photo)") == [
        "Families wait at the crossing on Sunday. (AFP Photo)"]


# ---------------------------------------------------------------------------------------------
# Quotations (rule 3a.4)
# ---------------------------------------------------------------------------------------------


def test_a_long_quotation_is_one_passage_a_sentence() -> None:
    """Only the sentence next to the attribution joins it."""
    assert _pieces('"We lost everything. The house is gone. Nothing is left" she told reporters on Sunday.') == [
        '"We lost everything.', 'The house is gone. Nothing is left" she told reporters on Sunday.']
    assert _pieces('"Stay inside. Keep the windows shut." The sirens went off again at noon.') == [
        '"Stay inside.', 'Keep the windows shut."', "The sirens went off again at noon."]


def test_a_quotation_inside_a_sentence_or_signed_after_it_stays_whole() -> None:
    text = 'The agency reported that "the strikes hit two villages. Dozens were wounded." The talks resume.'
    assert _pieces(text) == [
        'The agency reported that "the strikes hit two villages. Dozens were wounded."', "The talks resume."]
    assert _pieces("“Nobody came. We dug them out ourselves.” — a volunteer in the town") == [
        "“Nobody came. We dug them out ourselves.” — a volunteer in the town"]


def test_a_quotation_that_lost_its_comma_runs_into_its_attribution() -> None:
    assert _pieces('"The road is closed" the governor said on Monday. Traffic was diverted.') == [
        '"The road is closed" the governor said on Monday.', "Traffic was diverted."]


def test_stray_quotation_marks_do_not_glue_sentences() -> None:
    """pysbd keeps what it takes for a quotation whole; a lost closing mark must not make one of a paragraph."""
    text = ('He said the deal would hold until the end... there is no other option". Talks begin on Monday. '
            'Aid will follow. Officials said the town would be "rebuilt" by the end of the year.')
    assert _pieces(text) == [
        'He said the deal would hold until the end... there is no other option".', "Talks begin on Monday.",
        "Aid will follow.", 'Officials said the town would be "rebuilt" by the end of the year.']


# ---------------------------------------------------------------------------------------------
# Comment sections without a heading
# ---------------------------------------------------------------------------------------------

BODY = "Rebels took the ridge on Monday. The army said it would respond. Residents fled north.\n" * 4


def _comment_lines(text: str) -> list[str]:
    return [text[p.start : p.end] for p in segment_text(text) if p.section == "comments"]


def test_numbered_comments_are_a_comment_section() -> None:
    text = BODY + "1. Abu Karim 7:50 PM\nThey will not hold it for long.\n2. Rania S. 8:02 PM\nRead it again.\n"
    assert _comment_lines(text) == ["1. Abu Karim 7:50 PM", "They will not hold it for long.",
                                    "2. Rania S. 8:02 PM", "Read it again."]


def test_blogger_comments_are_a_comment_section() -> None:
    text = (BODY + "Anonymous said...\nThe town changed hands again.\nMarch 3, 2016 at 7:50 PM\n"
            "Samir H. said...\nThank you for the update.\nMarch 3, 2016 at 8:15 PM\n")
    assert _comment_lines(text)[:2] == ["Anonymous said...", "The town changed hands again."]


def test_a_plain_comment_list_is_a_comment_section() -> None:
    text = (BODY + "Omar K.\nMarch 3, 2016 at 7:50 pm\nNobody believes these numbers.\n"
            "Layla\nMarch 4, 2016 at 9:12 am\nWhere did the convoy go?\n")
    assert _comment_lines(text)[:3] == ["Omar K.", "March 3, 2016 at 7:50 pm", "Nobody believes these numbers."]


def test_time_stamps_in_an_article_are_no_comment_section() -> None:
    live = BODY + "10:15 AM\nShelling resumed in the east.\n10:45 AM\nThe convoy left.\nMarch 3, 2016\nIt rained.\n"
    assert _comment_lines(live) == []
    one = BODY + "1. Abu Karim 7:50 PM\nThey will not hold it for long.\n"
    assert _comment_lines(one) == []


# ---------------------------------------------------------------------------------------------
# mark_sections and cost
# ---------------------------------------------------------------------------------------------


def test_mark_sections_returns_a_copy() -> None:
    text = BODY + "3 Comments\nI do not believe it.\n"
    body_end = len(BODY.rstrip())
    doc = Document("d", text, {}, [Passage(0, body_end, "claim"),
                                   Passage(text.index("I do"), len(text.rstrip()), "reader_comment")])
    marked = mark_sections(doc)
    assert [p.section for p in marked.passages] == ["body", "comments"]
    assert all(p.section is None for p in doc.passages)  # the caller's document is unchanged
    marked.passages[0].label = "analysis"
    assert doc.passages[0].label == "claim"


def test_long_lines_go_to_pysbd_in_bounded_windows() -> None:
    """pysbd's time grows with the square of its input: a long line is split at sure sentence ends first."""
    text = "Fighters shelled the northern villages again. " * 2000
    windows = list(_windows(text, 0, len(text)))
    assert windows[0][0] == 0 and windows[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))
    assert max(e - s for s, e in windows) <= 2 * _PYSBD_WINDOW
    passages = segment_text(text)
    assert len(passages) == 2000
    assert all(text[p.start : p.end] == "Fighters shelled the northern villages again." for p in passages)


def test_comment_headings_with_a_count_or_a_sort_arrow_open_the_section() -> None:
    """"Reader comments (7)" and a Facebook plugin's "Most relevant ▾" bar are headings like "Comments (4)"."""
    for heading in ("Reader comments (7)", "Most relevant ▾"):
        text = BODY + f"{heading}\nFaisal, Sharjah\nNobody believes these numbers.\n"
        assert _comment_lines(text) == [heading, "Faisal, Sharjah", "Nobody believes these numbers."], heading
