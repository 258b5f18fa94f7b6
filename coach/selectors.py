"""Reads for the strategy catalogue and engine runs."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from coach.models import EngineRun, Strategy


def strategy_list() -> list[Strategy]:
    return list(Strategy.objects.order_by("position"))


def engine_run_list(*, limit: int = 50) -> list[EngineRun]:
    return list(EngineRun.objects.select_related("requested_by").order_by("-created_at", "-id")[:limit])


def engine_run_get(*, run_id: int) -> EngineRun:
    return get_object_or_404(EngineRun.objects.select_related("requested_by"), pk=run_id)


def strategy_get(*, slug: str) -> Strategy:
    return get_object_or_404(Strategy, slug=slug)
