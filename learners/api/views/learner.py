"""A learner's own data: sessions, reflections, self-reports and recommendations, and the strategy
catalogue. Each view loads through a selector (others' ids answer 404), validates through the
pages' forms and writes through one service."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coach.models import Strategy
from coach.selectors import strategy_get, strategy_list
from learners.api import serializers as s
from learners.api.views.base import ListView, request_learner
from learners.models import Recommendation, Reflection, SelfReport, StudySession
from learners.selectors import recommendations as recommendation_selectors
from learners.selectors.sessions import reflection_list, selfreport_list, session_get, session_search
from learners.selfreport import ITEMS
from learners.services.recommendations import recommendation_request, recommendation_respond
from learners.services.selfreport import selfreport_submit
from learners.services.sessions import (
    ReflectionInput,
    session_create,
    session_delete,
    session_reflect,
    session_update,
)


@extend_schema(tags=["strategies"])
class StrategyList(ListView):
    serializer_class = s.StrategySerializer

    def get_queryset(self) -> list[Strategy]:
        return strategy_list()


class StrategyDetail(APIView):
    @extend_schema(responses=s.StrategySerializer, tags=["strategies"])
    def get(self, request: Request, slug: str) -> Response:
        return Response(s.StrategySerializer(strategy_get(slug=slug)).data)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    description="A UUID of the client's choosing: the same key again saves the session once.",
)


def _idempotency_key(request: Request) -> UUID | None:
    value = request.headers.get("Idempotency-Key")
    if value is None:
        return None
    try:
        return UUID(value)
    except ValueError as exc:
        raise ValidationError({"Idempotency-Key": [_("Send a UUID, such as one from uuid4().")]}) from exc


@extend_schema(tags=["sessions"])
class SessionList(ListView):
    """The learner's sessions, newest first, narrowed as the session list's filters do."""

    serializer_class = s.SessionSerializer

    def get_queryset(self) -> QuerySet[StudySession]:
        filters = s.SessionFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return session_search(learner=request_learner(self.request), filters=filters.filters())

    @extend_schema(parameters=[s.SessionFilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.SessionBodySerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.SessionSerializer, 200: s.SessionSerializer},
        tags=["sessions"],
    )
    def post(self, request: Request) -> Response:
        """Log a session. Sent again with the same Idempotency-Key (a retry after a lost answer),
        it saves nothing new and answers 200 with the session saved the first time."""
        key = _idempotency_key(request)
        body = s.SessionBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = session_create(
            learner=request_learner(request),
            data=body.session_input(),
            reflection=body.reflection,
            submission_key=key,
        )
        answer = status.HTTP_200_OK if saved.already_saved else status.HTTP_201_CREATED
        return Response(s.SessionSerializer(saved.session).data, status=answer)


class SessionDetail(APIView):
    @extend_schema(responses=s.SessionSerializer, tags=["sessions"])
    def get(self, request: Request, session_id: int) -> Response:
        session = session_get(learner=request_learner(request), session_id=session_id)
        return Response(s.SessionSerializer(session).data)

    @extend_schema(request=s.SessionBodySerializer, responses=s.SessionSerializer, tags=["sessions"])
    def put(self, request: Request, session_id: int) -> Response:
        return self._update(request, session_id, partial=False)

    @extend_schema(
        request=s.SessionBodySerializer(partial=True), responses=s.SessionSerializer, tags=["sessions"]
    )
    def patch(self, request: Request, session_id: int) -> Response:
        return self._update(request, session_id, partial=True)

    def _update(self, request: Request, session_id: int, *, partial: bool) -> Response:
        session = session_get(learner=request_learner(request), session_id=session_id)
        body = s.SessionBodySerializer(session, data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        saved = session_update(session=session, data=body.session_input(), reflection=body.reflection)
        return Response(
            s.SessionSerializer(session_get(learner=saved.session.learner, session_id=session_id)).data
        )

    @extend_schema(responses={204: None}, tags=["sessions"])
    def delete(self, request: Request, session_id: int) -> Response:
        session_delete(session=session_get(learner=request_learner(request), session_id=session_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionReflection(APIView):
    """A session's reflection on its own: read, set (all answers empty removes it), clear."""

    @extend_schema(responses=s.ReflectionSerializer, tags=["reflections"])
    def get(self, request: Request, session_id: int) -> Response:
        session = session_get(learner=request_learner(request), session_id=session_id)
        reflection = getattr(session, "reflection", None)
        if reflection is None:
            raise exceptions.NotFound(_("This session has no reflection yet."))
        return Response(s.ReflectionSerializer(reflection).data)

    @extend_schema(
        request=s.ReflectionBodySerializer,
        responses={200: s.ReflectionSerializer, 204: OpenApiResponse(description="All empty: removed.")},
        tags=["reflections"],
    )
    def put(self, request: Request, session_id: int) -> Response:
        session = session_get(learner=request_learner(request), session_id=session_id)
        body = s.ReflectionBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reflection = session_reflect(session=session, reflection=body.reflection_input())
        if reflection is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.ReflectionSerializer(reflection).data)

    @extend_schema(responses={204: None}, tags=["reflections"])
    def delete(self, request: Request, session_id: int) -> Response:
        """Clear the answers (as the pages do, what no form asks any more is kept)."""
        session = session_get(learner=request_learner(request), session_id=session_id)
        session_reflect(session=session, reflection=ReflectionInput())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["reflections"])
