"""Credit lists: name and contribution lines found, the file's own prose kept."""

from __future__ import annotations

import pytest

from eightflow.embedded.credits import credit_line, name_of_line, split_credits


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("Jane Doe <jane@example.org>", "Jane Doe"),
        ("  - H. Peter Anvin", "H. Peter Anvin"),
        ("* Nelson H. F. Beebe", "Nelson H. F. Beebe"),
        ("Tim-Philipp Müller (tim@example.com):", "Tim-Philipp Müller"),
        ("Ludwig van Beethoven", "Ludwig van Beethoven"),
        ("Madds H", "Madds H"),
        ("Apache License", None),  # a licence word is no name
        ("GNU GENERAL PUBLIC LICENSE", None),  # shouted heading
        ("Version 2.0, January 2004", None),
        ("Wrote the parser.", None),
        ("Jane", None),  # one word
        ("The Quick Brown Fox Jumps Over", None),  # too long, and "The" is a stopword
    ],
)
def test_name_of_line(line: str, name: str | None) -> None:
    assert name_of_line(line) == name


THANKS_WITH_WORK = """Thanks to:

Jane Doe <jane@example.org>
\t* Author of the first parser, up to
        version 1.0.

John Smith <john@example.org>
\t* Ported the build.

Ada Example <ada@example.org>
        * Testing and auditing code.
"""

THANKS_WITH_PROSE = """Thanks
======

Everyone who helped made this release possible. In alphabetical order:
  - Ada Example
  - H. Peter Anvin
  - John Smith
"""


@pytest.mark.parametrize(
    ("text", "kept", "names"),
    [
        (THANKS_WITH_WORK, ["Thanks to:"], ["Jane Doe", "John Smith", "Ada Example"]),
        (
            THANKS_WITH_PROSE,
            [
                "Thanks",
                "======",
                "Everyone who helped made this release possible. In alphabetical order:",
            ],
            ["Ada Example", "H. Peter Anvin", "John Smith"],
        ),
    ],
)
def test_split_credits_drops_names_and_their_work(
    text: str, kept: list[str], names: list[str]
) -> None:
    credits = split_credits(text)
    assert [line for line in credits.text.splitlines() if line.strip()] == kept
    assert credits.names == names


@pytest.mark.parametrize(
    "text",
    [
        # names as bullets, but nothing speaks of thanks or credit: a table of contents
        "Contents\n  - Getting Started\n  - Basic Usage\n  - Advanced Topics\n",
        # thanks, but only two names
        "Thanks to:\nJane Doe <jane@example.org>\nJohn Smith <john@example.org>\n",
        # thanks in prose, names in sentences: nothing to drop
        "Many thanks to Jane Doe, who wrote the parser, and to John Smith and Ada Example.",
    ],
)
def test_text_without_a_credit_list_is_unchanged(text: str) -> None:
    assert split_credits(text) == (text, [])


@pytest.mark.parametrize(
    ("title", "names", "line"),
    [
        (
            "Thanks to",
            ["Ada Lovelace", "Ben Franklin"],
            "Thanks to: Ada Lovelace and Ben Franklin.",
        ),
        (None, ["Ada Lovelace"], "Credits: Ada Lovelace."),
        ("Thanks", [f"Person Number{i}" for i in range(7)], None),
        ("Thanks", [], ""),
    ],
)
def test_credit_line(title: str | None, names: list[str], line: str | None) -> None:
    got = credit_line(title, names, 400)
    if line is None:  # more than five: the first five and a count
        assert got.startswith("Thanks: Person Number0, Person Number1")
        assert got.endswith("Person Number4 and 2 more.")
    else:
        assert got == line
    assert len(credit_line(title, names, 20)) <= 20
