"""Generate the bundled PDF and DOCX examples in ``examples/documents/``.

Binary documents cannot be written by hand, so their text lives here and this script
renders it: PDFs with fpdf2 (core fonts, so the text must be latin-1) and DOCX files with
python-docx. The output is deterministic: creation dates and other metadata are fixed and
the DOCX zip entries get a fixed timestamp, so re-running the script with the same library
versions reproduces the committed files byte for byte and ``git status`` stays clean.

Usage: ``python examples/make_documents.py [--out DIR]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "documents"
FIXED_TIME = dt.datetime(2025, 1, 15, 9, 0, 0, tzinfo=dt.UTC)
ZIP_TIME = (2025, 1, 15, 9, 0, 0)
AUTHOR = "eightflow examples"


@dataclass(frozen=True)
class Section:
    """A heading (may be empty), its paragraphs, optional bullets and an optional table."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Spec:
    filename: str
    title: str
    subject: str
    sections: tuple[Section, ...] = field(default_factory=tuple)
    page_break_before: frozenset[int] = frozenset()  # section indexes starting a new PDF page


AGREEMENT = Spec(
    filename="cobalt-verdant-services-agreement.pdf",
    title="Master Services Agreement: Cobalt Ridge Logistics and Verdant Software",
    subject="Software development and support services",
    sections=(
        Section(
            "",
            (
                "This Master Services Agreement (the Agreement) is made on 20 January 2025 "
                "between Cobalt Ridge Logistics Ltd, a company registered in England with "
                "number 08814522 whose office is at 3 Trafford Wharf Road, Manchester M17 1EX "
                "(the Client), and Verdant Software GmbH, registered in Munich under HRB "
                "241907, whose office is at Leopoldstrasse 118, 80802 Munich, Germany "
                "(the Supplier).",
            ),
        ),
        Section(
            "1. Services and term",
            (
                "The Supplier will design, build and support a warehouse routing platform "
                "for the Client's distribution centres in Manchester, Leeds and Rotterdam, "
                "as described in Schedule A. The Agreement takes effect on 1 February 2025 "
                "and continues for an initial term of 36 months, after which it renews for "
                "successive periods of 12 months unless either party gives at least 90 days' "
                "written notice.",
            ),
        ),
        Section(
            "2. Fees and payment",
            (
                "The Client will pay a fixed monthly fee of EUR 18,500 (excluding VAT) for "
                "the development and support services, invoiced monthly in arrears. Work "
                "outside the scope of Schedule A is charged at EUR 960 per person-day. "
                "Invoices are payable within 30 days. Late payments bear interest at 4 "
                "percent a year above the base rate of the Bank of England.",
            ),
        ),
        Section(
            "3. Service levels",
            (
                "The Supplier will keep the platform available for at least 99.5 percent of "
                "each calendar month. If availability falls below that level, the Client is "
                "entitled to a service credit of 5 percent of the monthly fee for each full "
                "0.5 percent shortfall, up to a maximum of 25 percent of that month's fee.",
            ),
        ),
        Section(
            "4. Liability, law and signatures",
            (
                "Neither party's total liability under this Agreement in any contract year "
                "will exceed EUR 500,000, except for liability that cannot be limited by law. "
                "This Agreement is governed by the laws of England and Wales, and the courts "
                "of London have exclusive jurisdiction.",
                "Signed for Cobalt Ridge Logistics Ltd by Eleanor Whitcombe, Chief Operating "
                "Officer, and for Verdant Software GmbH by Matthias Brenner, Managing "
                "Director, on 20 January 2025.",
            ),
        ),
        Section(
            "Schedule A: Scope of services",
            ("The services comprise the following deliverables:",),
            bullets=(
                "Route optimisation engine integrated with the Client's existing warehouse "
                "management system by 30 June 2025.",
                "Dashboards for shift managers at each distribution centre.",
                "Second-line support from 07:00 to 22:00 UK time, Monday to Saturday.",
                "Quarterly service reviews with the Client's head of IT, Priyanka Shah.",
            ),
        ),
    ),
    page_break_before=frozenset({5}),
)

