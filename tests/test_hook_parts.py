"""The small parts of webhooks and 2FA codes, checked without a run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from wayfinder.llm.tools import InvalidAnswer, action_tools, parse_action
from wayfinder.secrets import SecretBox, SecretKeyError
from wayfinder.settings import Settings
from wayfinder.totp import code_from_content
from wayfinder.webhooks import MAX_RETRY_AFTER, WebhookConfigError, retry_after, signer


def test_enter_verification_code_is_offered_only_to_runs_that_can_get_a_code() -> None:
    assert "enter_verification_code" not in {tool["name"] for tool in action_tools()}
    offered = action_tools({"LOCKED": "the account is locked"}, verification_code=True)
    assert offered[-1]["name"] == "enter_verification_code"
    assert "text" not in offered[-1]["input_schema"]["properties"]  # the model gives no code
    with pytest.raises(InvalidAnswer, match="Unknown tool"):
        parse_action("enter_verification_code", {"element_id": "4"})
    action = parse_action("enter_verification_code", {"element_id": "4"}, verification_code=True)
    assert action.type == "enter_verification_code"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("482913", "482913"),
        ("  AB12-CD34 ", "AB12-CD34"),
        ("Your sign-in code is 482913. It expires in 10 minutes.", "482913"),
        ("Code: 12345678 (ref 2026)", "12345678"),
    ],
)
def test_the_code_is_read_from_what_a_user_sends(content: str, code: str) -> None:
    assert code_from_content(content) == code


def test_content_without_a_code_is_refused() -> None:
    with pytest.raises(ValueError, match="no verification code"):
        code_from_content("Welcome to the service!")


def test_retry_after_in_seconds_or_as_a_date_is_capped() -> None:
    assert retry_after("3") == 3.0
    assert retry_after(None) is None and retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    seconds = retry_after(later)
    assert seconds is not None and 25 <= seconds <= 30
    assert retry_after("86400") == MAX_RETRY_AFTER


def test_the_webhook_secret_must_be_in_whsec_form() -> None:
    with pytest.raises(WebhookConfigError, match="WAYFINDER_WEBHOOK_SECRET is not set"):
        signer(None)
    with pytest.raises(WebhookConfigError, match="must start with 'whsec_'"):
        signer("plain-secret")


def test_a_code_encrypted_with_one_key_is_refused_with_another(tmp_path: Path) -> None:
    first = Settings(home=tmp_path / "a")
    token = SecretBox.from_settings(first).seal("482913")
    assert "482913" not in token
    # The key kept under home is reused.
    assert SecretBox.from_settings(first).open(token, "a code") == "482913"
    assert (tmp_path / "a" / "secret.key").stat().st_mode & 0o777 == 0o600
    other = Settings(home=tmp_path / "b", secret_key=Fernet.generate_key().decode())
    with pytest.raises(SecretKeyError, match="same WAYFINDER_SECRET_KEY"):
        SecretBox.from_settings(other).open(token, "a code")
