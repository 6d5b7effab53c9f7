"""A small, deterministic generator of JSON values that satisfy a JSON schema.

The stub server answers ``response_format={"type": "json_schema", ...}`` requests with an
instance of the requested schema, so that structured-output steps parse and validate just
as they would against a real model. It is deliberately not a general JSON-schema engine:
it covers what pydantic's ``model_json_schema()`` and OpenAI's strict structured outputs
produce (``$ref``/``$defs``, objects, arrays, tuples, scalars with bounds and formats,
``enum``/``const``, ``anyOf``/``oneOf``/``allOf``, nullable types).

Every leaf is derived from a hash of ``seed`` (the stub passes a digest of the last user
message) and the leaf's path, so different documents get different, yet reproducible,
answers; that lets tests tell outputs apart and compare runs byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["SchemaInstanceError", "instance_for_schema"]

# Past this nesting depth the generator switches to "minimal" choices (null branches,
# empty arrays, required properties only) so recursive schemas terminate.
_SOFT_DEPTH = 10
# Past this depth it gives up on the branch; only reachable by schemas that have no finite
# instance (an object that requires itself), which no real model could answer either.
_HARD_DEPTH = 40

_SCALAR_TYPES = ("string", "integer", "number", "boolean", "null", "object", "array")


class SchemaInstanceError(ValueError):
    """Raised when the schema uses a construct the generator cannot honour (e.g. a remote
    ``$ref``); the stub reports it as a 400 so the caller sees its own mistake."""


def instance_for_schema(schema: Mapping[str, Any] | bool, seed: str = "") -> Any:
    """Return a JSON-compatible value that is valid against ``schema``.

    ``seed`` varies the generated strings, numbers, booleans and enum choices; the same
    ``(schema, seed)`` always gives the same value.
    """
    root: Mapping[str, Any] = schema if isinstance(schema, Mapping) else {}
    return _Generator(root, seed).generate(schema, "$", 0)


class _Generator:
    def __init__(self, root: Mapping[str, Any], seed: str) -> None:
        self._root = root
        self._seed = seed

    # -- helpers -------------------------------------------------------------------------

    def _hash(self, path: str) -> int:
        digest = hashlib.sha256(f"{self._seed}\x00{path}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    def _hex(self, path: str, n: int = 8) -> str:
        return hashlib.sha256(f"{self._seed}\x00{path}".encode()).hexdigest()[:n]

    def _resolve_ref(self, ref: str) -> Mapping[str, Any] | bool:
        if not ref.startswith("#"):
            raise SchemaInstanceError(f"only local $ref values are supported, got {ref!r}")
        node: Any = self._root
        pointer = ref[1:]
        if pointer in ("", "/"):
            return self._root
        for raw in pointer.lstrip("/").split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise SchemaInstanceError(f"unresolvable $ref {ref!r}")
        if not isinstance(node, Mapping | bool):
            raise SchemaInstanceError(f"$ref {ref!r} does not point at a schema")
        return node

    def _deref(self, schema: Mapping[str, Any] | bool, depth: int) -> Mapping[str, Any] | bool:
        """Follow ``$ref`` chains, merging sibling keywords (allowed since draft 2019-09)."""
        hops = 0
        while isinstance(schema, Mapping) and "$ref" in schema:
            target = self._resolve_ref(str(schema["$ref"]))
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            if isinstance(target, bool):
                return siblings or target
            schema = {**target, **siblings}
            hops += 1
            if hops > _HARD_DEPTH:
                raise SchemaInstanceError("circular $ref chain")
        return schema

    def _merge_all_of(self, schema: Mapping[str, Any], depth: int) -> Mapping[str, Any]:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            resolved = self._deref(part, depth)
            if not isinstance(resolved, Mapping):
                continue
            if "allOf" in resolved:
                resolved = self._merge_all_of(resolved, depth)
            for key, value in resolved.items():
                if key == "properties" and isinstance(merged.get("properties"), Mapping):
                    merged["properties"] = {**merged["properties"], **value}
                elif key == "required" and isinstance(merged.get("required"), list):
                    merged["required"] = list(dict.fromkeys([*merged["required"], *value]))
                else:
                    merged.setdefault(key, value)
        return merged

    # -- dispatch ------------------------------------------------------------------------

    def generate(self, schema: Mapping[str, Any] | bool, path: str, depth: int) -> Any:
        if depth > _HARD_DEPTH:
            return None
        schema = self._deref(schema, depth)
        if schema is True or schema is False:
            return self._string({}, path) if schema else None
        assert isinstance(schema, Mapping)
        if "allOf" in schema:
            schema = self._merge_all_of(schema, depth)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            options = list(schema["enum"])
            return options[self._hash(path) % len(options)]
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                branch = self._pick_branch(schema, key, depth)
                return self.generate(branch, path, depth + 1)

        kind = self._type_of(schema, depth)
        if kind == "object":
            return self._object(schema, path, depth)
        if kind == "array":
            return self._array(schema, path, depth)
        if kind == "string":
            return self._string(schema, path)
        if kind == "integer":
            return self._integer(schema, path)
        if kind == "number":
            return self._number(schema, path)
        if kind == "boolean":
            return self._hash(path) % 2 == 0
        if kind == "null":
            return None
        return self._string(schema, path)

    def _pick_branch(self, schema: Mapping[str, Any], key: str, depth: int) -> Any:
        """First non-null branch, except deep in a recursive schema, where null (if the
        schema allows it) stops the recursion."""
        branches = list(schema[key])
        siblings = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}

        def with_siblings(branch: Any) -> Any:
            if siblings and isinstance(branch, Mapping):
                return {**siblings, **branch}
            return branch

        nulls = [b for b in branches if self._is_null(b, depth)]
        others = [b for b in branches if not self._is_null(b, depth)]
        if depth >= _SOFT_DEPTH and nulls:
            return with_siblings(nulls[0])
        return with_siblings(others[0] if others else branches[0])

    def _is_null(self, branch: Any, depth: int) -> bool:
        resolved = self._deref(branch, depth)
        return isinstance(resolved, Mapping) and resolved.get("type") == "null"

    def _type_of(self, schema: Mapping[str, Any], depth: int) -> str | None:
        declared = schema.get("type")
        if isinstance(declared, list):
            non_null = [t for t in declared if t != "null"]
            if depth >= _SOFT_DEPTH and "null" in declared:
                return "null"
            return str(non_null[0]) if non_null else "null"
        if isinstance(declared, str) and declared in _SCALAR_TYPES:
            return declared
        if "properties" in schema or "additionalProperties" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "multipleOf")):
            return "number"
        return None

    # -- composite types -----------------------------------------------------------------

    def _object(self, schema: Mapping[str, Any], path: str, depth: int) -> dict[str, Any]:
        properties: Mapping[str, Any] = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        minimal = depth >= _SOFT_DEPTH
        result: dict[str, Any] = {}
        for name, sub in properties.items():
            if minimal and name not in required:
                continue
            result[name] = self.generate(sub, f"{path}.{name}", depth + 1)
        extra = schema.get("additionalProperties")
        if not properties and isinstance(extra, Mapping) and not minimal:
            key = self._property_name(schema, path, depth)
            result[key] = self.generate(extra, f"{path}.{key}", depth + 1)
        return result

    def _property_name(self, schema: Mapping[str, Any], path: str, depth: int) -> str:
        names = self._deref(schema.get("propertyNames", {}), depth)
        if isinstance(names, Mapping):
            if "const" in names:
                return str(names["const"])
            if names.get("enum"):
                return str(names["enum"][0])
        return f"key-{self._hex(path + '#key', 4)}"

    def _array(self, schema: Mapping[str, Any], path: str, depth: int) -> list[Any]:
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            return [self.generate(s, f"{path}[{i}]", depth + 1) for i, s in enumerate(prefix)]
        min_items = int(schema.get("minItems", 0))
        max_items = schema.get("maxItems")
        if depth >= _SOFT_DEPTH:
            count = min_items
        else:
            count = max(min_items, 1 + self._hash(path + "#len") % 2)
        if max_items is not None:
            count = min(count, int(max_items))
        item_schema = schema.get("items", {})
        items = [self.generate(item_schema, f"{path}[{i}]", depth + 1) for i in range(count)]
        if schema.get("uniqueItems"):
            items = _unique(items, keep=max(min_items, 1))
        return items

    # -- scalars -------------------------------------------------------------------------

    def _string(self, schema: Mapping[str, Any], path: str) -> str:
        fmt = schema.get("format")
        tail = self._hex(path)
        if fmt == "date-time":
            value = f"2024-01-{1 + self._hash(path) % 28:02d}T12:00:00Z"
        elif fmt == "date":
            value = f"2024-01-{1 + self._hash(path) % 28:02d}"
        elif fmt == "time":
            value = f"12:{self._hash(path) % 60:02d}:00Z"
        elif fmt == "duration":
            value = f"PT{1 + self._hash(path) % 59}S"
        elif fmt == "email":
            value = f"stub-{tail}@example.com"
        elif fmt in ("uri", "url", "iri", "uri-reference"):
            value = f"https://example.com/{tail}"
        elif fmt == "uuid":
            value = str(uuid.UUID(self._hex(path, 32)))
        elif fmt == "ipv4":
            value = f"10.0.{self._hash(path) % 256}.{self._hash(path + '#2') % 256}"
        elif fmt == "hostname":
            value = f"host-{tail}.example.com"
        else:
            label = path.rsplit(".", 1)[-1].split("[", 1)[0]
            label = label if label and label != "$" else "text"
            value = f"{label}-{tail}"
        min_len = int(schema.get("minLength", 0))
        max_len = schema.get("maxLength")
        if len(value) < min_len:
            filler = self._hex(path + "#fill", 64)
            while len(value) < min_len:
                value += filler
            value = value[:min_len]
        if max_len is not None and len(value) > int(max_len):
            value = value[: int(max_len)]
        return value

    def _integer(self, schema: Mapping[str, Any], path: str) -> int:
        lo: int | None = None
        hi: int | None = None
        if "minimum" in schema:
            lo = math.ceil(schema["minimum"])
        if "exclusiveMinimum" in schema and not isinstance(schema["exclusiveMinimum"], bool):
            candidate = math.floor(schema["exclusiveMinimum"]) + 1
            lo = candidate if lo is None else max(lo, candidate)
        if "maximum" in schema:
            hi = math.floor(schema["maximum"])
        if "exclusiveMaximum" in schema and not isinstance(schema["exclusiveMaximum"], bool):
            candidate = math.ceil(schema["exclusiveMaximum"]) - 1
            hi = candidate if hi is None else min(hi, candidate)
        h = self._hash(path)
        if lo is not None and hi is not None:
            value = lo + h % (hi - lo + 1) if hi >= lo else lo
        elif lo is not None:
            value = lo + h % 10
        elif hi is not None:
            value = hi - h % 10
        else:
            value = h % 100
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0:
            up = math.ceil(value / step) * step
            down = math.floor(value / step) * step
            value = up if hi is None or up <= hi else down
        return value

    def _number(self, schema: Mapping[str, Any], path: str) -> float | int:
        if schema.get("multipleOf") is not None:
            return self._integer(schema, path)  # an integer is the safe multiple
        lo = schema.get("minimum")
        hi = schema.get("maximum")
        ex_lo = schema.get("exclusiveMinimum")
        ex_hi = schema.get("exclusiveMaximum")
        low = ex_lo if isinstance(ex_lo, int | float) and not isinstance(ex_lo, bool) else lo
        high = ex_hi if isinstance(ex_hi, int | float) and not isinstance(ex_hi, bool) else hi
        if isinstance(ex_lo, int | float) and lo is not None and not isinstance(ex_lo, bool):
            low = max(lo, ex_lo)
        if isinstance(ex_hi, int | float) and hi is not None and not isinstance(ex_hi, bool):
            high = min(hi, ex_hi)
        h = self._hash(path)
        if low is not None and high is not None:
            fraction = (1 + h % 998) / 1000  # strictly inside, honours exclusive bounds
            return float(low + (high - low) * fraction)
        if low is not None:
            return float(low + 1 + h % 100)
        if high is not None:
            return float(high - 1 - h % 100)
        return (h % 10000) / 100


def _unique(items: list[Any], keep: int) -> list[Any]:
    seen: set[str] = set()
    out: list[Any] = []
    for item in items:
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out if len(out) >= keep else items
