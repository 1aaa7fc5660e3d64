"""The shape a rerun extracts when the task gave no schema: the shape of the run's output."""

from __future__ import annotations

import jsonschema

from wayfinder.scripts.output_schema import rerun_schema, schema_of


def test_the_schema_fits_the_output_it_was_made_from() -> None:
    outputs = [
        "$12.50",
        3,
        4.5,
        True,
        {"name": "Watering Can", "price": 12.5, "in_stock": True},
        [{"name": "Hammer", "rating": 4.1}, {"name": "Wrench"}],
        {"products": [{"name": "Hammer"}, {"name": "Wrench"}]},
    ]
    for output in outputs:
        schema = schema_of(output)
        assert schema is not None, output
        jsonschema.validate(output, schema)


def test_an_item_missing_a_key_leaves_that_key_optional() -> None:
    schema = schema_of([{"name": "Hammer", "rating": 4.1}, {"name": "Wrench"}])
    assert schema is not None
    assert schema["items"]["required"] == ["name"]
    assert set(schema["items"]["properties"]) == {"name", "rating"}
    assert schema_of(True) == {"type": "boolean"}  # not an integer


def test_nothing_to_extract_gives_no_schema_and_a_given_schema_wins() -> None:
    assert schema_of(None) is None
    assert schema_of([]) is None
    assert schema_of({"a": None}) is None
    given = {"type": "object", "properties": {"price": {"type": "number"}}}
    assert rerun_schema(given, "$12.50") is given
    assert rerun_schema(None, "$12.50") == {"type": "string"}
