"""Excerpts of step inputs and values: single-line, redacted before they are cut, short,
remembered without missing a secret that becomes known later."""

from __future__ import annotations

import pytest

from eightflow.safety.excerpts import excerpt
from eightflow.safety.sanitize import REDACTED
from tests.safety.test_sanitize import (  # the secrets, and the fixture that sets one
    OPENAI,
    SERVICE_TOKEN,
    service_token,  # noqa: F401 (autouse: MY_SERVICE_TOKEN is a known secret here too)
)


def test_excerpt_is_single_line_sanitized_and_short() -> None:
    value = {"document": f"line one\n\nline two {OPENAI}\t" + "w " * 400}
    out = excerpt(value, limit=60)
    assert "\n" not in out and OPENAI not in out
    assert len(out) <= 60 + len("… [9999 more chars]")
    assert excerpt(f"  a\n b {SERVICE_TOKEN} ") == f"a b {REDACTED}"


def test_excerpt_of_a_model_names_its_fields_cuts_each_and_redacts() -> None:
    from pydantic import BaseModel

    class Doc(BaseModel):
        id: str
        text: str
        pages: int | None = None

    big = Doc(id="a.txt", text=f"{OPENAI} " + "word " * 200_000)
    out = excerpt({"document": big}, limit=300)
    assert out.startswith("document=Doc(id='a.txt', text='") and OPENAI not in out
    assert REDACTED in out and len(out) <= 300 + len("… [9999 more chars]")


def test_a_remembered_excerpt_redacts_a_key_set_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Excerpts are remembered (a document's steps repeat them); a secret that becomes
    known later is redacted in the very same text at once."""
    secret = "zq9" + "x" * 30
    text = f"document=the key is {secret}"
    assert secret in excerpt(text) and secret in excerpt(text)  # the second from memory
    monkeypatch.setenv("SOME_API_KEY", secret)
    assert secret not in excerpt(text)


def test_an_excerpt_of_many_values_stops_once_it_is_long_enough() -> None:
    class Costly:
        def __repr__(self) -> str:
            raise AssertionError("rendered although the excerpt was already full")

    out = excerpt({"document": "w " * 5_000, "later": Costly()}, limit=100)
    assert out.startswith("document='w w") and "later" not in out
