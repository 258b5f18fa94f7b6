"""Read access for educators to their cohorts, with exactly the educator panel's permissions:
cohorts they own or co-teach (learners.permissions, 404 for any other), their members' sessions,
and session notes and reflections only of members who share them with that cohort."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from learners.api import serializers as s
from learners.api.permissions import IsEducator
from learners.api.views.base import ListView
from learners.models import Cohort, CohortMembership, Reflection, StudySession
from learners.permissions import cohort_for_educator, membership_for_educator
from learners.selectors.cohorts import cohort_list_for_educator, member_shared_reflections, member_table
from learners.selectors.sessions import session_list


class EducatorView(APIView):
    permission_classes = [*APIView.permission_classes, IsEducator]


class EducatorListView(ListView):
    permission_classes = [*ListView.permission_classes, IsEducator]


def _membership(request: Request, cohort_id: int, learner_id: int) -> CohortMembership:
    cohort = cohort_for_educator(user=request.user, cohort_id=cohort_id)
    return membership_for_educator(cohort=cohort, learner_id=learner_id)


@extend_schema(tags=["cohorts"])
class CohortList(EducatorListView):
    """The cohorts the educator owns or co-teaches, archived ones last."""

    serializer_class = s.CohortSerializer

    def get_queryset(self) -> QuerySet[Cohort]:
        return cohort_list_for_educator(user=self.request.user, include_archived=True)


class CohortDetail(EducatorView):
    @extend_schema(responses=s.CohortSerializer, tags=["cohorts"])
    def get(self, request: Request, cohort_id: int) -> Response:
        cohort = cohort_for_educator(user=request.user, cohort_id=cohort_id)
        return Response(s.CohortSerializer(cohort).data)


@extend_schema(tags=["cohorts"])
class MemberList(EducatorListView):
    """The members as the cohort page's table shows them."""

    serializer_class = s.MemberSerializer

    def get_queryset(self) -> QuerySet[CohortMembership]:
        cohort = cohort_for_educator(user=self.request.user, cohort_id=self.kwargs["cohort_id"])
        return member_table(cohort=cohort)


@extend_schema(tags=["cohorts"])
class MemberSessionList(EducatorListView):
    """A member's sessions; `notes` and `reflection` are null unless the member shares them."""

    serializer_class = s.MemberSessionSerializer

    def get_queryset(self) -> QuerySet[StudySession]:
        self.membership = _membership(self.request, self.kwargs["cohort_id"], self.kwargs["learner_id"])
        return session_list(learner=self.membership.learner)

    def get_serializer_context(self) -> dict[str, Any]:
        membership = getattr(self, "membership", None)
        return {
            **super().get_serializer_context(),
            "shared": bool(membership and membership.share_reflections),
        }


@extend_schema(tags=["cohorts"])
class MemberReflectionList(EducatorListView):
    """A member's reflections if they share them with this cohort; an empty list if not."""

    serializer_class = s.ReflectionSerializer

    def get_queryset(self) -> QuerySet[Reflection]:
        membership = _membership(self.request, self.kwargs["cohort_id"], self.kwargs["learner_id"])
        return member_shared_reflections(membership=membership)
