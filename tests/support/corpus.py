"""A seeded generator of synthetic documents for benchmarks and tests.

Each document is a few paragraphs of plausible business prose with people, organisations,
places, dates and amounts, so every analysis step has real work; the same seed gives the
same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

_PEOPLE = [
    "Amara Okafor",
    "Lena Fischer",
    "Rahul Mehta",
    "Sofia Alvarez",
    "Tom Becker",
    "Yuki Tanaka",
    "Grace Kim",
    "Omar Haddad",
    "Elena Petrova",
    "Daniel Moreau",
]
_ORGS = [
    "Harbour Lane Capital",
    "Northwind Logistics Ltd",
    "Solenne Foods Group",
    "Meridian Health Trust",
    "Kestrel Software GmbH",
    "Riverbend Council",
    "Bank of Avalon",
    "Queensway Institute",
]
_PLACES = ["London", "Berlin", "Lisbon", "Toronto", "Nairobi", "Osaka", "Madrid", "Dublin"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_OPENERS = [
    "{org} reported {tone} results for the quarter, with revenue of {amount}.",
    "{person} of {org} announced a new programme in {place} on {date}.",
    "The board of {org} met in {place} to review a proposal worth {amount}.",
    "Customers in {place} gave {tone} feedback after the launch on {date}.",
]
_BODY = [
    "{person} said the team had {verb} the targets set in {month}.",
    "Analysts at {org} expect demand in {place} to {trend} over the next year.",
    "The project budget of {amount} covers staff, equipment and training.",
    "Several partners, including {org}, will join the pilot from {date}.",
    "{person} described the outcome as {adjective} and thanked the staff in {place}.",
    "Questions can be sent to {email} before the end of {month}.",
]
_TONES = {
    "positive": (
        ["strong", "excellent", "encouraging"],
        ["exceeded", "beaten"],
        ["grow steadily", "rise"],
        ["a great success", "remarkable"],
    ),
    "negative": (
        ["weak", "disappointing", "poor"],
        ["missed", "fallen short of"],
        ["fall sharply", "decline"],
        ["a serious setback", "deeply worrying"],
    ),
}


def synthetic_document(index: int, seed: int = 0, paragraphs: int = 3) -> str:
    rng = random.Random(f"{seed}:{index}")
    tone = rng.choice(["positive", "negative"])
    adjectives, verbs, trends, outcomes = _TONES[tone]

    def fill(template: str) -> str:
        person = rng.choice(_PEOPLE)
        return template.format(
            org=rng.choice(_ORGS),
            person=person,
            place=rng.choice(_PLACES),
            amount=f"${rng.randint(2, 900)}.{rng.randint(0, 9)} million",
            date=f"{rng.randint(1, 28)} {rng.choice(_MONTHS)} 2025",
            month=rng.choice(_MONTHS),
            tone=rng.choice(adjectives),
            verb=rng.choice(verbs),
            trend=rng.choice(trends),
            adjective=rng.choice(outcomes),
            email=f"{person.split()[0].lower()}@example.org",
        )

    title = f"Report {index}: {rng.choice(_ORGS)} in {rng.choice(_PLACES)}"
    body = []
    for _ in range(paragraphs):
        sentences = [fill(rng.choice(_OPENERS))] + [
            fill(rng.choice(_BODY)) for _ in range(rng.randint(3, 5))
        ]
        body.append(" ".join(sentences))
    return title + "\n\n" + "\n\n".join(body) + "\n"


def write_corpus(folder: Path, count: int, seed: int = 0, paragraphs: int = 3) -> list[Path]:
    """Write ``count`` documents as ``doc-00000.txt`` ...; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"doc-{index:05d}.txt"
        path.write_text(synthetic_document(index, seed, paragraphs), encoding="utf-8")
        paths.append(path)
    return paths


def iter_corpus(count: int, seed: int = 0) -> Iterator[tuple[str, str]]:
    for index in range(count):
        yield f"doc-{index:05d}.txt", synthetic_document(index, seed)
