"""A model's answer leaves the gateway without the secrets of its request."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from eightflow.gateway.answers import clean_answer, only_markers
from eightflow.safety.sanitize import REDACTED

URL = "postgresql://admin:Sup3rS3cretPass@db.internal:5432/ledger"
KEY = "sk-" + "Zq7" * 13 + "X"


class Entity(BaseModel):
    text: str
    type: str


class Entities(BaseModel):
    entities: list[Entity]
    note: str = ""
    tags: list[str] = []


def _request(document: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "Extract."}, {"role": "user", "content": document}]


def test_a_password_quoted_without_its_url_is_redacted() -> None:
    answer = Entities(
        entities=[
            Entity(text="Sup3rS3cretPass@db.internal", type="email"),
            Entity(text="Grace Kim", type="person"),
        ],
        note="reach Sup3rS3cretPass@db.internal",
    )
    clean = clean_answer(answer, _request(f"Connect with {URL} today. Grace Kim"))
    assert "Sup3rS3cretPass" not in clean.model_dump_json()
    assert clean.entities[1] == Entity(text="Grace Kim", type="person")
    assert clean.note == f"reach {REDACTED}@db.internal"


@pytest.mark.parametrize("secret", [KEY, "Sup3rS3cretPass"])
def test_an_entity_that_was_only_a_secret_is_dropped(secret: str) -> None:
    answer = Entities(
        entities=[Entity(text=secret, type="url"), Entity(text="Lisbon", type="place")],
        tags=[secret, "harbours"],
    )
    clean = clean_answer(answer, _request(f"key {KEY} and {URL} in Lisbon"))
    assert [e.text for e in clean.entities] == ["Lisbon"]
    assert clean.tags == ["harbours"]


def test_text_answers_and_nested_data_are_cleaned() -> None:
    request = _request(f"the key is {KEY}")
    assert clean_answer(f"it said {KEY}", request) == f"it said {REDACTED}"
    nested = clean_answer({"a": [{"b": KEY}, "ok"]}, request)
    assert KEY not in str(nested) and "ok" in str(nested)


def test_an_answer_without_secrets_is_returned_as_it_was() -> None:
    answer = Entities(entities=[Entity(text="Grace Kim", type="person")])
    assert clean_answer(answer, _request("Grace Kim met the board.")) is answer


def test_short_quoted_secrets_are_not_hunted_everywhere() -> None:
    # A five-letter password would redact every such word of the answer.
    clean = clean_answer("admin of the board", _request("redis://:admin@cache:6379/0"))
    assert clean == "admin of the board"


@pytest.mark.parametrize(
    ("text", "expected"),
    [(REDACTED, True), (f" {REDACTED}, {REDACTED}.", True), (f"{REDACTED}@db.internal", False),
     ("plain", False), ("", False)],
)  # fmt: skip
def test_only_markers(text: str, expected: bool) -> None:
    assert only_markers(text) is expected
