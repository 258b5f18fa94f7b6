"""The learning record store's address is checked at start."""

from __future__ import annotations

from tests.coach.test_settings import PRODUCTION, manage


def test_a_learning_record_store_address_that_is_not_http_fails_at_start() -> None:
    result = manage("check", env={**PRODUCTION, "XAPI_LRS_URL": "file:///etc/passwd"})
    assert result.returncode != 0
    assert "XAPI_LRS_URL" in result.stderr


def test_production_starts_with_a_learning_record_store() -> None:
    env = {**PRODUCTION, "XAPI_LRS_URL": "https://lrs.example.org/xapi", "XAPI_LRS_USERNAME": "key"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr
