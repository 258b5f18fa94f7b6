from django.contrib import admin

from learners.models import Cohort, CohortMembership, Learner, Reflection, StudySession


@admin.register(Learner)
class LearnerAdmin(admin.ModelAdmin):
    list_display = ["user", "timezone", "created_at"]
    search_fields = ["user__username", "user__email", "goals"]
    list_select_related = ["user"]


class MembershipInline(admin.TabularInline):
    model = CohortMembership
    extra = 0
    autocomplete_fields = ["learner"]


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "join_code", "created_at"]
    search_fields = ["name", "owner__username", "join_code"]
    list_select_related = ["owner"]
    inlines = [MembershipInline]


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
    ]
    list_filter = ["task_kind", "strategy", "started_at"]
    search_fields = ["learner__user__username", "subject", "notes"]
    list_select_related = ["learner__user", "strategy"]
    date_hierarchy = "started_at"
    raw_id_fields = ["learner", "recommendation"]
    inlines = [ReflectionInline]


@admin.register(Reflection)
class ReflectionAdmin(admin.ModelAdmin):
    list_display = ["session", "created_at", "kept_previous_plan"]
    search_fields = ["session__learner__user__username", "what_worked", "next_time"]
    list_select_related = ["session__learner__user"]
    raw_id_fields = ["session"]
