"""A workflow definition: steps, their graph, policies, limits and success criteria.

Validated when built, so a wrong graph fails at import time with the offending step named,
not halfway through a paid run. The definition knows nothing of Prefect; the compiler
(``eightflow.compiler``) turns it into a flow.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from eightflow.definition.criteria import Criterion
from eightflow.definition.policy import Recovery, RetryPolicy
from eightflow.definition.review import ReviewRule
from eightflow.definition.step import Step
from eightflow.definition.targets import PerformanceTargets
from eightflow.errors import WorkflowDefinitionError


class WorkflowDefinition(BaseModel):
    """The explicit definition of a workflow.

    Resource limits: ``timeout_seconds`` bounds the whole run; ``max_tokens`` and
    ``max_cost_usd`` bound what one run may spend on models (crossing one raises
    ``BudgetExceeded`` and no further model call starts); ``max_concurrency`` bounds model
    calls in flight. ``fallback_models`` are tried in order when a step's model fails for
    good and ``on_failure`` does not decide otherwise.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    steps: tuple[Step, ...]
    description: str = ""
    on_failure: Callable[..., Recovery] | None = None
    success_criteria: tuple[Criterion, ...] = ()
    timeout_seconds: float | None = Field(default=None, gt=0)
    max_tokens: int | None = Field(default=None, gt=0)
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_concurrency: int = Field(default=8, ge=1, le=1024)
    fallback_models: tuple[str, ...] = ()
    default_retry_policy: RetryPolicy = Field(default_factory=RetryPolicy.none)
    targets: PerformanceTargets = Field(default_factory=PerformanceTargets)
    review: tuple[ReviewRule, ...] = ()

    @field_validator("steps", mode="before")
    @classmethod
    def _steps_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("success_criteria", mode="before")
    @classmethod
    def _criteria(cls, value: Any) -> Any:
        return tuple(Criterion.of(v) for v in (value or ()))

    @field_validator("review", mode="before")
    @classmethod
    def _review_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("fallback_models", mode="before")
    @classmethod
    def _models(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else tuple(value or ())

    @model_validator(mode="after")
    def _validate_graph(self) -> WorkflowDefinition:
        if not self.steps:
            raise WorkflowDefinitionError(f"workflow '{self.name}' has no steps")
        seen: set[str] = set()
        for step in self.all_steps():
            if step.name in seen:
                raise WorkflowDefinitionError(
                    f"duplicate step name '{step.name}' in workflow '{self.name}'",
                    step=step.name,
                )
            seen.add(step.name)
        for step in self.all_steps():
            for dep in step.depends_on:
                if dep not in seen:
                    raise WorkflowDefinitionError(
                        f"step '{step.name}' depends on unknown step '{dep}'", step=step.name
                    )
                if dep == step.name:
                    raise WorkflowDefinitionError(
                        f"step '{step.name}' depends on itself", step=step.name
                    )
        self._check_cycles()
        self._check_declared_outputs()
        names = [rule.name for rule in self.review]
        for rule in self.review:
            if rule.step not in seen:
                raise WorkflowDefinitionError(
                    f"review rule '{rule.name}' names unknown step '{rule.step}'", step=rule.step
                )
            if names.count(rule.name) > 1:
                raise WorkflowDefinitionError(f"duplicate review rule name '{rule.name}'")
        return self

    def with_review_below(self, threshold: float) -> WorkflowDefinition:
        """This definition with every confidence review rule on, at ``threshold``."""
        rules = tuple(
            ReviewRule.model_validate(
                {**dict(rule), "confidence_below": threshold, "enabled": True}
            )
            if rule.confidence_below is not None
            else rule
            for rule in self.review
        )
        return self.model_copy(update={"review": rules})

    # -- graph ------------------------------------------------------------------------

    def all_steps(self) -> Iterator[Step]:
        """Every step, groups and their sub-steps, in definition order."""
        for step in self.steps:
            yield from step.walk()

    def step(self, name: str) -> Step:
        for step in self.all_steps():
            if step.name == name:
                return step
        raise KeyError(name)

    @cached_property
    def parents(self) -> dict[str, str]:
        """Sub-step name -> name of the parallel group that holds it."""
        out: dict[str, str] = {}
        for step in self.all_steps():
            for sub in step.substeps:
                out[sub.name] = step.name
        return out

    @cached_property
    def leaves(self) -> tuple[Step, ...]:
        """Steps that run a handler (groups are expanded into their sub-steps)."""
        return tuple(s for s in self.all_steps() if not s.is_parallel)

    def _leaves_of(self, name: str) -> list[str]:
        step = self.step(name)
        if not step.is_parallel:
            return [name]
        return [leaf.name for sub in step.substeps for leaf in _leaf_walk(sub)]

    @cached_property
    def leaf_dependencies(self) -> dict[str, tuple[str, ...]]:
        """For each leaf, the leaves it must wait for (groups expanded, inherited deps)."""
        deps: dict[str, tuple[str, ...]] = {}
        for leaf in self.leaves:
            names: list[str] = []
            node: str | None = leaf.name
            while node is not None:  # a sub-step inherits its group's dependencies
                for dep in self.step(node).depends_on:
                    names.extend(self._leaves_of(dep))
                node = self.parents.get(node)
            deps[leaf.name] = tuple(dict.fromkeys(names))
        return deps

    @cached_property
    def ancestors(self) -> dict[str, frozenset[str]]:
        """For each leaf, every leaf it depends on directly or through others."""
        memo: dict[str, frozenset[str]] = {}

        def visit(name: str) -> frozenset[str]:
            if name not in memo:
                acc: set[str] = set()
                for dep in self.leaf_dependencies[name]:
                    acc.add(dep)
                    acc |= visit(dep)
                memo[name] = frozenset(acc)
            return memo[name]

        for leaf in self.leaves:
            visit(leaf.name)
        return memo

    def topological_order(self) -> list[str]:
        """Leaves in an order where every step comes after its dependencies."""
        order: list[str] = []
        done: set[str] = set()
        for leaf in self.leaves:
            self._visit(leaf.name, done, order, [])
        return order

    def _visit(self, name: str, done: set[str], order: list[str], path: list[str]) -> None:
        if name in done:
            return
        if name in path:
            cycle = [*path[path.index(name) :], name]
            raise WorkflowDefinitionError("dependency cycle: " + " -> ".join(cycle), step=cycle[0])
        path.append(name)
        for dep in self.leaf_dependencies[name]:
            self._visit(dep, done, order, path)
        path.pop()
        done.add(name)
        order.append(name)

    def _check_cycles(self) -> None:
        # A sub-step depending on its own group first (it would otherwise read as a cycle),
        # then cycles through groups, which show up as cycles between their leaves.
        for step in self.all_steps():
            for sub in step.substeps:
                for inner in sub.walk():
                    group = {s.name for s in step.walk()}
                    for dep in inner.depends_on:
                        if dep == step.name:
                            why = "its own group"
                        elif dep in group:
                            why = f"'{dep}' of the same group (sub-steps of a group run together)"
                        else:
                            continue
                        raise WorkflowDefinitionError(
                            f"step '{inner.name}' inside parallel step '{step.name}' depends "
                            f"on {why}",
                            step=inner.name,
                        )
        self.topological_order()

    def _check_declared_outputs(self) -> None:
        owner: dict[str, str] = {}
        for leaf in self.leaves:
            for field in leaf.outputs:
                if field in owner:
                    raise WorkflowDefinitionError(
                        f"output '{field}' is written by both step '{owner[field]}' and "
                        f"step '{leaf.name}'",
                        step=leaf.name,
                    )
                owner[field] = leaf.name

    # -- presentation -------------------------------------------------------------------

    def to_mermaid(self) -> str:
        """The DAG as a Mermaid flowchart; parallel groups become subgraphs."""
        lines = ["flowchart TD"]

        def node(step: Step, indent: str) -> None:
            if step.is_parallel:
                lines.append(f"{indent}subgraph {_mid(step.name)}[{step.name}]")
                for sub in step.substeps:
                    node(sub, indent + "  ")
                lines.append(f"{indent}end")
            else:
                lines.append(f'{indent}{_mid(step.name)}["{step.name}"]')

        for step in self.steps:
            node(step, "  ")
        for step in self.all_steps():
            for dep in step.depends_on:
                lines.append(f"  {_mid(dep)} --> {_mid(step.name)}")
        return "\n".join(lines)

    def to_text(self, version: str | None = None) -> str:
        """The DAG as indented text, one step a line, dependencies after the arrow."""
        lines = [f"{self.name} (version {version or self.version_hash()})"]

        def node(step: Step, depth: int) -> None:
            deps = f" <- {', '.join(step.depends_on)}" if step.depends_on else ""
            policy = step.retry_policy or self.default_retry_policy
            retry = f"  [attempts={policy.max_attempts}]" if policy.max_attempts > 1 else ""
            kind = " (parallel)" if step.is_parallel else ""
            lines.append(f"{'  ' * depth}- {step.name}{kind}{deps}{retry}")
            for sub in step.substeps:
                node(sub, depth + 1)

        for step in self.steps:
            node(step, 1)
        return "\n".join(lines)

    # -- identity -----------------------------------------------------------------------

    def version_hash(self, prompt_fingerprints: Mapping[str, str] | None = None) -> str:
        """A stable hash over steps, graph, policies, limits, handler code and prompts.

        It becomes the Prefect flow's version, so a changed prompt or handler shows up as a
        new version in the UI and in the ledger.
        """
        payload = {
            "name": self.name,
            "steps": [_step_fingerprint(s) for s in self.all_steps()],
            "limits": [
                self.timeout_seconds,
                self.max_tokens,
                self.max_cost_usd,
                self.max_concurrency,
            ],
            "fallback_models": list(self.fallback_models),
            "default_retry": self.default_retry_policy.model_dump(),
            "criteria": [c.name for c in self.success_criteria],
            **({"review": [r.fingerprint() for r in self.review]} if self.review else {}),
            "prompts": dict(sorted((prompt_fingerprints or {}).items())),
        }
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def prompt_ids(self) -> list[str]:
        return sorted({p for s in self.all_steps() for p in s.prompts})


def _leaf_walk(step: Step) -> Iterator[Step]:
    for s in step.walk():
        if not s.is_parallel:
            yield s


def _mid(name: str) -> str:
    return name.replace("-", "_")


def _step_fingerprint(step: Step) -> dict[str, Any]:
    source = ""
    if not step.is_parallel:
        fn: Any = getattr(step.handler, "__func__", step.handler)
        try:
            source = hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()[:12]
        except (OSError, TypeError):
            source = step.handler_name()
    return {
        "name": step.name,
        "handler": step.handler_name(),
        "source": source,
        "depends_on": list(step.depends_on),
        "retry": step.retry_policy.model_dump() if step.retry_policy else None,
        "timeout": step.timeout_seconds,
        "outputs": list(step.outputs),
        "model": step.model,
        "prompts": list(step.prompts),
    }
