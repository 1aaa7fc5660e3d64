"""Request validation: every bad input is refused before anything starts, naming the field."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from wayfinder.models import RunEngine, RunStatus, TaskRunRequest


def _error(**fields: object) -> str:
    with pytest.raises(ValidationError) as caught:
        TaskRunRequest(prompt=fields.pop("prompt", "do it"), **fields)  # type: ignore[arg-type]
    return str(caught.value)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"url": "ftp://example.com"}, "url must start with http:// or https://"),
        ({"url": "https://"}, "url has no host"),
        ({"url": "example.com"}, "url must start with http:// or https://"),
        ({"max_steps": 0}, "max_steps"),
        ({"timeout": 0}, "timeout"),
        ({"prompt": "   "}, "prompt must not be blank"),
        ({"data_extraction_schema": {"type": "nope"}}, "not a valid JSON Schema at type"),
        ({"data_extraction_schema": "{not json"}, "is not JSON"),
        ({"data_extraction_schema": 42}, "must be a JSON Schema object"),
        ({"engine": "openai_cua"}, "engine 'openai_cua' is not supported yet"),
        ({"engine": "skyvern_v9"}, "engine"),
        ({"proxy_location": "http://proxy:8080"}, 'give a proxy URL as {"url"'),
        ({"proxy_location": {"url": "ftp://u:secret@proxy:21"}}, "proxy_location.url must be"),
        (
            {"browser_session_id": "pbs_1", "proxy_location": "RESIDENTIAL"},
            "browser_session_id cannot go with proxy_location",
        ),
        ({"webhook_url": "ftp://hooks.example.com"}, "webhook_url must start with http://"),
        ({"webhook_url": "https://"}, "webhook_url has no host"),
        (
            {"browser_session_id": "pbs_1", "user_agent": "Bot/1"},
            "browser_session_id cannot go with user_agent",
        ),
        ({"publish_workflow": True}, "publish_workflow and run_with='code' need a url"),
        ({"totp_url": "totp.example.com/code"}, "totp_url must start with http://"),
        ({"totp_identifier": "  "}, "totp_identifier must not be blank"),
        ({"browser_address": "127.0.0.1:9222"}, "browser_address must be a browser's CDP address"),
        ({"browser_address": "ws://"}, "browser_address has no host"),
        ({"run_with": "code"}, "publish_workflow and run_with='code' need a url"),
        ({"run_with": "robot", "url": "http://x.test/"}, "run_with must be 'code'"),
        ({"model": {"model_nam": "x"}}, "model.model_nam"),
        ({"extra_http_headers": {"Bad Header": "x"}}, "invalid HTTP header name"),
        ({"max_screenshot_scrolls": -1}, "max_screenshot_scrolls"),
        ({"unknown_parameter": 1}, "unknown_parameter"),
    ],
)
def test_bad_requests_are_refused_with_the_field_named(
    fields: dict[str, object], expected: str
) -> None:
    assert expected in _error(**fields)


def test_engine_spellings_and_schema_forms_are_accepted() -> None:
    class Product(BaseModel):
        name: str
        price: str

    assert TaskRunRequest(prompt="x", engine="skyvern-2.0").engine is RunEngine.skyvern_v2
    assert TaskRunRequest(prompt="x", engine="skyvern-1.0").engine is RunEngine.skyvern_v1
    assert TaskRunRequest(prompt="x", engine="skyvern_v1").engine is RunEngine.skyvern_v1
    from_string = TaskRunRequest(prompt="x", data_extraction_schema='{"type": "array"}')
    assert from_string.data_extraction_schema == {"type": "array"}
    from_model = TaskRunRequest(prompt="x", data_extraction_schema=Product)
    assert from_model.data_extraction_schema is not None
    assert from_model.data_extraction_schema["required"] == ["name", "price"]


def test_terminal_statuses() -> None:
    final = {status for status in RunStatus if status.is_final}
    assert final == {"completed", "failed", "terminated", "timed_out", "canceled"}
