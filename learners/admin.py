from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from coach.admin import ReadOnlyAdmin
from coach.models import EngineRun
from learners.http import CSV, file_download
from learners.models import (
    ApiToken,
    Cohort,
    CohortMembership,
    ImportJob,
    Learner,
    PlannedSession,
    Recommendation,
    Reflection,
    ReminderSent,
    SelfReport,
    StudySession,
    StudyTimer,
    XapiStatementSent,
    XapiSync,
)
from learners.selectors.export import cohorts_sessions
from learners.services.api_tokens import api_token_revoke
from learners.services.engine_runs import EngineRunAlreadyActive, engine_run_request
from learners.services.export import csv_stream


@admin.register(Learner)
class LearnerAdmin(admin.ModelAdmin):
    list_display = ["user", "timezone", "language", "session_count", "created_at"]
    list_filter = ["timezone", "language", "created_at"]
    search_fields = ["user__username", "user__email", "goals"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "refresh_requested_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Learner]:
        return super().get_queryset(request).annotate(n_sessions=Count("sessions"))

    @admin.display(description=_("sessions"), ordering="n_sessions")
    def session_count(self, obj: Learner) -> int:
        return obj.n_sessions  # type: ignore[attr-defined]


class MembershipInline(admin.TabularInline):
    model = CohortMembership
    extra = 0
    autocomplete_fields = ["learner"]
    readonly_fields = ["joined_at"]


@admin.action(description=_("Export the sessions of the selected cohorts' members (CSV)"))
def export_sessions(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Cohort]
) -> StreamingHttpResponse:
    stream = csv_stream(cohorts_sessions(cohort_ids=list(queryset.values_list("pk", flat=True))))
    return file_download(stream, filename="cohorts-sessions.csv", content_type=CSV)


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "member_count",
        "join_code",
        "join_code_expires_at",
        "archived",
        "created_at",
    ]
    list_filter = ["archived", "created_at"]
    search_fields = ["name", "owner__username", "join_code"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]
    filter_horizontal = ["co_teachers"]
    readonly_fields = ["created_at"]
    inlines = [MembershipInline]
    actions = [export_sessions]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cohort]:
        return super().get_queryset(request).annotate(n_members=Count("memberships"))

    @admin.display(description=_("members"), ordering="n_members")
    def member_count(self, obj: Cohort) -> int:
        return obj.n_members  # type: ignore[attr-defined]


@admin.register(CohortMembership)
class CohortMembershipAdmin(admin.ModelAdmin):
    list_display = ["learner", "cohort", "share_reflections", "joined_at"]
    list_filter = ["share_reflections", "cohort"]
    search_fields = ["learner__user__username", "cohort__name"]
    list_select_related = ["learner__user", "cohort"]
    raw_id_fields = ["learner", "cohort"]
    readonly_fields = ["joined_at"]


class ReflectionInline(admin.StackedInline):
    model = Reflection
    extra = 0


@admin.register(StudySession)
class StudySessionAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "learner",
        "subject",
        "task_kind",
        "strategy",
        "minutes",
        "confidence",
        "score",
        "bias",
    ]
    list_filter = ["task_kind", "strategy", "started_at"]
    search_fields = ["learner__user__username", "subject", "notes"]
    list_select_related = ["learner__user", "strategy"]
    date_hierarchy = "started_at"
    raw_id_fields = ["learner", "recommendation"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ReflectionInline]

    @admin.display(description=_("confidence − score"))
    def bias(self, obj: StudySession) -> int | None:
        return None if obj.score is None else obj.confidence - obj.score


