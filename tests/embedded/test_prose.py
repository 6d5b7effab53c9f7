"""Prose versus code, navigation and boilerplate in real documents."""

from __future__ import annotations

import pytest

from eightflow.embedded.prose import find_title, is_code_line, is_prose, prose_sentences, prose_text


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("    $ git clone https://salsa.debian.org/debian/dash.git", True),
        ("#include <stdio.h>", True),
        ("    strm.avail_in = fread(in, 1, CHUNK, source);", True),
        ("    int ret, flush;", True),
        ("}", True),
        ("cmake -S libxml2-xxx -B libxml2-xxx-build [possible options]", True),
        ("[![Build Status](https://travis-ci.org/x/y.svg)](https://travis-ci.org/x/y)", True),
        ("   # mkdir backup", True),
        ('GNU grep is provided "as is" with no warranty.', False),
        ("# Node.js", False),
        ("MOZILLA PUBLIC LICENSE", False),
        ("CC0 1.0 Universal", False),
        ("      (a) You must give any other recipients of the Work or", False),
        ("", False),
    ],
)
def test_code_lines(line: str, code: bool) -> None:
    assert is_code_line(line) is code


@pytest.mark.parametrize(
    ("sentence", "prose"),
    [
        ("HELP: No files on my system are owned by user or group bin.", False),
        ("Next: Using libffi, Previous: libffi, Up: libffi [Index]", False),
        ("Copyright (C) 2007 Free Software Foundation, Inc.", False),
        ("This program is free software; you can redistribute it and/or modify it.", False),
        ("CHMOD(1) User Commands CHMOD(1)", False),
        ("-- Andrej Shadura <andrewsh@debian.org> Thu, 05 Jan 2023 14:20:48 +0100", False),
        ("$OpenBSD: README.dns,v 1.2 2003/10/14 19:43:23 jakob Exp $", False),
        ("Git is a fast, scalable, distributed revision control system.", True),
        ("Note that AMD64 is just another name for x86_64.", True),
    ],
)
def test_non_prose_sentences(sentence: str, prose: bool) -> None:
    assert is_prose(sentence) is prose


def test_fenced_and_literal_blocks_are_blanked_line_for_line() -> None:
    text = (
        "Intro text here.\n```c\nint main(void) { return 0; }\n```\n"
        "Run this::\n\n    make check\n\nDone now.\n"
    )
    blanked = prose_text(text)
    assert blanked.count("\n") == text.count("\n")
    assert "int main" not in blanked and "make check" not in blanked
    assert "Run this:" in blanked and "Done now." in blanked


def test_prose_sentences_skip_a_signature_and_an_aside() -> None:
    text = (
        "[Function]\n    int asn1_read_value (asn1_node root, const char *name);\n\n"
        "HELP: what do other print systems do?\n\n"
        "Libtasn1 is a small library that parses ASN.1 structures.\n"
    )
    assert prose_sentences(text) == ["Libtasn1 is a small library that parses ASN.1 structures."]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "   Apache License\n   Version 2.0, January 2004\n\n   TERMS AND CONDITIONS\n",
            "Apache License Version 2.0, January 2004",
        ),
        (
            "CHMOD(1)   User Commands   CHMOD(1)\nNAME\n   chmod - change file mode bits\n",
            "chmod - change file mode bits",
        ),
        (
            "Users and Groups in the Debian System\n\nJoey Hess\n\nText follows here.\n",
            "Users and Groups in the Debian System",
        ),
        ("The board met on Friday. It approved the plan.", None),
    ],
)
def test_titles(text: str, title: str | None) -> None:
    assert find_title(text) == title


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "---\ntitle: A FAQ\nupdated: 2025-01-06\n---\n\n"
            "# Remote Work FAQ\n\nThis FAQ answers it.\n",
            "Remote Work FAQ",
        ),
        (
            "Home Local Business\n\nCouncil approves tram extension\n\nThe council voted on it.\n",
            "Council approves tram extension",
        ),
        (
            "Master Services Agreement: Acme and\nBeta Software\nThis Agreement is made today.\n",
            "Master Services Agreement: Acme and Beta Software",
        ),
        (
            "# Minutes of the Board, 3 March 2025\n\n"
            "**Location:** Head office, 48 King St\n\nThe board met.\n",
            "Minutes of the Board, 3 March 2025",
        ),
    ],
)
def test_front_matter_navigation_and_wrapped_titles(text: str, title: str) -> None:
    assert find_title(text) == title