class ReflectionList(ListView):
    serializer_class = s.ReflectionSerializer

    def get_queryset(self) -> QuerySet[Reflection]:
        return reflection_list(learner=request_learner(self.request))


@extend_schema(tags=["self-reports"])
class SelfReportList(ListView):
    serializer_class = s.SelfReportSerializer

    def get_queryset(self) -> QuerySet[SelfReport]:
        return selfreport_list(learner=request_learner(self.request))

    @extend_schema(
        request=s.SelfReportBodySerializer, responses={201: s.SelfReportSerializer}, tags=["self-reports"]
    )
    def post(self, request: Request) -> Response:
        body = s.SelfReportBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = selfreport_submit(learner=request_learner(request), answers=body.validated_data["answers"])
        return Response(s.SelfReportSerializer(report).data, status=status.HTTP_201_CREATED)


class SelfReportItems(APIView):
    """The questionnaire's statements, in the request's language."""

    @extend_schema(responses=s.SelfReportItemSerializer(many=True), tags=["self-reports"])
    def get(self, request: Request) -> Response:
        rows = [
            {"key": item.key, "dimension": item.dimension, "text": str(item.text), "reversed": item.reversed}
            for item in ITEMS
        ]
        return Response(s.SelfReportItemSerializer(rows, many=True).data)


class CurrentRecommendation(APIView):
    @extend_schema(responses=s.CurrentRecommendationSerializer, tags=["recommendations"])
    def get(self, request: Request) -> Response:
        learner = request_learner(request)
        latest = recommendation_selectors.recommendation_latest(learner=learner)
        state = recommendation_selectors.recommendation_status(learner=learner, latest=latest)
        body = {"status": state.value, "status_label": str(state.label), "recommendation": latest}
        return Response(s.CurrentRecommendationSerializer(body).data)


class RecommendationRequest(APIView):
    """Ask for a recommendation for a situation (a subject, a kind of task); it follows in the
    background, and GET /api/v1/recommendation/ shows it when it is ready."""

    @extend_schema(
        request=s.SituationSerializer, responses={202: s.QueuedSerializer}, tags=["recommendations"]
    )
    def post(self, request: Request) -> Response:
        body = s.SituationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        queued = recommendation_request(
            learner_id=request_learner(request).pk,
            subject=body.validated_data["subject"].strip(),
            task_kind=body.validated_data["task_kind"],
        )
        if queued is False:
            raise Unavailable()
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)


class Unavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "engine_unavailable"

    def __init__(self) -> None:
        super().__init__(_("The background engine cannot be reached right now; please try again later."))


class RecommendationFollow(APIView):
    @extend_schema(request=None, responses=s.RecommendationSerializer, tags=["recommendations"])
    def post(self, request: Request, recommendation_id: int) -> Response:
        recommendation = _recommendation(request, recommendation_id)
        recommendation_respond(recommendation=recommendation, status=Recommendation.Status.FOLLOWED)
        return Response(s.RecommendationSerializer(recommendation).data)


class RecommendationDismiss(APIView):
    """Set a recommendation aside, with a reason if you like; the next best one follows."""

    @extend_schema(
        request=s.DismissSerializer, responses=s.RecommendationSerializer, tags=["recommendations"]
    )
    def post(self, request: Request, recommendation_id: int) -> Response:
        recommendation = _recommendation(request, recommendation_id)
        body = s.DismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        recommendation_respond(
            recommendation=recommendation,
            status=Recommendation.Status.DISMISSED,
            dismissed_reason=body.validated_data["reason"],
        )
        return Response(s.RecommendationSerializer(recommendation).data)


def _recommendation(request: Request, recommendation_id: int) -> Recommendation:
    return recommendation_selectors.recommendation_get(
        learner=request_learner(request), recommendation_id=recommendation_id
    )
