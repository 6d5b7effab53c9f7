"""Rule-based entities: precise types, merged mentions, first-appearance order."""

from __future__ import annotations

import random
import time

import pytest

from eightflow.embedded import extract_entities
from eightflow.embedded.entities import ENTITY_TYPES

PARAGRAPH = """Yesterday Dr. Jane Smith, chief scientist at Acme Corp., met Tim Cook in Paris.
However, the meeting was short. Smith said Acme expects revenue of $1,200.50 per unit and
USD 4.5 million overall, up 15% since 2023. The World Health Organization (WHO) published
new guidance on March 1, 2024, and WHO officials will review it on 2024-06-30.
This was welcome news at Stanford University and the Bank of England.
According to analysts, Acme will open an office in Berlin by 2030. Contact
jane.smith@acme-corp.com or visit https://www.acme-corp.com/press for details."""


def _entities(text: str) -> dict[str, dict[str, object]]:
    return {e["text"]: e for e in extract_entities(text)["entities"]}


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("Jane Smith", "person"),
        ("Tim Cook", "person"),
        ("Acme Corp.", "organization"),
        ("World Health Organization", "organization"),
        ("Stanford University", "organization"),
        ("Bank of England", "organization"),
        ("Paris", "place"),
        ("Berlin", "place"),
        ("March 1, 2024", "date"),
        ("2024-06-30", "date"),
        ("2023", "date"),
        ("2030", "date"),
        ("$1,200.50", "amount"),
        ("USD 4.5 million", "amount"),
        ("15%", "amount"),
        ("jane.smith@acme-corp.com", "email"),
        ("https://www.acme-corp.com/press", "url"),
    ],
)
def test_finds_each_kind_of_entity(text: str, type_: str) -> None:
    found = _entities(PARAGRAPH)
    assert text in found, sorted(found)
    assert found[text]["type"] == type_


@pytest.mark.parametrize(
    "word", ["The", "However", "Yesterday", "This", "According", "Contact", "Smith", "Acme", "WHO"]
)
def test_sentence_starters_and_short_mentions_are_not_separate_entities(word: str) -> None:
    assert word not in _entities(PARAGRAPH)


def test_later_short_mentions_count_towards_the_full_name() -> None:
    found = _entities(PARAGRAPH)
    assert found["Jane Smith"]["count"] == 2  # "Dr. Jane Smith", then "Smith said"
    assert found["Acme Corp."]["count"] == 3  # "Acme Corp.", "Acme expects", "Acme will"
    assert found["World Health Organization"]["count"] == 2  # "(WHO)" defines, "WHO officials"


def test_email_and_url_parts_do_not_leak_into_other_entities() -> None:
    for entity in extract_entities(PARAGRAPH)["entities"]:
        if entity["type"] not in ("email", "url"):
            assert "@" not in entity["text"] and "acme-corp" not in entity["text"].lower()
    only_contacts = extract_entities("Write to John.Smith@Example.com or see www.Paris-News.org.")
    assert [e["type"] for e in only_contacts["entities"]] == ["email", "url"]


def test_ordered_by_first_appearance_with_valid_types() -> None:
    entities = extract_entities(PARAGRAPH)["entities"]
    assert all(e["type"] in ENTITY_TYPES and e["count"] >= 1 for e in entities)
    firsts = [PARAGRAPH.find(str(e["text"])) for e in entities]
    assert -1 not in firsts
    assert firsts == sorted(firsts)


def test_duplicates_merge_case_insensitively() -> None:
    text = "Mail ops@example.com today. Then mail OPS@EXAMPLE.COM again. NASA and NASA agree."
    found = extract_entities(text)["entities"]
    assert found == [
        {"text": "ops@example.com", "type": "email", "count": 2},
        {"text": "NASA", "type": "organization", "count": 2},
    ]


@pytest.mark.parametrize(
    ("sentence", "date"),
    [
        ("It closed on 2024-03-01 at noon.", "2024-03-01"),
        ("It closed on 1 March 2024.", "1 March 2024"),
        ("It closed on March 1, 2024.", "March 1, 2024"),
        ("It closed on Friday, March 1, 2024.", "Friday, March 1, 2024"),
        ("It closed on 03/01/2024.", "03/01/2024"),
        ("It closed in March 2024.", "March 2024"),
        ("It closed on the 1st of March, 2024.", "1st of March, 2024"),
        ("Results for Q3 2024 were flat.", "Q3 2024"),
        ("We met last Monday.", "Monday"),
    ],
)
def test_date_formats(sentence: str, date: str) -> None:
    assert _entities(sentence)[date]["type"] == "date"


