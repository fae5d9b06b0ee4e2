"""The source registry: aliases, case rules, type correction inside predicted mentions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sourcemark.labels import SOURCE_TYPES
from sourcemark.model.registry import REGISTRY_PATH, SourceRegistry, default_registry


def _ids(registry: SourceRegistry, text: str) -> list[tuple[str, str]]:
    return [(m.entry.id, text[m.start : m.end]) for m in registry.find(text)]


def test_every_entry_has_a_guide_type_and_unique_id() -> None:
    registry = default_registry()
    assert len({e.id for e in registry.entries}) == len(registry.entries)
    assert all(e.type in SOURCE_TYPES and e.aliases for e in registry.entries)


def test_outlets_are_typed_by_who_controls_them() -> None:
    """Guide section 3: state-run, private and armed-group outlets differ in type even when they look alike."""
    registry = default_registry()
    expected = {"Sudan TV": "state_media", "Sham FM": "news_media", "Al-Masirah": "armed_group",
                "Syrian TV": "state_media", "Syria TV": "news_media", "Rybar": "telegram_channel",
                "Kataib Hezbollah": "armed_group", "CENTCOM": "official", "Emergency Lawyers": "monitor_group"}
    assert {name: registry.lookup(name).type for name in expected} == expected


def test_transliterations_and_abbreviations_find_the_same_entry() -> None:
    registry = default_registry()
    for text in ("Hay’at Tahrir al Sham said", "Hayat Tahrir al-Sham said", "HTS said"):
        assert [i for i, _ in _ids(registry, text)] == ["hts"], text
    assert _ids(registry, "IS claimed the attack") == [("islamic-state", "IS")]
    assert _ids(registry, "the Syrian Observatory for Human Rights") == [("sohr", "Syrian Observatory for Human Rights")]


def test_short_capital_aliases_match_only_in_capitals() -> None:
    registry = default_registry()
    assert _ids(registry, "Is it true? It is, who knows") == []
    assert _ids(registry, "The WHO said") == [("who", "WHO")]
    assert _ids(registry, "the IS-held town") == []  # part of a hyphenated word


def test_the_longest_alias_in_a_span_wins() -> None:
    match = default_registry().best_match("a statement by the Amaq News Agency")
    assert match is not None and match.entry.id == "amaq"
    assert "Amaq News Agency" == "a statement by the Amaq News Agency"[match.start : match.end]


@pytest.mark.parametrize("span, expected", [
    ("the National Front for Liberation’s Telegram channel", "telegram_channel"),  # the medium, not its owner
    ("CENTCOM’s X account", "social_media"),
    ("Amaq", "armed_group"),  # an armed group's outlet whatever platform carries it
    ("the Amaq News Agency", "armed_group"),
    ("a local resident", None),
])
def test_a_named_platform_decides_the_type_over_its_owner(span: str, expected: str | None) -> None:
    known = default_registry().identify(span)
    assert (known[1] if known else None) == expected


@pytest.mark.parametrize("entry, error", [
    ({"id": "x", "type": "blog", "aliases": ["X Blog"]}, "unknown type 'blog'"),
    # a shared alias would silently resolve to whichever entry came first
    ({"id": "sana-copy", "type": "news_media", "aliases": ["Sana"]}, "'sana' and 'sana-copy' share the alias 'Sana'"),
])
def test_a_bad_entry_is_refused(tmp_path: Path, entry: dict, error: str) -> None:
    data = json.loads(REGISTRY_PATH.read_text(encoding="utf-8"))
    data["sources"].append(entry)
    bad = tmp_path / "registry.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        SourceRegistry.load(bad)


def test_regional_state_agencies_and_intergovernmental_bodies() -> None:
    """Guide section 3 and rule 14: a government's news agency is state media; the Arab League, the Security
    Council and a national army are official."""
    registry = default_registry()
    expected = {"NNA": "state_media", "Kuwait News Agency": "state_media", "Arab League": "official",
                "U.N. Security Council": "official", "Syrian army": "official", "NATO": "official"}
    assert {name: registry.lookup(name).type for name in expected} == expected
    assert _ids(registry, "An NNA correspondent reported shelling") == [("nna-lebanon", "NNA")]