OUTAGE = Spec(
    filename="meridian-outage-report.pdf",
    title="Incident Report: Frankfurt Region Outage, 9 June 2024",
    subject="Post-incident review",
    sections=(
        Section(
            "Summary",
            (
                "On Sunday 9 June 2024, Meridian Cloud Services suffered a serious outage in "
                "its Frankfurt region. From 13:42 to 17:51 CEST, about 4,300 customers could "
                "not reach virtual machines or managed databases hosted in the FRA-2 data "
                "centre. This was our worst incident in three years, and we are deeply sorry "
                "for the disruption it caused.",
            ),
        ),
        Section(
            "What went wrong",
            (
                "A routine firmware update to the power distribution units in hall B, "
                "carried out by our contractor Voltreon Systems, triggered a fault that cut "
                "power to 212 server racks. Backup power failed to take over because a "
                "transfer switch had been misconfigured during maintenance in March. Our "
                "monitoring detected the failure within two minutes, but the status page was "
                "not updated for 47 minutes, which left customers without information. That "
                "delay was unacceptable.",
            ),
        ),
        Section(
            "Impact",
            (
                "Several customers were badly affected. The online retailer Stoffhaus lost "
                "most of its Sunday sales, and the logistics firm Brandt & Kessel could not "
                "dispatch deliveries from its Mainz depot. In total, 1.8 million API requests "
                "failed and 36 database clusters needed manual recovery.",
            ),
        ),
        Section(
            "Remedies",
            (
                "Meridian will issue service credits totalling USD 265,000 to affected "
                "customers by 15 July 2024. Chief technology officer Ingrid Vollmer has "
                "ordered an independent audit of power systems at all seven of our data "
                "centres, to be completed by 30 September 2024, and firmware changes to "
                "power equipment now require a second engineer's approval.",
                "Questions about this report can be sent to our head of reliability, Samuel "
                "Achterberg, at reliability@meridian-cloud.example.",
            ),
        ),
    ),
)

KICKOFF = Spec(
    filename="queensway-library-kickoff.docx",
    title="Queensway Library Renovation: Project Kick-off Memo",
    subject="Kick-off meeting notes",
    sections=(
        Section(
            "",
            (
                "From: Farah Siddiqui, Project Director, Alder & Finch Architects\n"
                "To: Project team and client representatives\n"
                "Date: 13 January 2025",
                "This memo records the kick-off meeting for the renovation of the Queensway "
                "Branch Library, held on 10 January 2025 at the offices of the Humber Bay "
                "Library Board on Yonge Street, Toronto. The board has approved a budget of "
                "CAD 7.4 million for the project, including a contingency of CAD 600,000.",
            ),
        ),
        Section(
            "Attendees",
            bullets=(
                "Farah Siddiqui, Alder & Finch Architects (chair)",
                "Gregory Lam, Humber Bay Library Board, facilities manager",
                "Naledi Mokoena, Alder & Finch Architects, lead designer",
                "Pierre Gagnon, Gagnon Construction Ltd, site manager",
            ),
        ),
        Section(
            "Scope and key decisions",
            (
                "The renovation will add a children's reading wing of 420 square metres, "
                "replace the roof and heating system, and make the building fully "
                "accessible. The team agreed that the library will close to the public from "
                "1 May 2025 and that a temporary branch will open in the Kingsway Community "
                "Centre. Gregory Lam stressed that the community is very attached to the "
                "1958 reading room, which will be restored rather than rebuilt.",
            ),
        ),
        Section(
            "Milestones",
            table=(
                ("Milestone", "Owner", "Target date"),
                ("Design sign-off", "Naledi Mokoena", "28 February 2025"),
                ("Building permit issued", "Farah Siddiqui", "15 April 2025"),
                ("Construction start", "Pierre Gagnon", "5 May 2025"),
                ("Reopening", "Gregory Lam", "30 September 2026"),
            ),
        ),
        Section(
            "Risks",
            (
                "Asbestos may be present in the original ceiling tiles; a survey costing "
                "CAD 18,000 has been commissioned. Steel prices remain volatile, and Pierre "
                "Gagnon recommended locking in supplier quotes before the end of March.",
            ),
        ),
    ),
)

