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

__all__ = ["AMOUNT_PATTERNS", "DATE_PATTERNS", "EMAIL", "URL", "valid_numeric_date"]

URL = re.compile(
    r"\b(?:https?://|ftp://|git://|www\.)[^\s<>\"'`{}|\\^\[\]]+[^\s<>\"'`{}|\\^\[\].,;:!?)]"
)
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")

_MONTH = rf"(?:{MONTHS})\b\.?"
_WEEKDAY = rf"(?:(?:{WEEKDAYS}),?\s+(?:the\s+)?)?"
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\b"
_YEAR = r"(?:1[5-9]\d\d|2[01]\d\d)\b"
_NO_NUMBER_AFTER = r"(?![.,]?\d|\s?%)"

DATE_PATTERNS: tuple[re.Pattern[str], ...] = (
    # 2024-03-01 (optionally with a time after it, which is left out)
    re.compile(r"\b(?:1[5-9]|2[01])\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b"),
    # Friday, 1 March 2024 / 1st of March, 2024 / 1 March
    re.compile(rf"\b{_WEEKDAY}{_DAY}(?:\s+of)?\s+{_MONTH}(?:,?\s+{_YEAR})?{_NO_NUMBER_AFTER}"),
    # Friday, March 1, 2024 / March 1st 2024 / March 1
    re.compile(rf"\b{_WEEKDAY}{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?{_NO_NUMBER_AFTER}"),
    # March 2024 / mid-March 2024
    re.compile(rf"\b(?:(?:early|mid|late)[- ])?{_MONTH},?\s+{_YEAR}{_NO_NUMBER_AFTER}"),
    # 03/01/2024, 3/1/24, 01.03.2024, 01-03-2024 (validated by valid_numeric_date)
    re.compile(
        r"(?<![\d/.-])(?:\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})|\d{1,2}[.-]\d{1,2}[.-]\d{4})(?![\d/.-]\d)"
    ),
    # mid-1988, early-2000s
    re.compile(r"\b(?:early|mid|late)-(?:1[5-9]|2[01])\d\d(?:s\b|\b)"),
    # Q3 2024, FY2024, FY 2025
    re.compile(rf"\b(?:Q[1-4]\s+(?:FY\s?)?{_YEAR}|FY\s?{_YEAR})"),
    # on Monday / last Friday -> "Monday", "Friday"
    re.compile(rf"\b(?:on|last|next|this|by|until|since|every)\s+(?P<e>(?:{WEEKDAYS}))\b"),
    # in 2023 / by 2030 / since the 1990s -> "2023", "2030", "1990s"
    re.compile(
        r"\b(?:in|since|by|until|till|during|before|after|through|throughout|fiscal|early|late)"
        r"\s+(?:the\s+)?(?P<e>(?:19|20)\d\d(?:s\b|\b))(?![.,]?\d|\s?%|\s*percent)"
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


def valid_numeric_date(text: str) -> bool:
    """Whether a d/m/y-looking string is a plausible date (some part ≤ 12, days ≤ 31)."""
    parts = re.split(r"[/.-]", text)
    if len(parts) != 3:
        return False
    first, second = int(parts[0]), int(parts[1])
    if not (1 <= first <= 31 and 1 <= second <= 31):
        return False
    return first <= 12 or second <= 12
