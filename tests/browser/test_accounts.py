"""Accounts that recover, in a real browser with a real worker: sign up in Asia/Shanghai with an
e-mail address, confirm it through the link the worker prints, log in by address, reset the
password by mail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from learners.models import Learner
from tests.browser.conftest import BROWSER, printed_link, screenshots, serious_accessibility_violations

pytestmark = BROWSER
PASSWORD = "a-long-unusual-passphrase-42"
NEW_PASSWORD = "another-unusual-passphrase-73"


def _mailed_link(worker_log: Path, url: str, path_part: str, seen: int = 0) -> str:
    """The newest link to `path_part` in the mail the worker's console backend printed."""
    return printed_link(worker_log, re.escape(url) + r"(/accounts/" + path_part + r"/\S+)", seen)


@pytest.mark.browser_context_args(timezone_id="Asia/Shanghai")
def test_sign_up_confirm_the_address_and_reset_the_password_by_mail(
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
    worker: Path,
    console_errors: list[str],
) -> None:
    url = live_server.url
    page.goto(f"{url}/accounts/signup/")
    page.fill("#id_username", "fay")
    page.fill("#id_email", "Fay@Example.org")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name="Hello, fay")).to_be_visible()
    expect(page.locator(".email-banner")).to_contain_text("Fay@example.org")
    # The browser's zone, detected at sign-up; settings offer it and the export names it.
    assert Learner.objects.get(user__username="fay").timezone == "Asia/Shanghai"
    page.goto(f"{url}/settings/")
    expect(page.locator("#id_timezone")).to_have_value("Asia/Shanghai")
    expect(page.locator("[data-device-timezone]")).to_have_text("Asia/Shanghai")
    screenshots(page, "settings-email-timezone")

    page.goto(url + _mailed_link(worker, url, "verify"))
    expect(page.get_by_role("status")).to_contain_text("Fay@example.org is confirmed")
    assert Learner.objects.get(user__username="fay").email_verified_at is not None
    page.goto(f"{url}/")
    expect(page.locator(".email-banner")).to_have_count(0)
    page.click("nav summary")
    page.get_by_role("button", name="Log out").click()

    # Forgotten password: the login page links to the app's own reset page.
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    screenshots(page, "password-reset")
    assert serious_accessibility_violations(page) == []
    page.fill("#id_email", "fay@example.org")
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    page.goto(url + _mailed_link(worker, url, "reset"))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("main button[type=submit]")
    expect(page.get_by_text("Your new password is in place.")).to_be_visible()

    # The new password works with the address in place of the username.
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", "FAY@example.org")
    page.fill("#id_password", NEW_PASSWORD)
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name="Hello, fay")).to_be_visible()

    # A weekly goal with an exam; a goal of 0 minutes is refused first.
    page.goto(f"{url}/settings/goals/")
    page.fill("#id_subject", "Physics")
    page.fill("#id_weekly_minutes", "0")
    page.click("main button[type=submit]")
    expect(page.locator("#id_weekly_minutes_error")).to_contain_text("at least 10 minutes")
    page.fill("#id_weekly_minutes", "120")
    page.fill("#id_exam_date", "2099-06-01")
    page.click("main button[type=submit]")
    expect(page.get_by_text("Your goal for Physics is saved.")).to_be_visible()
    screenshots(page, "goals")
    page.goto(f"{url}/")
    expect(page.locator("ul.goals")).to_contain_text("0 of 120 minutes this week")
    assert console_errors == []
