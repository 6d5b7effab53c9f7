"""Self-describing entity shapes: what an email is not, and decades that are not dates."""

from __future__ import annotations

import pytest

from eightflow.embedded import extract_entities
from eightflow.embedded.patterns import plausible_email


def _typed(text: str, type_: str) -> list[str]:
    return [e["text"] for e in extract_entities(text)["entities"] if e["type"] == type_]


@pytest.mark.parametrize(
    ("surface", "following", "plausible"),
    [
        ("jane.doe@example.com", "", True),
        ("bug-patch@gnu.org", ".", True),
        ("debian-devel@lists.debian.org", ">", True),
        ("jane@example.com", ": it works", True),  # a colon, then prose
        ("pg_dump@version-cluster.service", "", False),  # a systemd unit instance
        ("getty@tty1.service", "", False),
        ("user@1000.slice", "", False),
        ("expand-path@openssh.com", "", False),  # a protocol extension: verb-led name
        ("hostkeys-00@openssh.com", "", False),  # ... or a versioned one
        ("git@github.com", ":user/repo.git", False),  # a git SSH address
        ("root@host.example.com", ":/srv/backup", False),
        ("support-team@example.com", "", True),  # dash-joined, but not verb-led
        ("Expand-Path@example.com", "", True),  # a mailbox's capitals: not a protocol name
    ],
)
def test_plausible_email(surface: str, following: str, plausible: bool) -> None:
    assert plausible_email(surface, following) is plausible


@pytest.mark.parametrize(
    ("text", "emails"),
    [
        ("Run systemctl start pg_dump@15-main.service nightly.", []),
        ("Clone git@github.com:user/repo.git and mail jane@example.org.", ["jane@example.org"]),
        ('The "expand-path@openssh.com" extension expands a path.', []),
    ],
)
def test_email_extraction_skips_units_extensions_and_git_addresses(
    text: str, emails: list[str]
) -> None:
    assert _typed(text, "email") == emails
    assert "github.com" not in _typed(text, "organization")


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("Since the 1990s the tool has grown.", []),
        ("In the early-2000s it was rewritten.", []),
        ("It was popular in the 1980s and in 1989.", ["1989"]),
        ("It was rewritten in mid-1988.", ["mid-1988"]),
        ("The release came in 2023.", ["2023"]),
        # a version number's last part is no day
        ("GNU coreutils 9.1               September 2022", ["September 2022"]),
        ("It shipped on 1 September 2022.", ["1 September 2022"]),
    ],
)
def test_decades_are_not_dates(text: str, dates: list[str]) -> None:
    assert _typed(text, "date") == dates
