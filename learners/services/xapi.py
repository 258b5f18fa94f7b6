"""xAPI statements out: streamed downloads, and sending to a learning record store (LRS).

Sending is off unless `XAPI_LRS_URL` is set. Each change to a learner's sessions or reflections
stamps their `XapiSync.requested_at` in the same transaction (`xapi_request`) and, once it commits,
queues `xapi_send_task(learner_id)`; the periodic catch-up queues it again for every learner whose
last send did not finish (the store was down, the broker too).

`xapi_send` is safe to run twice or to stop half-way: statement ids are digests of the content
(`learners.xapi.statements`), and a store that already holds an id stores nothing new. What was
accepted is recorded (`XapiStatementSent`), so the next run sends only the rest. An edited
session's statement is a new statement; the superseded one, and a deleted session's, are voided.
The store gets no free text (`learners.selectors.xapi.Reader.NO_TEXT`).
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from learners.models import Learner, StudySession, XapiStatementSent, XapiSync
from learners.selectors.xapi import base_url, lrs_configured, lrs_statements
from learners.xapi.statements import Statement, voiding_statement
from learners.xapi.vocabulary import XAPI_VERSION

logger = logging.getLogger(__name__)

BATCH = 100
TIMEOUT_SECONDS = 15
# Answers worth waiting for: the store is down, overloaded or restarting.
TRANSIENT = frozenset({408, 425, 429, 500, 502, 503, 504})


class LrsUnavailable(Exception):
    """The store could not take the statements now; the task retries, the catch-up later."""


class LrsRejected(Exception):
    """The store refused the statements (credentials, a statement it finds invalid): retrying the
    same request cannot help, so the task fails and says why."""


def statements_json_stream(statements: Iterable[Statement]) -> Iterator[str]:
    """A JSON array, a statement at a time, so a long history never sits in memory."""
    yield "["
    first = True
    for statement in statements:
        yield ("\n  " if first else ",\n  ") + json.dumps(statement, ensure_ascii=False)
        first = False
    yield "\n]\n"


def xapi_request(*, learner_id: int) -> None:
    """Within the caller's transaction: the learner's statements are to be sent; the sending task is
    queued once it commits. Nothing at all when no store is configured."""
    if not lrs_configured():
        return
    XapiSync.objects.update_or_create(learner_id=learner_id, defaults={"requested_at": timezone.now()})

    def send() -> None:
        from learners.tasks import xapi_send_task  # tasks import services; import late

        try:
            xapi_send_task.delay(learner_id)
        except (BrokerError, OSError) as exc:
            logger.warning("Broker unavailable, xAPI statements of learner %s deferred: %s", learner_id, exc)

    transaction.on_commit(send)


def xapi_send(*, learner_id: int) -> int:
    """Send what the store lacks of a learner's statements and void what they superseded; returns
    how many statements went out."""
    if not lrs_configured():
        return 0
    if not Learner.objects.filter(pk=learner_id).exists():
        return 0  # the account was deleted meanwhile
    sync = XapiSync.objects.filter(learner_id=learner_id).first()
    requested = sync.requested_at if sync is not None else timezone.now()
    statements = lrs_statements(learner_id=learner_id)
    current = {statement["id"] for statement in statements}
    accepted = {
        str(statement_id)
        for statement_id in XapiStatementSent.objects.filter(learner_id=learner_id, voided=False).values_list(
            "statement_id", flat=True
        )
    }
    fresh = [statement for statement in statements if statement["id"] not in accepted]
    superseded = sorted(accepted - current)
    for batch in _chunks(fresh):
        lrs_post(batch)
        XapiStatementSent.objects.bulk_create(
            [XapiStatementSent(learner_id=learner_id, statement_id=s["id"]) for s in batch],
            ignore_conflicts=True,  # a second run sent them too
        )
    base = base_url()
    for ids in _chunks(superseded):
        lrs_post([voiding_statement(base_url=base, learner_id=learner_id, statement_id=i) for i in ids])
        XapiStatementSent.objects.filter(statement_id__in=ids).update(voided=True)
    # Conditional: a slower run that started from an older request never moves the mark back.
    XapiSync.objects.filter(learner_id=learner_id).filter(
        Q(synced_at__isnull=True) | Q(synced_at__lt=requested)
    ).update(synced_at=requested)
    return len(fresh) + len(superseded)


def xapi_catch_up() -> int:
    """Queue a send for every learner behind: a send that did not finish, or sessions from before
    the store was configured. Returns how many were queued."""
    if not lrs_configured():
        return 0
    from learners.tasks import xapi_send_task  # tasks import services; import late

    now = timezone.now()
    studied = StudySession.objects.filter(learner_id=OuterRef("pk"))
    never = Learner.objects.filter(Exists(studied), xapi_sync__isnull=True).values_list("pk", flat=True)
    XapiSync.objects.bulk_create(
        [XapiSync(learner_id=pk, requested_at=now) for pk in never], ignore_conflicts=True
    )
    behind = XapiSync.objects.filter(Q(synced_at__isnull=True) | Q(synced_at__lt=F("requested_at")))
    learner_ids = list(behind.values_list("learner_id", flat=True))
    for learner_id in learner_ids:
        xapi_send_task.delay(learner_id)
    return len(learner_ids)


def lrs_post(statements: Sequence[Statement]) -> None:
    """POST statements to the store's /statements; returns once it holds every one of them.

    409 Conflict: the store already has a statement with one of these ids (xAPI 1.0.3,
    Communication 2.1.2: it then changes nothing, and rejects the whole batch). Since our ids are
    digests of the content, the statement it has is ours, so a lone statement answered 409 is
    stored, and a batch answered 409 is sent again a statement at a time.
    """
    status = _post(list(statements))
    if status != 409:
        return
    if len(statements) > 1:
        for statement in statements:
            lrs_post([statement])


def _post(statements: list[Statement]) -> int:
    request = urllib.request.Request(
        f"{settings.XAPI_LRS_URL.rstrip('/')}/statements",
        data=json.dumps(statements, ensure_ascii=False).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Experience-API-Version": XAPI_VERSION},
    )
    if settings.XAPI_LRS_USERNAME:
        credentials = f"{settings.XAPI_LRS_USERNAME}:{settings.XAPI_LRS_PASSWORD}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(credentials).decode("ascii"))
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        if exc.code == 409:
            return 409
        detail = exc.read(500).decode("utf-8", "replace")
        if exc.code in TRANSIENT:
            raise LrsUnavailable(f"learning record store answered {exc.code}: {detail}") from exc
        raise LrsRejected(f"learning record store answered {exc.code}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise LrsUnavailable(f"learning record store unreachable: {exc}") from exc


T = TypeVar("T")


def _chunks(items: Sequence[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), BATCH):
        yield list(items[start : start + BATCH])
