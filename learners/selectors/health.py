"""What a load balancer asks: can this process reach the database and the broker, and how old is
the newest engine snapshot (recommendations fall back on the evidence without one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, connection
from django.utils import timezone

from coach.celery import app
from coach.models import EngineSnapshot


@dataclass(frozen=True)
class Health:
    database: bool
    broker: bool
    snapshot_age_seconds: float | None  # None: no snapshot yet, or the database is down

    @property
    def ok(self) -> bool:
        return self.database and self.broker


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _broker() -> bool:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:  # kombu raises the transport's own errors (socket, redis, OS)
        return False


def _newest_snapshot() -> datetime | None:
    try:
        return EngineSnapshot.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    except DatabaseError:
        return None


def health_check() -> Health:
    database = _database()
    created = _newest_snapshot() if database else None
    age = (timezone.now() - created).total_seconds() if created else None
    return Health(database=database, broker=_broker(), snapshot_age_seconds=age)
