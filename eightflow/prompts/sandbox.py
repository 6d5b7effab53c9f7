"""The Jinja2 sandbox prompt files render in: no Python internals, bounded time and size.

A prompt file is data written by someone other than the operator, so its template may
reach no Python internals (Jinja2's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`:
no ``__globals__``, no ``__class__``, no mutation of what it is given), and it may not
spend the worker's memory or time: ``{{ 'a' * 300000000 }}`` or nested loops over large
ranges must end in an error, not a 1.2 GB process. :class:`PromptEnvironment`:

- checks, *before* computing it, the size of every value that can grow: string and list
  ``*``/``+``/``%``, ``**``, ``~`` (concatenation), the filters and ``str`` methods that
  can amplify (``replace``, ``join``, ``indent``, ``center``, ``wordwrap``, ``format``),
  and every value a ``{{ }}`` prints (:data:`MAX_RENDER_CHARS`);
- refuses the ``str`` methods that only pad or re-map (``center``, ``ljust``, ``zfill``,
  ``expandtabs``, ``translate``, ``format``...), and offers a ``range`` of at most
  :data:`MAX_RANGE` items and no ``lipsum``;
- checks the wall clock (:data:`MAX_RENDER_SECONDS`) on every loop iteration, call,
  filter and printed value, so no loop, recursion or macro runs on unseen.

A breach raises :class:`RenderLimit`; :mod:`eightflow.prompts` turns it into an error that
names the prompt file.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import jinja2
import jinja2.sandbox
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame

MAX_RENDER_CHARS = 4_000_000
"""Largest rendered prompt or intermediate value: far beyond any model's context window."""
MAX_RENDER_SECONDS = 5.0
"""Longest a prompt may take to render (a real one takes well under a millisecond)."""
MAX_RANGE = 10_000
"""Most items ``range()`` yields in a prompt template."""
_MAX_INT_BITS = 8 * MAX_RENDER_CHARS

# ``str`` methods that pad, re-map or format: a prompt never needs them, and each can turn
# a short call into gigabytes. Everything else a string offers is bounded by its input.
_REFUSED_STR_METHODS = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "translate", "maketrans", "format"}
    | {"format_map", "encode"}
)


class RenderLimit(Exception):
    """A prompt template went past a time or size limit."""


_deadline: ContextVar[float] = ContextVar("eightflow_prompt_deadline", default=float("inf"))


def _check_clock() -> None:
    if time.monotonic() > _deadline.get():
        raise RenderLimit(f"took longer than {MAX_RENDER_SECONDS:g} s to render")


def _too_big(what: str, size: int) -> RenderLimit:
    return RenderLimit(f"{what} would be {size:,} characters (limit {MAX_RENDER_CHARS:,})")


def size_of(value: Any, budget: int = MAX_RENDER_CHARS) -> int:
    """About how many characters ``str(value)`` makes, counted without making it; the
    count stops a little past ``budget``."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() // 3 + 1
    if isinstance(value, Mapping):
        items: Iterable[Any] = (x for kv in value.items() for x in kv)
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    else:
        return 16
    total = 2
    for item in items:
        total += size_of(item, budget - total) + 2
        if total > budget:
            break
    return total


def _check_size(what: str, *values: Any) -> None:
    total = 0
    for value in values:
        total += size_of(value, MAX_RENDER_CHARS - total)
        if total > MAX_RENDER_CHARS:
            raise _too_big(what, total)


_WIDTH = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?|\{[^{}]*:[^{}]*?(\d+)")


def _check_format(spec: Any, *args: Any) -> None:
    """``'%999999999s' % x`` and ``'{:>999999999}'``: widths count as characters."""
    _check_size("a formatted value", spec, *args)
    if not isinstance(spec, str):
        return
    for match in _WIDTH.finditer(spec):
        for width in match.groups():
            if width == "*":
                raise RenderLimit("a '*' width in a format string is not allowed")
            if width and int(width) > MAX_RENDER_CHARS:
                raise _too_big("a formatted value", int(width))


def _check_repeat(left: Any, right: Any) -> None:
    sequence, count = (left, right) if isinstance(right, int) else (right, left)
    if isinstance(sequence, str | list | tuple) and isinstance(count, int):
        size = size_of(sequence) * max(count, 0)
        if size > MAX_RENDER_CHARS:
            raise _too_big("a repeated value", size)
    elif (
        isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() > _MAX_INT_BITS
    ):
        raise _too_big("a product", (left.bit_length() + right.bit_length()) // 3)


def _check_power(base: Any, exponent: Any) -> None:
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and max(base.bit_length(), 1) * exponent > _MAX_INT_BITS
    ):
        raise RenderLimit(f"a power with exponent {exponent:,} is too large")


_BINOP_CHECKS: dict[str, Callable[[Any, Any], None]] = {
    "*": _check_repeat,
    "**": _check_power,
    "+": lambda a, b: _check_size("a sum", a, b),
    "%": _check_format,
}


def _replace_size(s: Any, old: Any = "", new: Any = "", count: Any = None, *_: Any) -> int:
    text, old, new = str(s), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * len(new)


def _check_replace(*args: Any, **kwargs: Any) -> None:
    size = _replace_size(*args, **kwargs)
    if size > MAX_RENDER_CHARS:
        raise _too_big("a replace", size)


def _check_join(separator: Any, items: list[Any]) -> None:
    size = size_of(items) + len(str(separator)) * len(items)
    if size > MAX_RENDER_CHARS:
        raise _too_big("a join", size)


def _check_indent(s: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    text = str(s)
    pad = width if isinstance(width, int) else len(str(width))
    size = len(text) + (text.count("\n") + 1) * max(pad, 0)
    if size > MAX_RENDER_CHARS:
        raise _too_big("an indent", size)


def _check_padding(s: Any, width: Any = 80, *_: Any, **__: Any) -> None:
    if isinstance(width, int) and width > MAX_RENDER_CHARS:
        raise _too_big("a padded value", width)


def _check_wordwrap(s: Any, width: Any = 79, *args: Any, **kwargs: Any) -> None:
    wrap = kwargs.get("wrapstring") or (args[1] if len(args) > 1 else None) or "\n"
    size = len(str(s)) * (1 + len(str(wrap)))
    if size > MAX_RENDER_CHARS:
        raise _too_big("a word wrap", size)


def _check_tojson(value: Any, indent: Any = None, *_: Any, **__: Any) -> None:
    pad = indent if isinstance(indent, int) else len(str(indent or ""))
    size = size_of(value) * (1 + max(pad, 0))
    if size > MAX_RENDER_CHARS:
        raise _too_big("a JSON dump", size)


def _check_urlize(s: Any, *args: Any, **kwargs: Any) -> None:
    """Each link found gets the extra attributes: at most one link per 4 characters."""
    extra = sum(size_of(v) for v in (*args, *kwargs.values()) if isinstance(v, str))
    text = str(s)
    size = len(text) + (len(text) // 4 + 1) * extra
    if size > MAX_RENDER_CHARS:
        raise _too_big("an urlize", size)


def _guarded_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """``original`` with the clock checked and its input (and, for an amplifying filter,
    its output) sized first. Jinja2's pass_* markers are kept by ``functools.wraps``."""
    passes = getattr(original, "jinja_pass_arg", None)
    skip = 1 if passes is not None else 0

    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_clock()
        given = args[skip:]
        if name == "join" and given:
            items = list(given[0])
            separator = given[1] if len(given) > 1 else kwargs.get("d", "")
            _check_join(separator, items)
            return original(*args[:skip], items, *given[1:], **kwargs)
        _check_size(f"the input of the filter '{name}'", *given, *kwargs.values())
        check = _FILTER_CHECKS.get(name)
        if check is not None:
            check(*given, **kwargs)
        return original(*args, **kwargs)

    return guarded


_FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "replace": _check_replace,
    "indent": _check_indent,
    "center": _check_padding,
    "wordwrap": _check_wordwrap,
    "format": _check_format,
    "tojson": _check_tojson,
    "urlize": _check_urlize,
}


def _safe_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise RenderLimit(f"range() of {len(numbers):,} items (limit {MAX_RANGE:,})")
    return numbers


def _no_lipsum(*_: Any, **__: Any) -> str:
    raise RenderLimit("lipsum() is not available in a prompt")


class _GuardedLoops(CodeGenerator):
    """Compiles every ``{% for %}`` over ``environment.guard_loop(...)`` and every ``~``
    through ``environment.guard_concat(...)``."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        guarded = nodes.Call(nodes.EnvironmentAttribute("guard_loop"), [node.iter], [], None, None)
        loop = nodes.For(node.target, guarded, node.body, node.else_, node.test, node.recursive)
        loop.set_lineno(node.lineno)
        super().visit_For(loop, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.guard_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class PromptEnvironment(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """The sandbox with time and size limits (see the module's docstring)."""

    code_generator_class = _GuardedLoops
    intercepted_binops = frozenset(_BINOP_CHECKS)

    def __init__(self) -> None:
        super().__init__(
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            finalize=self._finalize,
        )
        self.globals["lipsum"] = _no_lipsum
        self.globals["range"] = _safe_range
        self.filters = {name: _guarded_filter(name, f) for name, f in self.filters.items()}

    @staticmethod
    def _finalize(value: Any) -> Any:
        _check_clock()
        _check_size("a printed value", value)
        return value

    def guard_loop(self, iterable: Any) -> Iterator[Any]:
        for item in iterable:
            _check_clock()
            yield item

    def guard_concat(self, parts: tuple[Any, ...]) -> str:
        _check_clock()
        _check_size("a concatenation", *parts)
        return "".join(str(part) for part in parts)

    def wrap_str_format(self, value: Any) -> None:
        return None  # ``str.format`` is refused (``is_safe_attribute``), not wrapped

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in _REFUSED_STR_METHODS:
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        _check_clock()
        _BINOP_CHECKS[operator](left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_clock()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            if name == "replace":
                _check_replace(owner, *args, **kwargs)
            elif name == "join" and args:
                items = list(args[0])
                _check_join(owner, items)
                args = (items, *args[1:])
        return super().call(__context, __obj, *args, **kwargs)


def render_bounded(template: jinja2.Template, values: Mapping[str, Any]) -> str:
    """``template`` rendered with ``values`` under the time and size limits."""
    token = _deadline.set(time.monotonic() + MAX_RENDER_SECONDS)
    try:
        chunks: list[str] = []
        total = 0
        for chunk in template.generate(**values):
            total += len(chunk)
            if total > MAX_RENDER_CHARS:
                raise _too_big("the rendered prompt", total)
            chunks.append(chunk)
        _check_clock()
        return "".join(chunks)
    finally:
        _deadline.reset(token)
