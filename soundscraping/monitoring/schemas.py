"""JSON Schemas of the items, generated from the item classes
(soundscraping/items.py) and the storage schema (storage.TABLES), never
written out a second time.  spidermon validates every scraped item against
its class's schema (``SPIDERMON_VALIDATION_SCHEMAS``).

From the dataclass: each field's JSON type (``int | None`` -> integer or
null), lists and nested items (a graph page's users and edges), and which
fields are required (those without a default: the row's identity).  From the
table: the column kind adds a format (``timestamp`` -> RFC 3339 date-time,
``date`` -> full-date), so a page that changed its dates shows up as invalid.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from typing import Any

from soundscraping import items
from soundscraping.storage import TABLES

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_SCALARS: dict[type, str] = {bool: "boolean", int: "integer", float: "number", str: "string"}
_FORMATS = {"timestamp": "date-time", "date": "date"}


def item_classes() -> list[type]:
    """Every dataclass item the spiders yield: rows (with a ``table``) and
    batches of rows (with ``parts()``)."""
    return [cls for _, cls in inspect.getmembers(items, inspect.isclass)
            if dataclasses.is_dataclass(cls) and cls.__module__ == items.__name__
            and (hasattr(cls, "table") or callable(getattr(cls, "parts", None)))]


def _type_schema(annotation: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [_type_schema(a, defs) for a in typing.get_args(annotation)]
        if all(set(o) == {"type"} for o in options):
            # ["integer", "null"] rather than anyOf: the same rule, checked several times faster
            return {"type": [o["type"] for o in options]}
        return {"anyOf": options}
    if annotation is type(None):
        return {"type": "null"}
    if origin in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return {"type": "array", **({"items": _type_schema(args[0], defs)} if args else {})}
    if origin is dict or annotation is dict:
        return {"type": "object"}
    if annotation in _SCALARS:
        return {"type": _SCALARS[annotation]}
    if dataclasses.is_dataclass(annotation):
        defs.setdefault(annotation.__name__, {})  # placeholder first: recursion stops here
        defs[annotation.__name__] = _object_schema(annotation, defs)
        return {"$ref": f"#/$defs/{annotation.__name__}"}
    if annotation is Any:
        return {}
    raise TypeError(f"no JSON type for {annotation!r}")


def _object_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    table = TABLES.get(getattr(cls, "table", ""))
    kinds = {c.name: c.kind for c in table.columns} if table else {}
    properties: dict[str, Any] = {}
    required = []
    for f in dataclasses.fields(cls):
        schema = _type_schema(hints[f.name], defs)
        if fmt := _FORMATS.get(kinds.get(f.name, "")):
            schema = _with_format(schema, fmt)
        properties[f.name] = schema
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    return {"type": "object", "title": cls.__name__, "properties": properties, "required": required,
            "additionalProperties": False}


def _with_format(schema: dict[str, Any], fmt: str) -> dict[str, Any]:
    kind = schema.get("type")
    if kind == "string" or (isinstance(kind, list) and "string" in kind):
        return {**schema, "format": fmt}  # a format applies to strings only: null stays valid
    if "anyOf" in schema:
        return {"anyOf": [_with_format(s, fmt) for s in schema["anyOf"]]}
    return schema


@functools.cache
def item_schema(cls: type) -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of one item class."""
    defs: dict[str, Any] = {}
    schema = {"$schema": DRAFT, **_object_schema(cls, defs)}
    if defs:
        schema["$defs"] = defs
    return schema


def validation_schemas() -> dict[type, dict[str, Any]]:
    """``SPIDERMON_VALIDATION_SCHEMAS``: item class -> its schema."""
    return {cls: item_schema(cls) for cls in item_classes()}
