"""The shape of a run's output when the task gave no `data_extraction_schema`.

A task such as "get the price of the Watering Can" ends with an output ("$12.50") but no
schema. Its code rerun must still give the output, read from the rerun's page: publishing
describes the output's shape as a JSON schema, which the extraction plan (or, without one, the
rerun's single model call) then fills. The schema says only what the output showed: types,
the keys of objects (all required), one item shape per list.
"""

from __future__ import annotations

from typing import Any

_SCALARS: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),  # before int: a bool is an int in Python
    (int, "integer"),
    (float, "number"),
    (str, "string"),
)


def rerun_schema(schema: dict[str, Any] | None, output: Any) -> dict[str, Any] | None:
    """What a rerun extracts: the run's own schema, else the shape of its output."""
    return schema if schema is not None else schema_of(output)


def schema_of(output: Any) -> dict[str, Any] | None:
    """A JSON schema that `output` fits; None for an output with nothing to extract (None, or
    an empty list/object whose items cannot be described)."""
    if output is None:
        return None
    for kind, name in _SCALARS:
        if isinstance(output, kind):
            return {"type": name}
    if isinstance(output, list):
        items = [schema_of(item) for item in output]
        described = [item for item in items if item is not None]
        if not described:
            return None
        return {"type": "array", "items": _widest(described)}
    if isinstance(output, dict):
        properties = {key: schema_of(value) for key, value in output.items()}
        if not any(properties.values()):
            return None
        kept = {key: value for key, value in properties.items() if value is not None}
        return {"type": "object", "properties": kept, "required": list(kept)}
    return None


def _widest(schemas: list[dict[str, Any]]) -> dict[str, Any]:
    """One schema for a list's items: the first, with object keys that some items lack left
    optional (a product list where one product has no rating)."""
    first = schemas[0]
    if first.get("type") != "object" or len(schemas) == 1:
        return first
    properties: dict[str, Any] = {}
    for schema in schemas:
        for key, value in schema.get("properties", {}).items():
            properties.setdefault(key, value)
    required = [key for key in properties if all(key in s.get("properties", {}) for s in schemas)]
    return {"type": "object", "properties": properties, "required": required}
