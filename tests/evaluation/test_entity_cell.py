"""The ``expected_entities`` cell's one codec: what export writes, eval reads back as is."""

from __future__ import annotations

import pytest

from eightflow.evaluation import EvaluationError
from eightflow.evaluation.entity_cell import decode_entity_pairs, encode_entity_pairs

NASTY = [
    "AT&T | Bell Labs",  # the pair separator
    "Smith; Jones & Co",  # the item separator
    "a\\|b\\;c\\",  # the escape character, before specials and at the end
    'The "Quoted" Ltd',
    "O'Brien's",
    "line one\nline two",
    '=HYPERLINK("http://x.example")',
    "+44 20 7946 0000",
    "-minus",
    "@handle",
    "Zürich–Genève 東京 🚀",
    "|",
    ";;",
    " padded ",
]


@pytest.mark.parametrize("text", NASTY)
def test_one_nasty_entity_reads_back_as_written(text: str) -> None:
    pairs = [(text, "organization")]
    assert decode_entity_pairs(encode_entity_pairs(pairs)) == pairs


def test_many_nasty_entities_in_one_cell_read_back_in_order() -> None:
    pairs = [(text, kind) for text in NASTY for kind in ("person", "odd|type;x")]
    assert decode_entity_pairs(encode_entity_pairs(pairs)) == pairs


@pytest.mark.parametrize(
    ("cell", "pairs"),
    [
        ("Ada Lovelace|person;Acme|organization", [("Ada Lovelace", "person"),
                                                  ("Acme", "organization")]),
        ("A|B|organization", [("A|B", "organization")]),  # hand-written: the last | splits
        (" ; Bob|person;;", [(" Bob", "person")]),  # blank items skipped, text as written
        ("", []),
        ("C:\\\\temp|place", [("C:\\temp", "place")]),
    ],
)  # fmt: skip
def test_hand_written_cells(cell: str, pairs: list[tuple[str, str]]) -> None:
    assert decode_entity_pairs(cell) == pairs


@pytest.mark.parametrize("cell", ["ok", "Bob\\|person", "|person", "x|y;lonely"])
def test_an_item_without_a_type_names_itself_and_the_row(cell: str) -> None:
    with pytest.raises(EvaluationError, match=r"^set.csv row 2: '.*' is not a 'text\|type' pair"):
        decode_entity_pairs(cell, "set.csv row 2")
