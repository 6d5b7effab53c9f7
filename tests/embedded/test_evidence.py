"""Persons named by the document's own evidence: mail headers, credits, changelogs."""

from __future__ import annotations

import pytest

from eightflow.embedded import extract_entities
from eightflow.embedded.evidence import plausible_name


def _persons(text: str) -> set[str]:
    return {e["text"] for e in extract_entities(text)["entities"] if e["type"] == "person"}


@pytest.mark.parametrize(
    ("text", "persons"),
    [
        (
            " -- Santiago Ruano Rincón <santiago@debian.org>  Tue, 24 Jan 2023",
            {"Santiago Ruano Rincón"},
        ),
        (
            "Matthias Klose <doko@debian.org>\nIain Buclaw <ibuclaw@ubuntu.com>   (gdc)",
            {"Matthias Klose", "Iain Buclaw"},
        ),
        ('Good signature from "Jan Rybar (Red Hat) <jrybar@redhat.com>"', {"Jan Rybar"}),
        (
            "* [aduh95](https://github.com/aduh95) -\n  **Antoine du Hamel** <<a@b.org>>",
            {"Antoine du Hamel"},
        ),
        ("Written by David MacKenzie and Jim Meyering.", {"David MacKenzie", "Jim Meyering"}),
        ("It was originally written by Linus\nTorvalds with help of others.", {"Linus Torvalds"}),
        (
            "  [ Johannes Schauer Marin Rodrigues ]\n  * Support DPKG_ROOT.",
            {"Johannes Schauer Marin Rodrigues"},
        ),
        ("Copyright (C) 1984, 1985, 1986 Larry Wall\n", {"Larry Wall"}),
        ("Copyright (c) Pavel Kalvoda, 2014-2020", {"Pavel Kalvoda"}),
        (
            " -- Daniel Kahn Gillmor <dkg@fifthhorseman.net>, Mon, 23 Jan 2017",
            {"Daniel Kahn Gillmor"},
        ),
    ],
)
def test_persons_from_evidence(text: str, persons: set[str]) -> None:
    assert _persons(text) == persons


@pytest.mark.parametrize(
    "text",
    [
        "Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>",
        "   [ Debian Janitor ]\n  * Use secure URI in Homepage field.",
        "Send patches to Mailing List <list@example.org> please.",
        "the GNU General Public License and the GNU Lesser General Public License",
        "SSH-KEYGEN(1)  BSD General Commands Manual  SSH-KEYGEN(1)",
    ],
)
def test_no_person_without_a_name(text: str) -> None:
    assert _persons(text) == set()


@pytest.mark.parametrize(
    ("name", "plausible"),
    [
        ("Niels Möller", True),
        ("James M Snell", True),
        ("Free Software Foundation", False),
        ("The Regents", False),
        ("General Public License", False),
        ("Debian Janitor", False),
        ("Ada", False),
    ],
)
def test_plausible_names(name: str, plausible: bool) -> None:
    assert plausible_name(name) is plausible


@pytest.mark.parametrize(
    ("text", "persons"),
    [
        # running prose: a participle and "by", a credit phrase, a list with initials
        ("Wget was written and mainained by Hrvoje Niksic. See AUTHORS.", {"Hrvoje Niksic"}),
        ("The team is led by Marisa Coelho.", {"Marisa Coelho"}),
        ("Thanks to Jane Doe and John Smith for testing.", {"Jane Doe", "John Smith"}),
        (
            "Math by B. Jackowski, P. Strzelczyk and P. Pianowski.",
            {"B. Jackowski", "P. Strzelczyk", "P. Pianowski"},
        ),
        # credit brackets in running text, and a changelog's "[ Name Initial ]"
        (
            "The port [Hrvoje Niksic] landed in 1.2 (Jakob Schlyter).",
            {"Hrvoje Niksic", "Jakob Schlyter"},
        ),
        ("  [ Sam Q ]\n  * Change uscan version to 4", {"Sam Q"}),
        # a list of people, one name a line
        (
            "Credits:\n\n- Bjorn Reese\n- Aleksey Sanin\n\nThat is all.",
            {"Bjorn Reese", "Aleksey Sanin"},
        ),
        # near misses: words of the text, markdown links, a lone list line, organizations
        ("It is in the (Public Domain) as public code.", set()),
        ("See the [Issue Tracker](https://example.org/issues) first.", set()),
        ("* [Working Groups][]\n* [Strategic Initiatives][]", set()),
        ("Menu:\n\n- Getting Started\n- Release Notes\n\nwe are getting there with notes", set()),
        ("Credits:\n\n- Bjorn Reese\n\nThat is all.", set()),
        ("It was published by Free Software Foundation in Boston.", set()),
        ("It was tested by Early Adopters, and early adopters liked it.", set()),
    ],
)
def test_persons_in_prose_brackets_and_credit_lists(text: str, persons: set[str]) -> None:
    assert _persons(text) == persons


@pytest.mark.parametrize(
    ("text", "persons"),
    [
        # initials before and inside a listed name
        (
            "Helpers:\n  - H. Peter Anvin\n  - Nelson H. F. Beebe\n  - Ada Lovelace\n",
            {"H. Peter Anvin", "Nelson H. F. Beebe", "Ada Lovelace"},
        ),
        # a name right before a verb of its own work
        ("Evgeny Vereshchagin discovered a crash.", {"Evgeny Vereshchagin"}),
        ("Sven Neumann and Dunja Lalic ported the tests.", {"Sven Neumann", "Dunja Lalic"}),
        # products take other verbs, and a checked name's word is no lowercase word
        ("Visual Studio Code provides a terminal.", set()),
        ("Quick Start tested the patch. A quick fix.", set()),
    ],
)
def test_initials_and_verbs_of_work(text: str, persons: set[str]) -> None:
    assert _persons(text) == persons
