"""Types that a mention's own words settle under the guide's type table, whatever the tagger or registry say."""

from __future__ import annotations

import pytest

from sourcemark.model.type_cues import stated_type


@pytest.mark.parametrize("span, expected", [
    ("Pro-Assad regime state media", "state_media"),
    ("the state-run news agency", "state_media"),
    ("Iran's state television", "state_media"),
    ("regime media", "state_media"),
    ("The main Syrian opposition group", "official"),
    ("leading opposition figure George Sabra", "official"),
    ("the opposition's negotiators", "official"),
    ("the opposition Syrian National Coalition's president", "official"),  # capitalised name words between
    ("Syria's opposition", "official"),
    ("the president's deputy John Smith", "official"),  # guide rule 14: envoys, diplomats, office holders
    ("his French counterpart Laurent Fabius", "official"),
    ("the UN envoy", "official"),
])
def test_phrases_that_settle_a_type(span: str, expected: str) -> None:
    assert stated_type(span) == expected


@pytest.mark.parametrize("span", [
    "the opposition",  # typed by what the sentence has it do: fighters or politicians
    "the opposition says its group",  # lower-case words are not a name between "opposition" and a head
    "opposition fighters",
    "an opposition media activist",
    "pro-opposition Telegram channels",
    "Opposition activists",
    "HTS's official media channels on Telegram",  # a group's own channel, not state media
    "the defence ministry",
    "a senior rebel envoy",  # a rebel office: armed_group (rule 14)
    "the agency's deputy country director",  # a UN agency's staff: humanitarian_org
    "the governor's Facebook page",  # the medium is marked
    "Reuters",
])
def test_phrases_that_settle_nothing(span: str) -> None:
    assert stated_type(span) is None
