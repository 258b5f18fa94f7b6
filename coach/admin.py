from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _

from coach.models import EngineSnapshot, FailedTask, Strategy


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "utility", "summary"]
    list_display_links = ["name"]
    list_filter = ["utility"]
    search_fields = ["name", "slug", "summary"]
    prepopulated_fields = {"slug": ["name"]}


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the engine writes: for reading, never for editing by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(EngineSnapshot)
class EngineSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "run", "strategy_count"]
    list_select_related = ["run"]
    exclude = ["model_learner", "memory_learner", "optimization_learner", "combined_learner"]

    @admin.display(description=_("strategies"))
    def strategy_count(self, snapshot: EngineSnapshot) -> int:
        return len(snapshot.strategy_slugs)


@admin.register(FailedTask)
class FailedTaskAdmin(ReadOnlyAdmin):
    list_display = ["failed_at", "task_name", "task_id", "exception_type", "retries"]
    list_filter = ["task_name", "exception_type"]
    search_fields = ["task_id", "task_name"]
    date_hierarchy = "failed_at"