FEEDBACK = Spec(
    filename="lakeshore-guest-feedback.docx",
    title="Lakeshore Hotels Guest Feedback Summary, Q2 2024",
    subject="Quarterly guest satisfaction report",
    sections=(
        Section(
            "",
            (
                "Prepared by Oksana Petrenko, Guest Experience Manager, for the Lakeshore "
                "Hotels leadership team, 8 July 2024. This summary covers 3,912 reviews "
                "collected between 1 April and 30 June 2024 at our three properties in "
                "Chicago, Milwaukee and Duluth.",
            ),
        ),
        Section(
            "Scores by property",
            table=(
                ("Property", "Reviews", "Average score", "Change vs Q1"),
                ("Lakeshore Chicago", "1,874", "4.6 / 5", "+0.3"),
                ("Lakeshore Milwaukee", "1,205", "4.4 / 5", "+0.1"),
                ("Lakeshore Duluth", "833", "3.7 / 5", "-0.5"),
            ),
        ),
        Section(
            "What guests loved",
            (
                "Guests in Chicago were delighted with the renovated rooftop restaurant, and "
                "head chef Marco Bellini was named in more than 140 glowing reviews. Many "
                "praised the friendly front-desk team in Milwaukee, led by Denise Carter, "
                "and the new late check-out option, which brought in USD 86,000 of extra "
                "revenue in the quarter.",
            ),
        ),
        Section(
            "What went badly",
            (
                "The Duluth property had a poor quarter. Guests complained repeatedly about "
                "broken air conditioning during the June heatwave, slow room service and "
                "noisy construction next door. We refunded USD 41,500 to unhappy guests, and "
                "two corporate clients, Halvorsen Shipping and Pine Ridge Insurance, moved "
                "their bookings elsewhere.",
            ),
        ),
        Section(
            "Recommended actions",
            bullets=(
                "Replace the Duluth cooling system before 1 September 2024 (quote: USD "
                "220,000 from Arctic Air Mechanical).",
                "Extend the Chicago restaurant's opening hours on weekends.",
                "Ask general manager Tom Reinholt to contact both lost corporate clients "
                "personally by 31 July 2024.",
            ),
        ),
    ),
)

PDFS = (AGREEMENT, OUTAGE)
DOCXS = (KICKOFF, FEEDBACK)


def render_pdf(spec: Spec) -> bytes:
    """A simple, readable A4 PDF with a text layer (core Helvetica font)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_TIME)
    pdf.set_title(spec.title)
    pdf.set_subject(spec.subject)
    pdf.set_author(AUTHOR)
    pdf.set_creator(AUTHOR)
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, _latin1(spec.title))
    pdf.ln(4)
    for index, section in enumerate(spec.sections):
        if index in spec.page_break_before:
            pdf.add_page()
        if section.heading:
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, _latin1(section.heading))
            pdf.ln(1)
        pdf.set_font("Helvetica", "", 11)
        for paragraph in section.paragraphs:
            pdf.multi_cell(0, 6, _latin1(paragraph))
            pdf.ln(3)
        for bullet in section.bullets:
            pdf.multi_cell(0, 6, _latin1(f"- {bullet}"))
            pdf.ln(1)
        pdf.ln(2)
    return bytes(pdf.output())


def render_docx(spec: Spec) -> bytes:
    """A Word document using built-in styles (Title, Heading 1, List Bullet, Table Grid)."""
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title = spec.title
    props.subject = spec.subject
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.created = FIXED_TIME.replace(tzinfo=None)
    props.modified = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1

    document.add_heading(spec.title, level=0)
    for section in spec.sections:
        if section.heading:
            document.add_heading(section.heading, level=1)
        for paragraph in section.paragraphs:
            document.add_paragraph(paragraph)
        for bullet in section.bullets:
            document.add_paragraph(bullet, style="List Bullet")
        if section.table:
            table = document.add_table(rows=0, cols=len(section.table[0]))
            table.style = "Table Grid"
            for row in section.table:
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=True):
                    cell.text = value
    out = io.BytesIO()
    document.save(out)
    return _fixed_zip(out.getvalue())


def _latin1(text: str) -> str:
    text.encode("latin-1")  # fail loudly here rather than inside fpdf2
    return text


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps and attributes so the bytes are reproducible."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.create_system = 0
            fixed.external_attr = 0
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def build(out_dir: Path = OUT_DIR) -> list[Path]:
    """Write every PDF and DOCX example into ``out_dir``; return their paths, sorted."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for spec in PDFS:
        path = out_dir / spec.filename
        path.write_bytes(render_pdf(spec))
        written.append(path)
    for spec in DOCXS:
        path = out_dir / spec.filename
        path.write_bytes(render_docx(spec))
        written.append(path)
    return sorted(written)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    args = parser.parse_args()
    for path in build(args.out):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
