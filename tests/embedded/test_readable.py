"""Summaries a reader accepts: the cleaner, and every shipped document's summary judged by
the evaluator's own checks (which use the detectors of eightflow.embedded.readable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eightflow.embedded import summarize
from eightflow.embedded.readable import strip_markup, unreadable
from eightflow.evaluation.summary_checks import (
    MAX_SUMMARY_CHARS,
    MAX_SUMMARY_SENTENCES,
    is_clean,
    sentences,
    summary_problems,
    within_length,
)
from eightflow.registry import load_workflow

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    [*(ROOT / "examples" / "documents").iterdir(), *(ROOT / "examples/eval/real/docs").iterdir()]
)


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("The parser is <em>fast</em>.", "The parser is fast."),
        ("It is __bold__ and **strong**.", "It is bold and strong."),
        ("You *may not* use it.", "You may not use it."),
        ("See [the docs](https://example.org) first.", "See the docs first."),
        ("Read [Documentation/howto.txt][] now.", "Read Documentation/howto.txt now."),
        ("Run `make install` or ``make``.", "Run make install or make."),
        (
            "An implementation of `RFC 7519 <https://x.org/rfc7519>`_.",
            "An implementation of RFC 7519.",
        ),
        ("Jansson_ is a C library.", "Jansson is a C library."),
        ("| | | The Valgrind Quick Start Guide |", "The Valgrind Quick Start Guide"),
        # near misses: what is not markup stays as it is
        ("Use file_name and 2 * 3 * 4 here.", "Use file_name and 2 * 3 * 4 here."),
        ("Mail <bug-patch@gnu.org> about it.", "Mail <bug-patch@gnu.org> about it."),
    ],
)
def test_strip_markup_keeps_the_words(text: str, cleaned: str) -> None:
    assert strip_markup(text) == cleaned


@pytest.mark.parametrize(
    ("text", "rejected"),
    [
        ("GNU Wget is a free utility for non-interactive download of files.", False),
        ("Run ls(1) to list files; C++ and Python bindings exist.", False),
        ("Main Menu Home Introduction Documentation Download", True),
        ("dash (0.5.12-2) unstable; urgency=medium", True),
        ("* src/main.c (main): Fix a leak.", True),
        ("if (x == 1) return y;", True),
        ("| name | value | kind |", True),
        ("Title ======== follows.", True),
        ("Run git help <commandname> for more.", True),
        ("src/grep.c (main): Fix the leak.", True),
        ("The main.c file (the entry point): it opens the window.", False),
    ],
)
def test_unreadable_sentences(text: str, rejected: bool) -> None:
    assert unreadable(text) is rejected


@pytest.fixture(scope="module")
def read_document():  # type: ignore[no-untyped-def]
    workflow = load_workflow("document_analysis")

    def read(path: Path) -> str:
        document = workflow.inputs_from_path(str(path)).get("document")
        return str(getattr(document, "text", document))

    return read


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_document_gets_a_clean_short_summary(path: Path, read_document) -> None:  # type: ignore[no-untyped-def]
    summary = summarize(read_document(path))["summary"]
    problems = summary_problems(summary)
    assert is_clean(problems) and within_length(problems), (summary, problems)


@pytest.mark.parametrize(
    ("document", "wanted", "unwanted"),
    [
        (  # the ncurses FAQ: sentences naming the subject win over xterm trivia
            "# NCURSES FAQ\n\nThe xterm program emulates a terminal and the xterm menus "
            "set xterm fonts. Xterm resources configure xterm colours and xterm keys. "
            "Ncurses is a library that lets programs draw text screens on any terminal. "
            "The xterm title can be set by xterm escape codes in xterm. "
            "Some xterm builds lack xterm features that xterm users want. "
            "Ncurses programs run on xterm as well as on the Linux console. "
            "An xterm window resizes and xterm reports the size to xterm clients. "
            "Xterm scrollback is kept by xterm.\n",
            "Ncurses is a library",
            "Xterm scrollback",
        ),
        (  # a page that opens with its navigation menu
            "Main Menu Home Introduction Documentation Download\n\n# Pixelfox image tools\n\n"
            "Pixelfox converts images between formats. It resizes <em>huge</em> files in "
            "__seconds__. It runs on Linux, macOS and Windows. Pixelfox is free software.\n",
            "Pixelfox converts images between formats.",
            "Main Menu",
        ),
        (  # a changelog: no header line, no file entry, whole sentences
            "grep (3.8-5) unstable; urgency=medium\n\n  * Remove the wrapper patch.\n"
            "  * src/grep.c (main): Fix the leak.\n  * Set upstream metadata fields.\n\n"
            " -- Jane Doe <jane@example.org>  Mon, 02 Jan 2023 10:00:00 +0000\n",
            "Remove the wrapper patch.",
            "urgency",
        ),
    ],
)
def test_summaries_prefer_the_subject_and_skip_code(
    document: str, wanted: str, unwanted: str
) -> None:
    summary = summarize(document)["summary"]
    assert wanted in summary and unwanted not in summary
    assert not summary_problems(summary)


def test_a_credit_list_is_never_spliced_into_another_persons_sentence() -> None:
    thanks = (
        "THANKS\n\nJohn Smith wrote the original parser in 1998.\n"
        "Jane Doe ported the program to Windows.\nAli Khan fixed the build on macOS.\n"
        "Maria Rossi translated the manual into Italian and Spanish for the project.\n"
    )
    result = summarize(thanks)
    originals = set(thanks.split("\n"))
    assert result["key_points"]
    assert all(point in originals for point in result["key_points"])


def test_a_credit_list_laid_out_in_columns_is_not_quoted_as_a_sentence() -> None:
    # the splitter joins these lines into one unit: "... the installer John Smith tested ..."
    thanks = (
        "THANKS\n\n"
        "Jane Doe             wrote the original Windows port and the installer scripts\n"
        "John Smith           tested every release candidate on Solaris and HP-UX boxes\n"
        "Maria Rossi          translated the manual into Italian, Spanish and Portuguese\n"
    )
    result = summarize(thanks)
    assert result["summary"] == "THANKS"
    assert result["key_points"] == []


@pytest.mark.parametrize("max_sentences", [1, 3, 8])
def test_the_summary_stays_within_the_limits_whatever_is_asked(max_sentences: int) -> None:
    text = " ".join(
        f"Sentence {i} says that the river system {i} has a long story." for i in range(80)
    )
    summary = summarize(text, max_sentences=max_sentences)["summary"]
    assert len(summary) <= MAX_SUMMARY_CHARS
    assert len(sentences(summary)) <= min(max_sentences, MAX_SUMMARY_SENTENCES)
