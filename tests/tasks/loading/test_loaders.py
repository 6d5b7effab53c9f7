"""load_document: every format loads, and every kind of bad file fails with a clear reason.

All inputs are generated in tmp_path (PDFs with fpdf2, DOCX with python-docx, zips with
zipfile), so the tests are offline and need no fixtures on disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import io
import os
import pickle
import sys
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.tasks.loading import (
    SUPPORTED_SUFFIXES,
    LoadLimits,
    iter_document_paths,
    load_document,
)
from eightflow_app.tasks.loading import load as load_module
from fpdf import FPDF

from eightflow.documents import Document
from eightflow.errors import DocumentError

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
MiB = 1024 * 1024

# --------------------------------------------------------------------------- builders


def pdf_bytes(pages: list[str], title: str | None = None) -> bytes:
    """A text PDF, one string per page (latin-1 only: fpdf2 core fonts)."""
    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def scanned_pdf_bytes() -> bytes:
    """A PDF whose page has drawings but no text layer, like a scan."""
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    pdf.line(20, 100, 180, 200)
    return bytes(pdf.output())


def encrypted_pdf_bytes(user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(["Secret plans."]))))
    writer.encrypt(user_password=user_password, owner_password="owner-pw", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(
    core_title: str | None = None,
    heading: str | None = None,
    paragraphs: tuple[str, ...] = (),
    table: list[list[str]] | None = None,
    tail: str | None = None,
) -> bytes:
    import docx

    document = docx.Document()
    if core_title:
        document.core_properties.title = core_title
    if heading:
        document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    if tail:
        document.add_paragraph(tail, style="List Bullet")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def write_zip_bomb(path: Path, mib: int) -> None:
    """A DOCX-shaped zip with one member of ``mib`` MiB of zeros, streamed in 1 MiB chunks."""
    chunk = bytes(MiB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(mib):
                member.write(chunk)


LATIN1_TEXT = (
    "Résumé de la réunion à Besançon\n\n"
    "Les élèves du lycée ont présenté leurs idées sur la forêt, la côte et la pêche. "
    "Le maître d'œuvre a confirmé que le budget de 12 500 francs sera réparti entre "
    "l'école, la bibliothèque et le théâtre. Où sont les données? Déjà prêtes, très bien."
).replace("œ", "oe")
GERMAN_TEXT = "Überblick für Zürich\n\nDie Größe der Straßen in München überrascht: naïve Grüße."

HTML_PAGE = """<!DOCTYPE html>
<html><head><title>  Quarterly   Update </title>
<style>p { color: red; }</style><script>var secret = "tracking";</script></head>
<body><noscript>Enable JavaScript</noscript><template><p>hidden template</p></template>
<h1>Results</h1><p>Revenue grew <b>12%</b>
   in Lisbon.</p><!-- internal comment -->
