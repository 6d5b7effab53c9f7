"""Rebuild the real-document evaluation set from the files every Debian machine has.

The documents under ``docs/`` are copies (trimmed to a prefix) of the sources named in
``manifest.csv``: texts under ``/usr/share/common-licenses``, README, changelog, NEWS,
THANKS, TODO and HTML files under ``/usr/share/doc``, the long descriptions of installed
Python packages (the body of a ``*.dist-info/METADATA`` file, without its header block),
and man pages rendered to PDF with fpdf2 (``man:NAME(S)``). Two suffixes take a part of a
source: ``PATH#lines=A-B`` keeps lines A to B (1-based, inclusive: a bug list, one NEWS
entry, a security note) and ``man:NAME(S)#SECTION`` keeps one section of a man page
(``#BUGS``). The copies are committed, so evaluation never depends on this machine; run
this script only to refresh them (``python examples/eval/real/build.py [FILE...]``). The
labels in the manifest were written by reading the copies: after a rebuild from different
sources, re-read them.
"""

from __future__ import annotations

import csv
import gzip
import re
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE / "docs"
MANIFEST = HERE / "manifest.csv"
#: Prefix sizes: plain text is cut at a paragraph break, HTML after a closing block tag.
TEXT_BYTES = 8000
HTML_BYTES = 24000
MAN_CHARS = 6000
_MAN_SOURCE = re.compile(r"man:([\w.+-]+)\((\d\w*)\)(?:#([A-Z][A-Z ]*))?")
_LINES = re.compile(r"(.+)#lines=(\d+)-(\d+)")
_HTML_CUT = re.compile(r"</(?:p|pre|div|ul|ol|dl|table|h[1-6])>", re.IGNORECASE)


def cut_text(text: str, limit: int = TEXT_BYTES) -> str:
    """The longest prefix of whole paragraphs within ``limit`` UTF-8 bytes."""
    if len(text.encode("utf-8")) <= limit:
        return text
    head = text.encode("utf-8")[:limit].decode("utf-8", "ignore")
    cut = head.rfind("\n\n")
    return (head[:cut] if cut > limit // 4 else head).rstrip() + "\n"


def cut_html(html: str, limit: int = HTML_BYTES) -> str:
    """A prefix ending after a closing block tag; the parser closes the rest."""
    if len(html.encode("utf-8")) <= limit:
        return html
    head = html.encode("utf-8")[:limit].decode("utf-8", "ignore")
    ends = [m.end() for m in _HTML_CUT.finditer(head)]
    return (head[: ends[-1]] if ends else head) + "\n</body></html>\n"


def render_man(name: str, section: str, part: str | None = None) -> str:
    page = subprocess.run(
        ["man", "-P", "cat", section, name],
        capture_output=True,
        text=True,
        check=True,
        env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    ).stdout
    plain = subprocess.run(["col", "-bx"], input=page, capture_output=True, text=True).stdout
    if part:
        plain = man_section(plain, part)
    return cut_text(plain, MAN_CHARS)


def man_section(page: str, heading: str) -> str:
    """One section of a rendered man page: its heading line up to the next heading."""
    lines = page.splitlines()
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1].isupper()), len(lines))
    return "\n".join(lines[start:end]).rstrip() + "\n"


def metadata_body(text: str) -> str:
    """A package's long description: a METADATA file after its header block."""
    return text.split("\n\n", 1)[1] if "\n\n" in text else text


def read_source(source: str) -> str:
    """The text of a file source, decompressed, cut to ``#lines=A-B`` if asked."""
    lines = _LINES.fullmatch(source)
    path = Path(lines.group(1) if lines else source)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8", "replace")
    if path.name == "METADATA":
        text = metadata_body(text)
    if lines:
        first, last = int(lines.group(2)), int(lines.group(3))
        text = "\n".join(text.split("\n")[first - 1 : last]) + "\n"
    return text


def write_pdf(text: str, target: Path, title: str) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("eightflow examples/eval/real/build.py")
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))  # reproducible bytes
    pdf.add_page()
    pdf.set_font("Courier", size=8)
    for line in _latin1(text).splitlines():
        pdf.cell(0, 3.6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(target))


def _latin1(text: str) -> str:
    swaps = {"‐": "-", "‑": "-", "−": "-", "–": "-", "—": "--", "‘": "'", "’": "'"}
    swaps |= {"“": '"', "”": '"', "•": "*", "…": "..."}
    text = "".join(swaps.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKD", text)
    return text.encode("latin-1", "ignore").decode("latin-1")


def build(row: dict[str, str]) -> Path:
    target = DOCS / row["file"]
    source = row["source"]
    man = _MAN_SOURCE.fullmatch(source)
    if man:
        name, section, part = man.groups()
        write_pdf(render_man(name, section, part), target, f"{name}({section})")
        return target
    text = read_source(source)
    text = cut_html(text) if target.suffix == ".html" else cut_text(text)
    target.write_text(text, encoding="utf-8")
    return target


def main(argv: list[str]) -> int:
    """Rebuild every copy, or only the files named on the command line."""
    DOCS.mkdir(exist_ok=True)
    with MANIFEST.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if not argv or r["file"] in argv]
    for row in rows:
        path = build(row)
        print(f"{path.relative_to(HERE)}  {path.stat().st_size:>6} bytes  <- {row['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
