"""Write ``examples/triage/northmere-annual-field-report.txt``: a long report (~2,500 words).

Deterministic (no randomness, no clock): every run writes the same bytes. The report is
plain prose about invented monitoring sites, long enough that the triage planner
summarizes it chunk by chunk. It lives outside ``examples/triage/`` so that
``eightflow analyze examples/triage`` sees only documents.

    python examples/make_triage_long.py
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parent / "triage" / "northmere-annual-field-report.txt"

SITES = [
    ("Alder Ford", "the upper river", "a shallow gravel ford used by cattle"),
    ("Brackenwell", "a spring-fed tributary", "a limestone spring below the old mill"),
    ("Coldharbour Weir", "the middle river", "a stone weir with a fish pass"),
    ("Dunmore Reach", "the middle river", "a slow, deep reach lined with willows"),
    ("Eastfield Drain", "an agricultural drain", "a straightened channel between arable fields"),
    ("Fennick Marsh", "the floodplain", "a reed marsh restored five years ago"),
    ("Greystone Bridge", "the lower river", "a town-centre reach below two storm outfalls"),
    ("Holloway Brook", "a woodland tributary", "a steep brook under mature oak woodland"),
    ("Inchcape Basin", "the reservoir", "the intake basin of the Inchcape reservoir"),
    ("Juniper Estuary", "the estuary", "the tidal limit where fresh and salt water meet"),
]
MONTHS = ["January", "April", "July", "October"]
CONCERNS = [
    "fine sediment after heavy rain",
    "nutrient run-off from the surrounding fields",
    "low summer flows",
    "a rise in water temperature during the July heatwave",
    "occasional sewage overflow after storms",
]
MEASURES = [
    "fencing a further stretch of bank to keep livestock out of the channel",
    "planting a buffer strip of native trees along the field edge",
    "asking the water company to review the timing of its overflow alarms",
    "adding a second temperature logger in the shaded pool downstream",
    "repeating the invertebrate survey in spring to confirm the trend",
]


def site_section(index: int, name: str, reach: str, setting: str) -> str:
    oxygen = 78 + (index * 7) % 19
    nitrate = round(1.4 + ((index * 13) % 37) / 10, 1)
    species = 11 + (index * 5) % 17
    visits = 4 + index % 3
    concern = CONCERNS[index % len(CONCERNS)]
    measure = MEASURES[(index * 2) % len(MEASURES)]
    best, worst = MONTHS[index % 4], MONTHS[(index + 2) % 4]
    trend = "improved" if index % 3 else "held steady"
    return "\n\n".join(
        [
            f"{index + 1}. {name}",
            f"{name} lies on {reach} and is {setting}. The field team visited it {visits} "
            f"times during the year, taking water samples, reading the fixed gauge and "
            f"counting the invertebrates caught in a timed kick sample. Access was good on "
            f"every visit except one, when the track was flooded and the team had to walk "
            f"in from the road.",
            f"Dissolved oxygen averaged {oxygen} per cent of saturation, which is within "
            f"the range expected for a site of this kind. Nitrate averaged {nitrate} "
            f"milligrams per litre. The best readings of the year came in {best} and the "
            f"worst in {worst}, a pattern the team links to {concern}. Compared with the "
            f"previous year, the overall condition of the site {trend}.",
            f"The kick samples held {species} families of invertebrates, including mayfly "
            f"and caddis larvae, which are sensitive to pollution and are a good sign where "
            f"they are found in numbers. Volunteers from the local angling club helped to "
            f"sort the samples, and their counts agreed closely with those of the staff.",
            f"For the coming year the team recommends {measure}. The cost is modest and "
            f"the work can be done outside the breeding season, so that it disturbs neither "
            f"the birds nesting in the bank nor the fish spawning in the gravel.",
        ]
    )


def report() -> str:
    parts = [
        "Northmere Water Board: annual field report 2024",
        "Introduction",
        "This report sets out what the Northmere field team found at its ten monitoring "
        "sites during 2024. The sites run from the upper river, through the reservoir and "
        "the town, down to the estuary, and together they give a picture of the health of "
        "the whole catchment. Each section describes one site: where it is, how often it "
        "was visited, what the water samples and the invertebrate surveys showed, and what "
        "the team recommends for the coming year. A short set of conclusions follows the "
        "site sections.",
        "The methods were the same as in previous years, so the results can be compared "
        "directly. Water samples were analysed by the board's own laboratory, and every "
        "tenth sample was sent to an independent laboratory as a check. Invertebrate "
        "samples were taken with a standard net over three minutes of kicking, followed by "
        "one minute of searching under stones.",
    ]
    parts += [site_section(i, *site) for i, site in enumerate(SITES)]
    parts += [
        "Conclusions",
        "Across the catchment the picture is one of slow improvement. Oxygen levels were "
        "healthy at every site for most of the year, and the number of invertebrate "
        "families rose at six of the ten sites. The main pressures remain the same as "
        "before: sediment and nutrients from farmland in the upper catchment, and storm "
        "overflows in the town. The heatwave in July was a reminder that warmer summers "
        "will put more stress on the rivers, and shade along the banks will matter more "
        "every year.",
        "The field team thanks the landowners who allowed access to the sites, the "
        "volunteers who sorted the samples, and the laboratory staff who worked through "
        "the summer backlog. The next report will be published in the spring of 2026.",
    ]
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    OUT.write_text(report(), encoding="utf-8")
    print(f"wrote {OUT} ({len(report().split())} words)")
