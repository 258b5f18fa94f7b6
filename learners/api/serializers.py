"""What the API reads and writes. Output serializers describe objects; input serializers hand the
body to the pages' forms (learners.api.form_fields), which hold every rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coach.models import Strategy
from learners.api.form_fields import FormSerializer, form_serializer_fields
from learners.forms import (
    REFLECTION_PROMPTS,
    DismissForm,
    ReflectionFields,
    SelfReportForm,
    SessionFilterForm,
    SituationForm,
    StudySessionForm,
)
from learners.models import CohortMembership, Recommendation, Reflection, SelfReport, StudySession
from learners.selectors.sessions import SessionFilters
from learners.selfreport import ITEMS
from learners.services.sessions import ReflectionInput, SessionInput

SESSION_FIELDS = list(StudySessionForm.Meta.fields)


# --- the catalogue ---------------------------------------------------------------------------


class StrategySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="label", help_text="In the request's language.")
    summary = serializers.CharField(source="summary_text")
    how_to = serializers.CharField(source="how_to_text")

    class Meta:
        model = Strategy
        fields = ["slug", "name", "summary", "how_to", "utility", "evidence_source", "position"]


# --- sessions and reflections ----------------------------------------------------------------


class ReflectionSerializer(serializers.ModelSerializer):
    session = serializers.IntegerField(source="session_id", read_only=True)

    class Meta:
        model = Reflection
        fields = [
            "session",
            *REFLECTION_PROMPTS,
            "what_worked",
            "kept_previous_plan",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SessionSerializer(serializers.ModelSerializer):
    strategy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    reflection = serializers.SerializerMethodField()

    class Meta:
        model = StudySession
        fields = ["id", *SESSION_FIELDS, "recommendation", "reflection", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(ReflectionSerializer(allow_null=True))
    def get_reflection(self, session: StudySession) -> dict[str, Any] | None:
        # The reverse one-to-one raises when there is none; the list selects it with the session.
        reflection = getattr(session, "reflection", None)
        return ReflectionSerializer(reflection).data if reflection is not None else None


class ApiSessionForm(StudySessionForm):
    """The log form, with the strategy named by its slug as everywhere in the API."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["strategy"].to_field_name = "slug"  # type: ignore[attr-defined]


class ReflectionBodySerializer(FormSerializer):
    form_class = ReflectionFields

    def get_fields(self) -> dict[str, serializers.Field]:
        return form_serializer_fields(ReflectionFields, REFLECTION_PROMPTS)

    def reflection_input(self) -> ReflectionInput:
        form = self.form
        assert isinstance(form, ReflectionFields)
        return form.reflection_input()


class SessionBodySerializer(FormSerializer):
    """A session to save, optionally with its reflection. On PATCH, fields left out keep their values."""

    form_class = ApiSessionForm

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = form_serializer_fields(ApiSessionForm, SESSION_FIELDS)
        fields["strategy"].help_text = _("The strategy's slug, as /api/v1/strategies/ lists them.")
        fields["reflection"] = ReflectionBodySerializer(
            required=False, help_text=_("The answers to the reflection prompts; all empty removes it.")
        )
        return fields

    def form_kwargs(self) -> dict[str, Any]:
        return {"instance": self.instance}

    def form_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        given = super().form_data(data)
        given.pop("reflection", None)
        if self.partial and self.instance is not None:
            session: StudySession = self.instance
            current = {name: getattr(session, name) for name in SESSION_FIELDS if name != "strategy"}
            current["strategy"] = session.strategy.slug
            return {**current, **given}
        return given

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        validated = super().to_internal_value(data)
        self.reflection: ReflectionInput | None = None
        if isinstance(data, Mapping) and data.get("reflection") is not None:
            body = ReflectionBodySerializer(data=data["reflection"])
            if not body.is_valid():
                raise serializers.ValidationError({"reflection": body.errors})
            self.reflection = body.reflection_input()
        return validated

    def session_input(self) -> SessionInput:
        form = self.form
        assert isinstance(form, StudySessionForm)
        return form.to_input()