@admin.register(Reflection)
class ReflectionAdmin(admin.ModelAdmin):
    list_display = ["session", "created_at", "kept_previous_plan"]
    list_filter = ["kept_previous_plan", "created_at"]
    search_fields = ["session__learner__user__username", "what_worked", "next_time"]
    list_select_related = ["session__learner__user"]
    raw_id_fields = ["session"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(SelfReport)
class SelfReportAdmin(admin.ModelAdmin):
    list_display = ["learner", "created_at", "dimensions"]
    list_filter = ["created_at"]
    search_fields = ["learner__user__username"]
    list_select_related = ["learner__user"]
    raw_id_fields = ["learner"]
    readonly_fields = ["created_at", "answers", "scores"]

    @admin.display(description=_("scores"))
    def dimensions(self, obj: SelfReport) -> str:
        return ", ".join(f"{k} {v:.1f}" for k, v in sorted(obj.scores.items()) if isinstance(v, int | float))


@admin.register(StudyTimer)
class StudyTimerAdmin(admin.ModelAdmin):
    list_display = ["learner", "subject", "strategy", "started_at", "paused_at"]
    list_filter = ["strategy", "pomodoro"]
    search_fields = ["learner__user__username", "subject"]
    list_select_related = ["learner__user", "strategy"]
    raw_id_fields = ["learner", "recommendation", "planned"]
    readonly_fields = ["updated_at"]


@admin.register(PlannedSession)
class PlannedSessionAdmin(admin.ModelAdmin):
    list_display = ["planned_for", "learner", "subject", "strategy", "status"]
    list_filter = ["status", "strategy", "planned_for"]
    search_fields = ["learner__user__username", "subject"]
    list_select_related = ["learner__user", "strategy"]
    raw_id_fields = ["learner", "session", "recommendation"]
    readonly_fields = ["created_at", "updated_at"]


# Written by the reminder task before it mails; editing one would let a day be mailed twice.
@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    """What became of learners' imports, for support; the upload and the preview stay out of view."""

    list_display = ["created_at", "learner", "kind", "state", "filename", "created_count", "skipped_count"]
    list_filter = ["kind", "state"]
    search_fields = ["learner__user__username", "filename"]
    list_select_related = ["learner__user"]
    exclude = ["upload", "preview"]


@admin.register(ReminderSent)
class ReminderSentAdmin(ReadOnlyAdmin):
    list_display = ["day", "learner", "sent_at"]
    list_filter = ["day"]
    search_fields = ["learner__user__username"]
    list_select_related = ["learner__user"]


# Written by the xAPI sending task (learners.services.xapi): who is behind with the learning
# record store, and what it has accepted. Read-only, as an edit would send a statement twice or never.
@admin.register(XapiSync)
class XapiSyncAdmin(ReadOnlyAdmin):
    list_display = ["learner", "requested_at", "synced_at"]
    search_fields = ["learner__user__username"]
    list_select_related = ["learner__user"]


@admin.register(XapiStatementSent)
class XapiStatementSentAdmin(ReadOnlyAdmin):
    list_display = ["statement_id", "learner", "voided", "sent_at"]
    list_filter = ["voided"]
    search_fields = ["learner__user__username", "=statement_id"]
    list_select_related = ["learner__user"]


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "learner",
        "strategy",
        "expected_score",
        "exploration",
        "source",
        "policy",
        "status",
    ]
    list_filter = ["status", "source", "policy", "exploration", "strategy"]
    search_fields = ["learner__user__username", "subject", "reason"]
    list_select_related = ["learner__user", "strategy"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Recommendation._meta.fields]


@admin.action(description=_("Revoke the selected API tokens"))
def revoke_tokens(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
    for token in queryset:
        api_token_revoke(token=token)


# Made and revoked by their owners in settings; administrators see them and may revoke a leaked one.
@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "scope", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope", "revoked_at"]
    search_fields = ["user__username", "name", "prefix"]
    list_select_related = ["user"]
    actions = [revoke_tokens]


# Registered here, not in coach: its retrain button queues a run over the learners' sessions.
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
            run = engine_run_request(requested_by=request.user)  # type: ignore[arg-type]
        except EngineRunAlreadyActive as exc:
            self.message_user(
                request,
                gettext("A retrain is already queued or running (run %s).")
                % (exc.run.pk if exc.run else "?"),
                messages.WARNING,
            )
        else:
            self.message_user(request, gettext("Retrain queued as run %s.") % run.pk, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:coach_enginerun_changelist"))
