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
