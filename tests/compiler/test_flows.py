"""eightflow's ``@flow``: plain parameters sent as Prefect would send them, without FastAPI."""

from __future__ import annotations

import datetime
import enum
import importlib
import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from prefect import Flow
from pydantic import BaseModel

from eightflow.compiler.flows import EightflowFlow, flow, is_plain_json

ROOT = Path(__file__).resolve().parents[2]


class Colour(enum.StrEnum):
    RED = "red"


class Options(BaseModel):
    folder: str = "docs"


class Text(str):
    pass


PLAIN: list[Any] = [
    "docs",
    "",
    0,
    -3,
    2.5,
    float("inf"),
    True,
    None,
    [],
    {},
    ["a", 1, None, [True]],
    {"folder": "docs", "nested": {"n": [1, 2.0]}},
]

NOT_PLAIN: list[Any] = [
    ("a", "b"),  # the encoder makes a list
    {"a"},  # a set (of one: its id is the same in every test worker)
    Path("docs"),
    Colour.RED,  # an Enum of str: its value
    Text("docs"),  # a str subclass
    Options(),
    datetime.date(2026, 12, 8),
    {1: "a"},  # not a str key
    {"_sa_instance_state": 1, "kept": 2},  # the encoder drops _sa keys
    ["ok", ("nested", "tuple")],
    {"deep": [Path("x")]},
]


def _body(**params: Any) -> None:
    return None


def _prefects(parameters: dict[str, Any]) -> dict[str, Any]:
    return Flow(fn=_body, name="reference").serialize_parameters(parameters)


@pytest.mark.parametrize("value", PLAIN, ids=repr)
def test_plain_values_are_sent_as_prefect_would_send_them(value: Any) -> None:
    assert is_plain_json(value)
    ours = flow(_body, name="ours").serialize_parameters({"p": value, "q": "x"})
    theirs = _prefects({"p": value, "q": "x"})
    assert ours == theirs
    assert repr(ours) == repr(theirs)  # the same types all the way down (1 stays 1, not 1.0)


@pytest.mark.parametrize("value", NOT_PLAIN, ids=repr)
def test_other_values_go_through_prefects_encoder(value: Any) -> None:
    assert not is_plain_json(value)
    ours = flow(_body, name="ours").serialize_parameters({"p": value, "q": "x"})
    assert ours == _prefects({"p": value, "q": "x"})


def test_a_depth_past_the_limit_goes_through_prefects_encoder() -> None:
    value: Any = "leaf"
    for _ in range(40):
        value = [value]
    assert not is_plain_json(value)
    assert flow(_body, name="ours").serialize_parameters({"p": value}) == _prefects({"p": value})


def test_the_decorator_takes_prefects_options_with_and_without_parentheses() -> None:
    bare = flow(_body)
    named = flow(name="named", log_prints=True, timeout_seconds=5)(_body)
    assert isinstance(bare, EightflowFlow) and isinstance(named, EightflowFlow)
    assert named.name == "named" and named.log_prints and named.timeout_seconds == 5


def _flow_modules() -> list[str]:
    return [f"eightflow_app.flows.{m.name}" for m in pkgutil.iter_modules([str(ROOT / "flows")])]


def test_every_flow_in_flows_is_an_eightflow_flow() -> None:
    found = []
    for name in _flow_modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, Flow) and getattr(value.fn, "__module__", "") == name:
                assert isinstance(value, EightflowFlow), f"{name}.{attr} uses prefect.flow"
                found.append(attr)
    assert len(found) >= 6, found  # batch, sharded, analysis, triage, review queue, timeout


def test_compiled_workflow_flows_are_eightflow_flows() -> None:
    from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow

    workflow = DocumentAnalysisWorkflow()
    built = workflow.compiled.build_flow(_body)
    assert isinstance(built, EightflowFlow)


def test_plain_parameters_do_not_import_fastapi() -> None:
    """The point of the shortcut: FastAPI's import is 0.13 s of every run's start."""
    code = textwrap.dedent(
        """
        import sys
        from eightflow.compiler.flows import flow

        def body(**params):
            return None

        flow(body, name="x").serialize_parameters({"folder": "docs", "n": [1, 2]})
        assert "fastapi" not in sys.modules, "fastapi was imported"
        flow(body, name="x").serialize_parameters({"when": __import__("pathlib").Path("x")})
        assert "fastapi" in sys.modules, "the fallback did not use Prefect's encoder"
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.prefect
@pytest.mark.parametrize(
    ("module", "imports_fastapi"), [("eightflow.compiler.flows", False), ("prefect", True)]
)
def test_a_flow_run_with_plain_parameters_leaves_fastapi_unimported(
    prefect_api: str, module: str, imports_fastapi: bool
) -> None:
    """A whole flow run against a real API: with Prefect's ``@flow`` the run's start
    imports FastAPI, with eightflow's it does not."""
    code = textwrap.dedent(
        f"""
        import sys
        from {module} import flow

        @flow(name="plain-parameters")
        def plain(folder: str, n: int = 1, tags: list[str] | None = None) -> int:
            return n

        state = plain("docs", n=2, tags=["a"], return_state=True)
        assert state.is_completed() and state.result() == 2, state
        print("fastapi" in sys.modules)
        """
    )
    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == str(imports_fastapi)
