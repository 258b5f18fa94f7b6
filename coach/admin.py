from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coach.models import EngineRun, EngineSnapshot, Recommendation, Strategy
from coach.services import RetrainAlreadyRunning, engine_retrain_request


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "utility", "summary"]
    list_display_links = ["name"]
    list_filter = ["utility"]
    search_fields = ["name", "slug", "summary"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "learner", "strategy", "expected_score", "exploration", "source", "status"]
    list_filter = ["status", "source", "exploration", "strategy"]
    search_fields = ["learner__user__username", "subject", "reason"]
    list_select_related = ["learner__user", "strategy"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Recommendation._meta.fields]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the engine writes: for reading, never for editing by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(EngineRun)
class EngineRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "status",
        "progress",
        "duration",
        "n_learners",
        "n_sessions",
        "model_rmse_k5",
        "requested_by",
    ]
    list_filter = ["status"]
    list_select_related = ["requested_by"]
    search_fields = ["error"]
    change_list_template = "admin/coach/enginerun/change_list.html"

    @admin.display(description=_("model RMSE after 5 sessions"))
    def model_rmse_k5(self, run: EngineRun) -> str:
        metrics = run.metrics or {}
        try:
            value = metrics["learners"]["model"]["rmse"][metrics["ks"].index(5)]
        except (KeyError, ValueError, IndexError, TypeError):
            return "–"
        return "–" if value is None else f"{value:.1f}"

    def get_urls(self) -> list[URLPattern]:
        retrain = path(
            "retrain/",
            self.admin_site.admin_view(require_POST(self.retrain_view)),
            name="coach_enginerun_retrain",
        )
        return [retrain, *super().get_urls()]

    def retrain_view(self, request: HttpRequest) -> HttpResponseRedirect:
        try:
            run = engine_retrain_request(requested_by=request.user)  # type: ignore[arg-type]
        except RetrainAlreadyRunning as exc:
            self.message_user(
                request,
                _("A retrain is already queued or running (run %s).") % (exc.run.pk if exc.run else "?"),
                messages.WARNING,
            )
        else:
            self.message_user(request, _("Retrain queued as run %s.") % run.pk, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:coach_enginerun_changelist"))


@admin.register(EngineSnapshot)
class EngineSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "run", "strategy_count"]
    list_select_related = ["run"]
    exclude = ["model_learner", "memory_learner"]

    @admin.display(description=_("strategies"))
    def strategy_count(self, snapshot: EngineSnapshot) -> int:
        return len(snapshot.strategy_slugs)
