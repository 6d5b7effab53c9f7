"""A generated hostile corpus: every way a folder of "documents" can be out to hurt us.

Seeded and written on demand (nothing large is checked in). ``write_hostile_corpus``
returns the names it wrote, grouped by kind, beside a few good documents that must still
come out completed.
"""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from pathlib import Path

from tasks.loading.load import SUPPORTED_SUFFIXES

DEPTH = 100_000
MiB = 1 << 20


def random_bytes_files(folder: Path, rng: random.Random) -> list[str]:
    """Random bytes under every supported extension."""
    names = []
    for suffix in SUPPORTED_SUFFIXES:
        name = f"random{suffix}"
        (folder / name).write_bytes(rng.randbytes(rng.randint(64, 4096)))
        names.append(name)
    return names


def charset_files(folder: Path) -> list[str]:
    """HTML declaring codecs that are not text encodings, or no codec at all."""
    names = []
    for charset in ("rot13", "zlib", "base64", "x-no-such-charset", "utf-7"):
        name = f"charset-{charset}.html"
        body = (
            f'<html><head><meta charset="{charset}"><title>Charset {charset}</title></head>'
            f"<body><p>Quarterly results from Lisbon, caf\xe9 sales up.</p></body></html>"
        )
        (folder / name).write_bytes(body.encode("latin-1"))
        names.append(name)
    return names


def deep_nesting_files(folder: Path) -> list[str]:
    """100,000 levels deep: HTML elements, Markdown quotes, CSV quoting."""
    (folder / "deep.html").write_text(
        "<html><body>" + "<div>" * DEPTH + "deep" + "</div>" * DEPTH + "</body></html>"
    )
    (folder / "deep.md").write_text(">" * DEPTH + " deep\n")
    (folder / "deep.csv").write_text("a,b\n" + '"' * DEPTH + ",x\n")
    return ["deep.html", "deep.md", "deep.csv"]


def docx_bomb(path: Path, unpacked_mib: int = 64) -> None:
    """A DOCX whose document.xml inflates to ``unpacked_mib`` MiB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b"<w:document><w:body><w:p><w:r><w:t>")
            chunk = b"A" * (16 * MiB)
            for _ in range(unpacked_mib // 16):
                member.write(chunk)
            member.write(b"</w:t></w:r></w:p></w:body></w:document>")


def docx_billion_laughs(path: Path) -> None:
    """A DOCX whose document.xml expands nested entities (the "billion laughs")."""
    entities = '<!ENTITY l0 "ha">' + "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    xml = f'<?xml version="1.0"?><!DOCTYPE d [{entities}]><w:document>&l9;</w:document>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", xml)


def pdf_bomb(path: Path, unpacked_mib: int = 96) -> None:
    """A one-page PDF whose content stream inflates to ``unpacked_mib`` MiB."""
    compressor = zlib.compressobj(9)
    stream = io.BytesIO()
    block = b"BT /F1 12 Tf 72 712 Td (bomb) Tj ET\n" * 65536
    for _ in range(unpacked_mib * MiB // len(block)):
        stream.write(compressor.compress(block))
    stream.write(compressor.flush())
    data = stream.getvalue()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 "
        b"/BaseFont /Helvetica >> >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    path.write_bytes(out.getvalue())


def bomb_files(folder: Path) -> list[str]:
    docx_bomb(folder / "bomb.docx")
    docx_billion_laughs(folder / "laughs.docx")
    pdf_bomb(folder / "bomb.pdf")
    return ["bomb.docx", "laughs.docx", "bomb.pdf"]


HOSTILE_NAMES = [
    "a[1].txt",
    "b]x[.md",
    "new\nline.txt",
    "$(touch pwned);.txt",
    "`id` & echo 'x' | cat \"y\".txt",
    "*?<>.txt",
]
HOSTILE_DIRS = ["dir[0]", "line\nbreak", "$HOME;rm"]


def hostile_names(folder: Path) -> list[str]:
    """Good documents whose file and folder names carry brackets, newlines, shell syntax."""
    names = []
    for i, name in enumerate(HOSTILE_NAMES):
        (folder / name).write_text(f"Report {i}: sales in Berlin rose by 4% in March.\n")
        names.append(name)
    for i, directory in enumerate(HOSTILE_DIRS):
        (folder / directory).mkdir()
        (folder / directory / "inside.txt").write_text(f"Memo {i}: Toronto office moves.\n")
        names.append(f"{directory}/inside.txt")
    return names


def write_hostile_corpus(folder: Path, seed: int = 0) -> dict[str, list[str]]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    return {
        "random_bytes": random_bytes_files(folder, rng),
        "charsets": charset_files(folder),
        "deep": deep_nesting_files(folder),
        "bombs": bomb_files(folder),
        "names": hostile_names(folder),
    }
