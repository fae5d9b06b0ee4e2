"""One source, one type in a document (guide rules 7 and 14): later mentions follow their antecedent."""

from __future__ import annotations

from sourcemark.documents import Document, Passage, SourceMention
from sourcemark.model.coreference import harmonise_types


def _doc(sentences: list[tuple[str, list[tuple[str, str]]]]) -> Document:
    """A document from (sentence, [(mention text, type)]) pairs, one passage per sentence."""
    text, passages = "", []
    for sentence, mentions in sentences:
        start = len(text)
        text += sentence + " "
        sources = []
        for phrase, kind in mentions:
            at = start + sentence.index(phrase)
            sources.append(SourceMention(at, at + len(phrase), kind))
        passages.append(Passage(start, start + len(sentence), "attributed_report", sources))
    return Document("d", text, {}, passages)


def _types(doc: Document) -> list[tuple[str, str]]:
    return [(doc.text[m.start:m.end], m.type) for p in doc.passages for m in p.sources]


def test_pronouns_surnames_and_generic_phrases_take_the_type_of_the_first_mention() -> None:
    doc = harmonise_types(_doc([
        ("Army spokesman Colonel Omar Haddad said the road was cut.", [("Army spokesman Colonel Omar Haddad", "official")]),
        ("Haddad added that reinforcements were on the way.", [("Haddad", "armed_group")]),
        ("He said the town would be retaken.", [("He", "expert")]),
        ("The spokesman gave no figures.", [("The spokesman", "local_source")]),
    ]))
    assert [t for _, t in _types(doc)] == ["official"] * 4
    later = doc.passages[3].sources[0]
    assert later.extra["type_from"] == doc.passages[2].sources[0].start  # the chain follows the nearest


def test_he_skips_the_outlet_a_speaker_talked_to() -> None:
    doc = harmonise_types(_doc([
        ("A local activist told Reuters the shelling went on all night.",
         [("A local activist", "local_source"), ("Reuters", "news_media")]),
        ("He said two clinics were hit.", [("He", "official")]),
    ]))
    assert _types(doc)[-1] == ("He", "local_source")


def test_it_refers_to_the_previous_sentence_only() -> None:
    near = harmonise_types(_doc([
        ("The health ministry said 31 people were hurt.", [("The health ministry", "official")]),
        ("It said most were children.", [("It", "monitor_group")]),
    ]))
    assert _types(near)[-1] == ("It", "official")
    far = harmonise_types(_doc([
        ("The health ministry said 31 people were hurt.", [("The health ministry", "official")]),
        ("The roads were closed.", []),
        ("It said most were children.", [("It", "monitor_group")]),
    ]))
    assert _types(far)[-1] == ("It", "monitor_group")  # too far back: the tagger's type stays


def test_phrases_that_say_their_kind_and_unnamed_mentions_keep_their_type() -> None:
    doc = harmonise_types(_doc([
        ("Residents said the market was shelled.", [("Residents", "local_source")]),
        ("The rights group counted nine dead.", [("The rights group", "monitor_group")]),
        ("It was also said that a school burned.", [("It", "unnamed")]),
    ]))
    assert _types(doc)[1:] == [("The rights group", "monitor_group"), ("It", "unnamed")]


def test_a_name_matches_only_the_end_of_an_earlier_name() -> None:
    doc = harmonise_types(_doc([
        ("A teacher in Suwayda said the school closed.", [("A teacher in Suwayda", "local_source")]),
        ("Suwayda 24 reported three arrests.", [("Suwayda", "news_media")]),
    ]))
    assert _types(doc)[-1] == ("Suwayda", "news_media")


def test_a_known_outlet_keeps_the_registry_type() -> None:
    doc = _doc([
        ("A rebel commander said the base fell.", [("A rebel commander", "armed_group")]),
        ("The agency said the base fell.", [("The agency", "state_media")]),
    ])
    doc.passages[1].sources[0].extra["registry_id"] = "sana"
    harmonise_types(doc)
    assert _types(doc)[-1] == ("The agency", "state_media")


def test_a_surname_finds_the_full_name_inside_a_longer_first_mention() -> None:
    doc = harmonise_types(_doc([
        ("Andrew Tabler, a senior fellow at the Washington Institute, said Raqqa would fall.",
         [("Andrew Tabler, a senior fellow at the Washington Institute", "expert")]),
        ("The offensive stalled in June.", []),
        ("Tabler said the forces were spread too thin.", [("Tabler", "monitor_group")]),
    ]))
    assert _types(doc)[-1] == ("Tabler", "expert")
    # a capitalised word after the surname makes it another name ("Tabler Institute" is not Tabler)
    other = harmonise_types(_doc([
        ("Staff of the Tabler Institute said the road was shut.", [("Staff of the Tabler Institute", "expert")]),
        ("Tabler said it was open.", [("Tabler", "official")]),
    ]))
    assert _types(other)[-1] == ("Tabler", "official")