@pytest.mark.parametrize(
    ("sentence", "amount"),
    [
        ("It cost $1,200.50 in total.", "$1,200.50"),
        ("They raised €3m last year.", "€3m"),
        ("They raised £20 billion.", "£20 billion"),
        ("The fund holds USD 4.5 million.", "USD 4.5 million"),
        ("The fund holds 300 EUR.", "300 EUR"),
        ("Sales rose 15% this quarter.", "15%"),
        ("Sales rose 3.5 percent.", "3.5 percent"),
        ("It paid 12 million dollars.", "12 million dollars"),
    ],
)
def test_amount_formats(sentence: str, amount: str) -> None:
    assert _entities(sentence)[amount]["type"] == "amount"


@pytest.mark.parametrize(
    "text",
    [
        "Version 45/67/2024 shipped.",  # not a date: neither part is a month
        "Page 12 of 40 lists 3 items.",
        "the quick brown fox jumps over the lazy dog",
        "THE END. WHO WE ARE.",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert extract_entities(text)["entities"] == []


def test_ambiguous_place_names_need_a_locative_cue() -> None:
    assert "Jordan" not in _entities("Jordan said the plan was fine.")
    assert _entities("The delegation arrived in Jordan on Monday.")["Jordan"]["type"] == "place"


def test_places_inside_longer_names_are_skipped() -> None:
    found = _entities("Texas Instruments opened a plant in Texas.")
    assert found["Texas"]["count"] == 1


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("The speech by President Biden was brief.", "President Biden"),
        ("Prime Minister Rishi Sunak spoke first.", "Rishi Sunak"),
        ("The economist Maria Lopez disagreed.", "Maria Lopez"),
        ("Secretary General António Guterres arrived.", "António Guterres"),
        ("Ms. O'Brien-Smith replied.", "Ms. O'Brien-Smith"),
        ("John F. Kennedy spoke.", "John F. Kennedy"),
        ("Officials met Governor Ron DeSantis.", "Ron DeSantis"),
        ("Dr. D'Angelo arrived.", "Dr. D'Angelo"),
    ],
)
def test_person_patterns(text: str, person: str) -> None:
    assert _entities(text)[person]["type"] == "person"


@pytest.mark.parametrize("text", ["", "   ", "\x00\x00", None, "!!!"])
def test_empty_input(text: str) -> None:
    assert extract_entities(text) == {"entities": []}


def test_deterministic() -> None:
    assert extract_entities(PARAGRAPH) == extract_entities(PARAGRAPH)


def test_long_document_within_bounds() -> None:
    rng = random.Random(5)
    names = ["Tim", "Mary", "Ahmed", "Priya", "Carlos", "Wei"]
    chunks = [PARAGRAPH.replace("Tim", rng.choice(names)) for _ in range(200)]
    text = "\n\n".join(chunks)
    assert len(text) > 100_000
    started = time.perf_counter()
    found = _entities(text)
    assert time.perf_counter() - started < 3.0
    assert found["Acme Corp."]["count"] == 3 * 200


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ('if [ "$1" = "-v" ]; then echo "$2"; fi', {"$1", "$2"}),
        ("The script reads $1 and $2 and copies them.", {"$1", "$2"}),
        ("    df -h | awk '{print $5}' # 100% full", {"100%"}),
        ("0.07user 0.50system 0:06.69elapsed 8%CPU (0avgtext+489avgdata)k", {"8%"}),
        ("This library is under the GNU General Public License version 3.", {"Public License"}),
        ("It is licensed under the Mozilla Public License Version 2.0.", {"Mozilla"}),
        ("The MIT License (MIT)\n\nCopyright (c) 2014", {"MIT"}),
        (
            'curl -fsO "https://nodejs.org/dist/${VERSION}/SHASUMS256.txt.asc"',
            {"https://nodejs.org/dist/$"},
        ),
    ],
)
def test_no_false_entities_in_technical_text(text: str, absent: set[str]) -> None:
    assert not absent & set(_entities(text))


@pytest.mark.parametrize(
    ("text", "entity", "type_"),
    [
        (
            "Wget resides at <ftp://ftp.gnu.org/pub/gnu/wget/>.",
            "ftp://ftp.gnu.org/pub/gnu/wget/",
            "url",
        ),
        (
            "Clone git://sourceware.org/git/valgrind.git first.",
            "git://sourceware.org/git/valgrind.git",
            "url",
        ),
        ("He has not released a new version since mid-1988.", "mid-1988", "date"),
        (
            "write to the Free\n    Software Foundation, Inc., 51 Franklin St",
            "Free\n    Software Foundation",
            "organization",
        ),
        ("MIT distributes the Kerberos sources as a tarball.", "MIT", "organization"),
        ("It owns fifty percent (50%) or more of the shares.", "50%", "amount"),
    ],
)
def test_entities_that_technical_text_does_name(text: str, entity: str, type_: str) -> None:
    found = _entities(text)
    key = " ".join(entity.split())
    assert key in found and found[key]["type"] == type_