class SessionFilterApiForm(SessionFilterForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["strategy"].to_field_name = "slug"  # type: ignore[attr-defined]


class SessionFilterSerializer(FormSerializer):
    """The session list's filters, as query parameters: the page's filter form, strategy by slug.

    Query strings hold only strings, which the form parses as on the page."""

    form_class = SessionFilterApiForm

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = form_serializer_fields(SessionFilterApiForm, list(SessionFilterForm.base_fields))
        fields["strategy"].help_text = _("A strategy's slug.")
        fields["date_from"].help_text = _("The first day, in the learner's time zone.")
        fields["date_to"].help_text = _("The last day, included.")
        return fields

    def filters(self) -> SessionFilters:
        form = self.form
        assert isinstance(form, SessionFilterForm)
        return form.filters()


# --- recommendations -------------------------------------------------------------------------


class RankedStrategySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    expected = serializers.FloatField(help_text="The expected self-test score, 0–100.")
    std = serializers.FloatField(help_text="Its standard deviation.")


class RecommendationSerializer(serializers.ModelSerializer):
    strategy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    reason = serializers.CharField(source="reason_text", help_text="Why, in the request's language.")
    ranking = serializers.SerializerMethodField()

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "created_at",
            "subject",
            "task_kind",
            "strategy",
            "expected_score",
            "score_std",
            "exploration",
            "reason",
            "ranking",
            "source",
            "status",
            "dismissed_reason",
            "responded_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RankedStrategySerializer(many=True))
    def get_ranking(self, recommendation: Recommendation) -> list[dict[str, Any]]:
        return [
            {"slug": row.slug, "name": row.name, "expected": row.expected, "std": row.std}
            for row in recommendation.ranked
        ]


class CurrentRecommendationSerializer(serializers.Serializer):
    status = serializers.CharField(
        help_text="ready, new_sessions, asked or waiting: whether a newer recommendation is on its way."
    )
    status_label = serializers.CharField()
    recommendation = RecommendationSerializer(allow_null=True)


class SituationSerializer(FormSerializer):
    form_class = SituationForm

    def get_fields(self) -> dict[str, serializers.Field]:
        return form_serializer_fields(SituationForm, ["subject", "task_kind"])


class DismissSerializer(FormSerializer):
    form_class = DismissForm

    def get_fields(self) -> dict[str, serializers.Field]:
        return form_serializer_fields(DismissForm, ["reason"])


class QueuedSerializer(serializers.Serializer):
    queued = serializers.BooleanField(help_text="True: the background engine has the request.")


# --- self-reports ----------------------------------------------------------------------------


class SelfReportItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    dimension = serializers.CharField()
    text = serializers.CharField()
    reversed = serializers.BooleanField()


class SelfReportSerializer(serializers.ModelSerializer):
    answers = serializers.DictField(child=serializers.IntegerField())
    scores = serializers.DictField(child=serializers.FloatField())

    class Meta:
        model = SelfReport
        fields = ["id", "created_at", "answers", "scores"]
        read_only_fields = fields


class SelfReportAnswersSerializer(FormSerializer):
    form_class = SelfReportForm

    def get_fields(self) -> dict[str, serializers.Field]:
        return form_serializer_fields(SelfReportForm, [item.key for item in ITEMS])

    def answers(self) -> dict[str, int]:
        form = self.form
        assert isinstance(form, SelfReportForm)
        return form.answers()


class SelfReportBodySerializer(serializers.Serializer):
    answers = SelfReportAnswersSerializer(help_text="Every statement's answer, 1 (not like me) to 5.")


# --- cohorts, for educators ------------------------------------------------------------------


class CohortSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    owner = serializers.CharField(source="owner.username")
    archived = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class MemberSerializer(serializers.ModelSerializer):
    """A member as the cohort page's table shows them."""

    learner = serializers.IntegerField(source="learner_id")
    username = serializers.CharField(source="learner.user.username")
    last_activity = serializers.DateTimeField(allow_null=True)
    n_sessions = serializers.IntegerField()
    mean_score = serializers.FloatField(allow_null=True)
    flagged = serializers.BooleanField(help_text="Inactive for a while, or often overconfident.")

    class Meta:
        model = CohortMembership
        fields = [
            "learner",
            "username",
            "joined_at",
            "share_reflections",
            "last_activity",
            "n_sessions",
            "mean_score",
            "flagged",
        ]
        read_only_fields = fields


class MemberSessionSerializer(SessionSerializer):
    """A member's session as their educators see it: notes and reflection only when shared."""

    notes = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_notes(self, session: StudySession) -> str | None:
        return session.notes if self.context["shared"] else None

    @extend_schema_field(ReflectionSerializer(allow_null=True))
    def get_reflection(self, session: StudySession) -> dict[str, Any] | None:
        return super().get_reflection(session) if self.context["shared"] else None
