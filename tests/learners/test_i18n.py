"""Languages: English and Simplified Chinese, chosen once and kept with the account."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from learners.models import Learner

pytestmark = pytest.mark.django_db
PO = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_choosing_chinese_is_stored_on_the_account(alice: Learner, alice_client: Client) -> None:
    response = alice_client.post(reverse("language"), {"language": "zh-hans", "next": "/sessions/"})
    assert response["Location"] == "/sessions/"
    alice.refresh_from_db()
    assert alice.language == "zh-hans"


def test_the_accounts_language_is_used_on_another_device(alice: Learner) -> None:
    alice.language = "zh-hans"
    alice.save()
    fresh = Client()  # no language cookie, an English browser
    fresh.force_login(alice.user)
    page = fresh.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="zh-hans"' in page
    assert "你好" in page


def test_a_visitor_can_switch_language_with_the_cookie() -> None:
    client = Client()
    client.post(reverse("language"), {"language": "zh-hans", "next": "/accounts/login/"})
    assert "登录" in client.get(reverse("login")).content.decode()


def test_an_unknown_language_is_ignored(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("language"), {"language": "xx"})
    alice.refresh_from_db()
    assert alice.language == ""


def test_the_switch_does_not_redirect_to_another_site(alice_client: Client) -> None:
    response = alice_client.post(reverse("language"), {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def untranslated(po_text: str) -> list[str]:
    """msgids of entries (header aside) whose translation is empty or marked fuzzy."""
    missing = []
    for entry in po_text.split("\n\n")[1:]:
        if not entry.strip() or entry.lstrip().startswith("#~"):
            continue  # obsolete
        head, _, tail = entry.partition("\nmsgstr")
        strings = re.findall(r'"(.*)"', "msgstr" + tail)
        parts = re.split(r"^msgstr(?:\[\d\])? ", "msgstr" + tail, flags=re.M)[1:]
        empty = not strings or any(not "".join(re.findall(r'"(.*)"', p)) for p in parts)
        if empty or "#, fuzzy" in head:
            missing.append(" ".join(re.findall(r'"(.*)"', head.split("msgid", 1)[-1])))
    return missing


def test_every_message_has_a_chinese_translation() -> None:
    assert untranslated(PO.read_text(encoding="utf-8")) == []


def test_the_compiled_catalogue_ships_with_the_source() -> None:
    assert PO.with_suffix(".mo").stat().st_mtime >= PO.stat().st_mtime - 1


def test_the_accounts_language_does_not_leak_into_later_work(alice: Learner, alice_client: Client) -> None:
    alice.language = "zh-hans"
    alice.save()
    response = alice_client.get(reverse("home"))
    assert response["Content-Language"] == "zh-hans"
    assert translation.get_language() != "zh-hans"
