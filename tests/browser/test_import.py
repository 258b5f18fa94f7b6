"""A learner imports their Anki reviews in a real browser, with the real worker reading and saving."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import Page, expect

from learners.models import ImportJob, Learner, StudySession
from tests.anki_collections import Card, Review, collection, package
from tests.browser.conftest import BROWSER, SCREENSHOTS, screenshots, serious_accessibility_violations
from tests.browser.test_first_session import sign_up

pytestmark = BROWSER
SHOTS = "import"


def anki_package(folder: Path) -> Path:
    """Three decks reviewed on each of the last three days, some cards answered Again."""
    decks = {1: "Languages::Spanish vocabulary", 2: "Biology::Cell structure", 3: "History"}
    cards = [Card(id=100 * deck + n, deck=deck) for deck in decks for n in range(8)]
    start = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=3)
    reviews = [
        Review(
            at=start + timedelta(days=day, minutes=i), card=card.id, ease=1 if i % 5 == 0 else 3, ms=12_000
        )
        for day in range(3)
        for i, card in enumerate(cards)
    ]
    path = folder / "my collection.colpkg"
    path.write_bytes(package(collection(decks=decks, cards=cards, reviews=reviews)))
    return path


def test_a_learner_imports_anki_reviews_and_sees_them_on_the_dashboard(
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
    worker: Path,
    console_errors: list[str],
    tmp_path: Path,
) -> None:
    (SCREENSHOTS / SHOTS).mkdir(parents=True, exist_ok=True)
    sign_up(page, live_server.url, "freya")
    file = anki_package(tmp_path)

    page.goto(f"{live_server.url}/sessions/")
    page.click("#session-import")
    expect(page.get_by_role("heading", name="Import sessions", exact=True)).to_be_visible()
    screenshots(page, f"{SHOTS}/upload-en")
    assert serious_accessibility_violations(page) == []
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if "/status/" in request.url else None)
    page.set_input_files("#id_file", str(file))
    page.click("#import-upload")

    # The job's page opens on its progress bar and polls the status until the worker has read
    # the file, then loads again with the preview.
    expect(page.locator("#import-progress-bar")).to_be_attached()
    expect(page.locator("#import-preview")).to_be_visible(timeout=60_000)
    assert polls, "the progress bar never asked for the status"
    expect(page.locator("#import-counts")).to_contain_text("9 new sessions will be created.")
    expect(page.locator(".import-preview tbody tr")).to_have_count(9)
    expect(page.locator(".import-preview")).to_contain_text("Languages::Spanish vocabulary")
    assert not StudySession.objects.exists()  # nothing is saved before the learner confirms
    screenshots(page, f"{SHOTS}/preview-en")
    assert serious_accessibility_violations(page) == []

    page.click("#import-confirm")
    expect(page.locator("#import-done")).to_contain_text("9 sessions imported.", timeout=60_000)
    assert StudySession.objects.filter(learner__user__username="freya").count() == 9
    assert "import_job_read" in worker.read_text() and "import_job_save" in worker.read_text()
    screenshots(page, f"{SHOTS}/done-en")

    page.goto(f"{live_server.url}/")
    expect(page.locator("main")).to_contain_text("Biology::Cell structure")
    expect(page.locator("main")).to_contain_text("History")
    page.goto(f"{live_server.url}/sessions/")
    expect(page.locator("table.cards tbody tr")).to_have_count(9)
    screenshots(page, f"{SHOTS}/sessions-en")

    # Again, in Chinese: the same file is all already imported.
    Learner.objects.filter(user__username="freya").update(language="zh-hans")
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.goto(f"{live_server.url}/settings/")
    page.click("#import-link")
    screenshots(page, f"{SHOTS}/upload-zh-hans")
    page.set_input_files("#id_file", str(file))
    page.click("#import-upload")
    expect(page.locator("#import-preview")).to_be_visible(timeout=60_000)
    expect(page.locator("#import-confirm")).to_have_count(0)
    expect(page.locator(".import-duplicate")).to_have_count(9)
    screenshots(page, f"{SHOTS}/preview-zh-hans")
    page.click("#import-cancel")
    assert ImportJob.objects.filter(learner__user__username="freya").count() == 1
    assert StudySession.objects.filter(learner__user__username="freya").count() == 9
    assert console_errors == []


def test_a_damaged_file_shows_why_and_saves_nothing(
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
    worker: Path,
    console_errors: list[str],
    tmp_path: Path,
) -> None:
    (SCREENSHOTS / SHOTS).mkdir(parents=True, exist_ok=True)
    sign_up(page, live_server.url, "gus")
    broken = tmp_path / "broken.apkg"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    page.goto(f"{live_server.url}/settings/import/")
    page.set_input_files("#id_file", str(broken))
    page.click("#import-upload")
    expect(page.locator("#import-error")).to_contain_text("damaged", timeout=60_000)
    screenshots(page, f"{SHOTS}/error-en")
    assert not StudySession.objects.exists()
    assert console_errors == []
