from django.contrib import admin

from coach.models import Recommendation, Strategy


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