<ul><li>Alpha</li><li><p>Beta</p></li></ul>
<table><tr><th>Region</th><th>Revenue</th></tr><tr><td>North</td><td>€4.2m</td></tr></table>
<pre>  indented
    code</pre></body></html>"""

# --------------------------------------------------------------------------- good files

Check = dict[str, Any]
GOOD: list[tuple[str, Callable[[], bytes], Check]] = [
    (
        "plain.txt",
        lambda: b"Board Memo\n\nThe board met in Oslo on 3 May.   \n\n\n\n\nIt approved $2m.\n",
        {
            "loader": "text",
            "media_type": "text/plain",
            "title": "Board Memo",
            "encoding": "utf-8",
            "text": "Board Memo\n\nThe board met in Oslo on 3 May.\n\nIt approved $2m.",
        },
    ),
    (
        "crlf-nfd.txt",
        lambda: "Cafe\u0301 report\r\nline two\r\n".encode(),
        {"title": "Café report", "text": "Café report\nline two"},
    ),
    (
        "utf16.txt",
        lambda: GERMAN_TEXT.encode("utf-16"),
        {"encoding": "utf-16-le", "title": "Überblick für Zürich", "text": GERMAN_TEXT},
    ),
    (
        "utf16be.txt",
        lambda: b"\xfe\xff" + GERMAN_TEXT.encode("utf-16-be"),
        {"encoding": "utf-16-be", "text": GERMAN_TEXT},
    ),
    (
        "bom.txt",
        lambda: "\ufeffBOM title\nbody".encode(),
        {"encoding": "utf-8-sig", "title": "BOM title", "text": "BOM title\nbody"},
    ),
    (
        "latin1.txt",
        lambda: LATIN1_TEXT.encode("latin-1"),
        {"encoding_not": "utf-8", "text": LATIN1_TEXT, "title": "Résumé de la réunion à Besançon"},
    ),
    (
        "UPPER.TXT",
        lambda: ("x" * 130 + "\nsecond line").encode(),
        {"title": None, "loader": "text"},
    ),
    (
        "notes.md",
        lambda: (
            b"```bash\n# not a title\n```\n\nIntro\n\n# Quarterly **Review** [2024](x.md)\n\n"
            b"## Details\n- one\n"
        ),
        {
            "loader": "markdown",
            "media_type": "text/markdown",
            "title": "Quarterly Review 2024",
            "contains": ["# not a title", "## Details"],
        },
    ),
    (
        "front.markdown",
        lambda: b"---\ntitle: 'From Front Matter'\n---\n# Heading\n",
        {"title": "From Front Matter", "encoding": "utf-8"},
    ),
    ("setext.md", lambda: b"Setext Title\n============\n\nBody.", {"title": "Setext Title"}),
    (
        "page.html",
        lambda: HTML_PAGE.encode(),
        {
            "loader": "html:bs4",
            "media_type": "text/html",
            "title": "Quarterly Update",
            "text": "Results\n\nRevenue grew 12% in Lisbon.\n\n- Alpha\n- Beta\n\n"
            "Region | Revenue\nNorth | €4.2m\n\n  indented\n    code",
        },
    ),
    (
        "legacy.htm",
        lambda: (
            '<html><head><meta charset="windows-1252"></head><body><h1>Caf\xe9 News</h1>'
            "<p>Prices \x96 up 5\x80.</p></body></html>"
        ).encode("latin-1"),
        {"title": "Café News", "encoding": "cp1252", "text": "Café News\n\nPrices – up 5€."},
    ),
    (
        "report.pdf",
        lambda: pdf_bytes(
            ["Page one talks about Berlin.", "Page two: EUR 3,000."], "Annual Report"
        ),
        {
            "loader": "pdf:pypdf",
            "media_type": "application/pdf",
            "title": "Annual Report",
            "pages": 2,
            "encoding": None,
            "text": "Page one talks about Berlin.\n\nPage two: EUR 3,000.",
        },
    ),
    (
        "untitled.pdf",
        lambda: pdf_bytes(["Minutes of the Lyon meeting\nAttendees: Ana, Bo."]),
        {"title": "Minutes of the Lyon meeting", "pages": 1},
    ),
    (
        "open-encrypted.pdf",
        lambda: encrypted_pdf_bytes(user_password=""),
        {"text": "Secret plans.", "pages": 1},
    ),
    (
        "memo.docx",
        lambda: docx_bytes(
            core_title="Kick-off Memo",
            heading="Project Falcon",
            paragraphs=("Budget is CAD 7.4 million.", ""),
            table=[["Milestone", "Date"], ["Design", "1 March 2025"]],
            tail="Next steps agreed",
        ),
        {
            "loader": "docx:python-docx",
            "media_type": (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            ),
            "title": "Kick-off Memo",
            "pages": None,
            "encoding": None,
            "text": "Project Falcon\n\nBudget is CAD 7.4 million.\n\n"
            "Milestone | Date\nDesign | 1 March 2025\n\n- Next steps agreed",
        },
    ),
    (
        "heading.docx",
        lambda: docx_bytes(paragraphs=("Intro text.",), heading="Styled Heading"),
        {"title": "Styled Heading", "contains": ["Intro text.", "Styled Heading"]},
    ),
]


@pytest.mark.parametrize(("name", "build", "check"), GOOD, ids=[g[0] for g in GOOD])
def test_each_format_loads(
    tmp_path: Path, name: str, build: Callable[[], bytes], check: Check
) -> None:
    data = build()
    folder = tmp_path / "batch" / "sub"
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(data)

    doc = load_document(path, root=tmp_path / "batch")

    assert isinstance(doc, Document)
    assert doc.id == f"sub/{name}"
    assert doc.path == str(path.resolve())
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.size_bytes == len(data)
    assert doc.chars == len(doc.text)
    assert doc.text == unicodedata.normalize("NFC", doc.text)
    assert "\n\n\n" not in doc.text
    assert all(line == line.rstrip() for line in doc.text.splitlines())
    for key, expected in check.items():
        if key == "contains":
            for fragment in expected:
                assert fragment in doc.text
        elif key == "encoding_not":
            assert doc.encoding and doc.encoding != expected
        else:
            assert getattr(doc, key) == expected, key


def test_html_drops_scripts_styles_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    text = load_document(path).text
    for hidden in ("secret", "color", "Enable JavaScript", "hidden template", "comment"):
        assert hidden not in text
    assert "Quarterly Update" not in text  # <title> is the title, not body text


def test_id_is_file_name_without_root_and_relative_paths_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("hello")
    monkeypatch.chdir(tmp_path)
    assert load_document("docs/a.txt").id == "a.txt"
    doc = load_document("docs/a.txt", root=".")
    assert doc.id == "docs/a.txt"
    assert doc.path == str(tmp_path / "docs" / "a.txt")
    with pytest.raises(DocumentError, match="not inside the batch root"):
        load_document("docs/a.txt", root=tmp_path / "elsewhere")


def test_supported_suffixes() -> None:
    assert set(SUPPORTED_SUFFIXES) == {
        ".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".csv", ".tsv",
    }  # fmt: skip


def test_limits_are_frozen_and_validated() -> None:
    limits = LoadLimits()
    assert limits.max_bytes == 50 * MiB and limits.max_pages == 2000
    assert limits.max_chars == 5_000_000 and limits.max_unpacked_bytes == 200 * MiB
    with pytest.raises(ValueError):
        limits.max_bytes = 1  # type: ignore[misc]
    with pytest.raises(ValueError):
        LoadLimits(max_bytes=0)


# --------------------------------------------------------------------------- a mixed folder

MIXED_LIMITS = LoadLimits(max_bytes=64 * 1024, max_pages=3, max_chars=5_000)

GOOD_IN_MIXED = {
    "good/report.pdf": lambda: pdf_bytes(["Quarterly report for Oslo."], "Q3"),
    "good/memo.docx": lambda: docx_bytes(core_title="Memo", paragraphs=("Hello team.",)),
    "good/notes.md": lambda: b"# Notes\n\nShort notes.",
    "good/page.html": lambda: b"<title>T</title><p>Body</p>",
    "good/plain.txt": lambda: b"Just text.",
}

BAD_IN_MIXED: dict[str, tuple[Callable[[], bytes] | None, str]] = {
    "bad/truncated.pdf": (lambda: pdf_bytes(["x" * 200])[:300], "corrupt PDF"),
    "bad/garbage.pdf": (lambda: b"this is not a pdf", "corrupt PDF: no %PDF header"),
    "bad/encrypted.pdf": (lambda: encrypted_pdf_bytes("s3cret"), "encrypted PDF"),
    "bad/scanned.pdf": (scanned_pdf_bytes, "no extractable text (scanned PDF?)"),
    "bad/many-pages.pdf": (lambda: pdf_bytes(["p"] * 5), "too many pages: 5 (limit 3)"),
    "bad/empty.txt": (lambda: b"", "empty file (0 bytes)"),
    "bad/whitespace.md": (lambda: b"   \n\n\t \n", "no extractable text"),
    "bad/script-only.html": (lambda: b"<script>alert(1)</script>", "no extractable text"),
    "bad/binary.txt": (lambda: b"GIF89a\x00\x01\x02" + bytes(range(256)), "binary content"),
    "bad/controls.txt": (lambda: b"ab\x01\x02\x03\x04\x05" * 50, "binary content"),
    "bad/program.exe": (
        lambda: b"MZ\x90\x00",
        "unsupported file type '.exe'; supported: .csv, .docx",
    ),
    "bad/picture.png": (lambda: b"\x89PNG\r\n", "unsupported file type '.png'"),
    "bad/README": (lambda: b"no suffix", "unsupported file type (no extension)"),
    "bad/bomb.docx": (None, "zip bomb suspected: member 'word/document.xml' expands"),
    "bad/random.docx": (lambda: os.urandom(2048), "corrupt DOCX: not a valid zip"),
    "bad/sheet.docx": (lambda: zip_bytes({"xl/workbook.xml": b"<x/>"}), "corrupt DOCX: no word"),
    "bad/bad-xml.docx": (
        lambda: zip_bytes({"word/document.xml": b"<not xml", "[Content_Types].xml": b"<"}),
        "corrupt DOCX",
    ),
    "bad/dangling.txt": (None, "broken link to missing-target.txt"),
    "bad/huge.txt": (
        lambda: b"words " * 20_000,
        "file too large: 120,000 bytes (limit 65,536 bytes)",
    ),
    "bad/too-long.md": (lambda: b"# Long\n\n" + b"abcdefghi " * 600, "too long: 6,007 characters"),
}


@pytest.fixture(scope="module")
def mixed_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Document | DocumentError]:
    """Build one folder of good and bad files and load all of it, as a batch would."""
    root = tmp_path_factory.mktemp("mixed")
    (root / "good").mkdir()
    (root / "bad").mkdir()
    for name, build in GOOD_IN_MIXED.items():
        (root / name).write_bytes(build())
    for name, (build, _) in BAD_IN_MIXED.items():
        if build is not None:
            (root / name).write_bytes(build())
    write_zip_bomb(root / "bad/bomb.docx", mib=12)  # 12 MiB of zeros: ratio ~1000:1
    (root / "bad/dangling.txt").symlink_to("missing-target.txt")

    results: dict[str, Document | DocumentError] = {}
    for path in iter_document_paths(root):
        relative = path.relative_to(root).as_posix()
        try:
            results[relative] = load_document(path, root=root, limits=MIXED_LIMITS)
        except DocumentError as exc:  # the batch goes on
            results[relative] = exc
    return results


def test_mixed_folder_yields_every_file(mixed_results: dict[str, object]) -> None:
    assert set(mixed_results) == set(GOOD_IN_MIXED) | set(BAD_IN_MIXED)


@pytest.mark.parametrize("name", sorted(GOOD_IN_MIXED))
def test_mixed_folder_good_files_load(mixed_results: dict[str, object], name: str) -> None:
    doc = mixed_results[name]
    assert isinstance(doc, Document), doc
    assert doc.id == name and doc.text


@pytest.mark.parametrize(("name", "fragment"), [(k, v[1]) for k, v in BAD_IN_MIXED.items()])
def test_mixed_folder_bad_files_fail_with_reason(
    mixed_results: dict[str, object], name: str, fragment: str
) -> None:
    error = mixed_results[name]
    assert isinstance(error, DocumentError), f"{name} loaded: {error!r}"
    assert fragment in error.message
    assert error.path is not None and error.path.endswith(name)
    assert error.path in str(error)
    copy = pickle.loads(pickle.dumps(error))  # Prefect ships task failures pickled
    assert (copy.message, copy.path) == (error.message, error.path)


# --------------------------------------------------------------------------- single cases


def test_full_size_zip_bomb_rejected_with_default_limits(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    write_zip_bomb(path, mib=300)
    assert path.stat().st_size < MiB
    with pytest.raises(DocumentError, match="zip bomb suspected"):
        load_document(path)


@pytest.mark.parametrize(
    ("members", "limits", "fragment"),
    [
        ({f"m{i}.xml": b"x" for i in range(30)}, LoadLimits(max_zip_members=20), "30 archive"),
        (
            {"word/document.xml": os.urandom(1000), "big.bin": os.urandom(3000)},
            LoadLimits(max_unpacked_bytes=2000),
            "unpacks to 4,000 bytes (limit 2,000 bytes)",
        ),
    ],
    ids=["too-many-members", "too-much-unpacked"],
)
def test_zip_limits(tmp_path: Path, members: dict[str, bytes], limits: LoadLimits, fragment: str):
    path = tmp_path / "archive.docx"
    path.write_bytes(zip_bytes(members))
    with pytest.raises(DocumentError, match="zip bomb suspected") as info:
        load_document(path, limits=limits)
    assert fragment in info.value.message


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: None, "file not found"),
        (lambda p: p.symlink_to(p), "broken link"),
        (lambda p: os.mkfifo(p), "not a regular file"),
    ],
    ids=["directory", "missing", "symlink-loop", "fifo"],
)
def test_not_a_readable_file(tmp_path: Path, make: Callable[[Path], object], fragment: str):
    path = tmp_path / "thing.txt"
    make(path)
    with pytest.raises(DocumentError, match=fragment) as info:
        load_document(path)
    assert info.value.path == str(path)


def test_permission_denied_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("secret")
    real_open = os.open

    def deny(target: Any, *args: Any, **kwargs: Any) -> int:
        if Path(target) == path:
            raise PermissionError(13, "Permission denied")
        return real_open(target, *args, **kwargs)

    monkeypatch.setattr(load_module.os, "open", deny)
    with pytest.raises(DocumentError, match="permission denied"):
        load_document(path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads all")
def test_permission_denied_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("secret")
    path.chmod(0)
    try:
        with pytest.raises(DocumentError, match="permission denied"):
            load_document(path)
    finally:
        path.chmod(0o600)


def test_reads_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that grows after stat is still read only up to max_bytes + 1."""
    path = tmp_path / "growing.txt"
    path.write_bytes(b"a" * 10)
    limits = LoadLimits(max_bytes=100)
    real_check = load_module._check_size

    def grow_after_check(size: int, lim: LoadLimits) -> None:
        real_check(size, lim)
        path.write_bytes(b"b" * 5000)

    monkeypatch.setattr(load_module, "_check_size", grow_after_check)
    with pytest.raises(DocumentError, match="too large"):
        load_document(path, limits=limits)


