"""Regular expressions for the self-describing entity types: URLs, emails, dates, amounts.

These types announce themselves by shape (an ``@``, a currency sign, a month name next to
a number), so regexes find them with high precision. Each list is ordered most specific
first: the extractor masks what a pattern claims before the next one runs, so "1 March
2024" is one date rather than a date plus a stray year. A pattern with a group named
``e`` reports only that group as the entity (the rest is context, like "on Monday").
"""

from __future__ import annotations

import re

from eightflow.embedded.lexicon import CURRENCY_CODES, CURRENCY_WORDS, MONTHS, WEEKDAYS

__all__ = [
    "AMOUNT_PATTERNS",
    "DATE_PATTERNS",
    "EMAIL",
    "URL",
    "plausible_email",
    "valid_numeric_date",
]

URL = re.compile(
    r"\b(?:https?://|ftp://|git://|www\.)[^\s<>\"'`{}|\\^\[\]]+[^\s<>\"'`{}|\\^\[\].,;:!?)]"
)
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
#: systemd unit types: "pg_dump@15-main.service" is a unit instance, not a mailbox.
UNIT_SUFFIXES = frozenset(
    {"service", "socket", "timer", "mount", "automount", "target", "path", "slice", "scope"}
    | {"device", "swap", "busname", "snapshot", "network", "netdev", "link"}
)
#: Verbs that open a protocol extension's name ("expand-path@openssh.com"), never a mailbox.
_EXTENSION_VERBS = frozenset(
    {"expand", "copy", "get", "set", "put", "send", "fetch", "make", "create", "check"}
    | {"read", "write", "open", "close", "remove", "rename", "delete", "bind", "query"}
)
_VERSION_SEGMENT = re.compile(r"v?\d+")

_MONTH = rf"(?:{MONTHS})\b\.?"
_WEEKDAY = rf"(?:(?:{WEEKDAYS}),?\s+(?:the\s+)?)?"
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\b"
_YEAR = r"(?:1[5-9]\d\d|2[01]\d\d)\b"
_NO_NUMBER_AFTER = r"(?![.,]?\d|\s?%)"

DATE_PATTERNS: tuple[re.Pattern[str], ...] = (
    # 2024-03-01 (optionally with a time after it, which is left out)
    re.compile(r"\b(?:1[5-9]|2[01])\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b"),
    # Friday, 1 March 2024 / 1st of March, 2024 / 1 March (not the "1" of "coreutils 9.1
    # September 2022": a version number's last part is no day)
    re.compile(
        rf"(?<!\d[.,])\b{_WEEKDAY}{_DAY}(?:\s+of)?\s+{_MONTH}(?:,?\s+{_YEAR})?{_NO_NUMBER_AFTER}"
    ),
    # Friday, March 1, 2024 / March 1st 2024 / March 1
    re.compile(rf"\b{_WEEKDAY}{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?{_NO_NUMBER_AFTER}"),
    # March 2024 / mid-March 2024
    re.compile(rf"\b(?:(?:early|mid|late)[- ])?{_MONTH},?\s+{_YEAR}{_NO_NUMBER_AFTER}"),
    # 03/01/2024, 3/1/24, 01.03.2024, 01-03-2024 (validated by valid_numeric_date)
    re.compile(
        r"(?<![\d/.-])(?:\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})|\d{1,2}[.-]\d{1,2}[.-]\d{4})(?![\d/.-]\d)"
    ),
    # mid-1988 (a decade, "early-2000s" or "the 1990s", is a period, not a date)
    re.compile(r"\b(?:early|mid|late)-(?:1[5-9]|2[01])\d\d\b"),
    # Q3 2024, FY2024, FY 2025
    re.compile(rf"\b(?:Q[1-4]\s+(?:FY\s?)?{_YEAR}|FY\s?{_YEAR})"),
    # on Monday / last Friday -> "Monday", "Friday"
    re.compile(rf"\b(?:on|last|next|this|by|until|since|every)\s+(?P<e>(?:{WEEKDAYS}))\b"),
    # in 2023 / by 2030 -> "2023", "2030" (not "since the 1990s": a decade)
    re.compile(
        r"\b(?:in|since|by|until|till|during|before|after|through|throughout|fiscal|early|late)"
        r"\s+(?:the\s+)?(?P<e>(?:19|20)\d\d\b)(?![.,]?\d|\s?%|\s*percent)"
    ),
)

_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_SCALE = r"(?:\s?(?:mn|bn|tn|[mbkMBK])\b|\s+(?:thousand|million|billion|trillion)\b)"
_SCALE_WORD = r"(?:\s+(?:thousand|million|billion|trillion))"

AMOUNT_PATTERNS: tuple[re.Pattern[str], ...] = (
    # $1,200.50 / €3m / US$4.5 billion / £20
    re.compile(rf"(?:\b(?:US|A|C|NZ|HK|S|R)(?=[$]))?[$€£¥₹₩₽₺]\s?{_NUMBER}{_SCALE}?"),
    # USD 4.5 million / EUR 300
    re.compile(rf"\b(?:{CURRENCY_CODES})\s?{_NUMBER}{_SCALE}?"),
    # 4.5 million USD / 300 EUR
    re.compile(rf"(?<![\w.,]){_NUMBER}{_SCALE}?\s?(?:{CURRENCY_CODES})\b"),
    # 12 million dollars / 5 euros / 300 pounds sterling
    re.compile(
        rf"(?<![\w.,]){_NUMBER}{_SCALE_WORD}?\s+(?:(?:US|U\.S\.|Canadian|Australian|Hong Kong)"
        rf"\s+)?(?:{CURRENCY_WORDS})\b"
    ),
    # 15% / 3.5 percent / -2 per cent / 0.25 percentage points
    re.compile(
        rf"(?<![\w.,])[-+−]?{_NUMBER}\s?(?:%(?![A-Za-z])|percent\b|per\s?cent\b|percentage\s+points?\b)"
    ),
)


def plausible_email(surface: str, following: str = "") -> bool:
    """Whether an ``EMAIL`` match is a mailbox: its top-level domain is not a systemd
    unit type ("getty@tty1.service"), its local part is not a protocol extension name
    (dash-joined and opened by a verb, "expand-path@openssh.com", or ending in a
    version, "hostkeys-00@openssh.com"), and ``following`` (the text right after it) is
    not the ":path" of a git SSH address ("git@github.com:user/repo.git")."""
    local, _, domain = surface.rpartition("@")
    if domain.rsplit(".", 1)[-1].lower() in UNIT_SUFFIXES:
        return False
    segments = local.lower().split("-")
    extension = segments[0] in _EXTENSION_VERBS or _VERSION_SEGMENT.fullmatch(segments[-1])
    if len(segments) > 1 and local.islower() and extension:
        return False
    return not (following[:1] == ":" and following[1:2].strip() and following[1:2] != ":")


def valid_numeric_date(text: str) -> bool:
    """Whether a d/m/y-looking string is a plausible date (some part ≤ 12, days ≤ 31)."""
    parts = re.split(r"[/.-]", text)
    if len(parts) != 3:
        return False
    first, second = int(parts[0]), int(parts[1])
    if not (1 <= first <= 31 and 1 <= second <= 31):
        return False
    return first <= 12 or second <= 12