# --------------------------------------------------------------------------- bundled examples

EXAMPLE_DOCS = EXAMPLES / "documents"


def test_bundled_examples_all_load() -> None:
    paths = list(iter_document_paths(EXAMPLE_DOCS))
    assert 10 <= len(paths) <= 12
    by_suffix: dict[str, int] = {}
    for path in paths:
        doc = load_document(path, root=EXAMPLE_DOCS)
        assert doc.title, path
        assert doc.chars > 500, path
        by_suffix[path.suffix] = by_suffix.get(path.suffix, 0) + 1
    assert all(by_suffix.get(s, 0) >= 2 for s in (".txt", ".md", ".html", ".pdf", ".docx"))


def test_sample_article_loads() -> None:
    doc = load_document(EXAMPLES / "sample.md", root=EXAMPLES)
    assert doc.id == "sample.md" and doc.title and doc.loader == "markdown"
    assert doc.text.count("\n\n") >= 4


def _make_documents_module(monkeypatch: pytest.MonkeyPatch) -> Any:
    name = "eightflow_examples_make_documents"
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / "make_documents.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_make_documents_is_deterministic_and_matches_bundled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_documents = _make_documents_module(monkeypatch)
    first = make_documents.build(tmp_path / "one")
    second = make_documents.build(tmp_path / "two")
    assert [p.name for p in first] == [p.name for p in second]
    assert len(first) >= 4
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
        # Bundled binaries must hold the text the script writes today.
        bundled = load_document(EXAMPLE_DOCS / a.name)
        assert load_document(a).text == bundled.text, a.name
