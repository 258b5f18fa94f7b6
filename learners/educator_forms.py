"""Forms of the educator panel and of a learner's cohorts and account settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from learners.models import Cohort


class CohortForm(forms.ModelForm):
    class Meta:
        model = Cohort
        fields = ["name"]
        labels = {"name": _("Cohort name")}


class CohortPolicyForm(forms.ModelForm):
    """How the coach chooses recommendations for the cohort's members."""

    class Meta:
        model = Cohort
        fields = ["policy_rule", "policy_max_cost"]
        labels = {
            "policy_rule": _("How the coach chooses"),
            "policy_max_cost": _("Exploration cap (points out of 100)"),
        }
        help_texts = {
            "policy_rule": _(
                "Thompson sampling (the default) now and then suggests a strategy that is less "
                "known for the learner but close to the best, to find out what suits them; greedy "
                "always suggests the strategy with the best expected score. Members follow this "
                "from their next recommendation. A learner in several cohorts follows the cohort "
                "they joined most recently among those not left at the default."
            ),
            "policy_max_cost": _(
                "With Thompson sampling: the most expected self-test score a suggestion may give "
                "up to explore, from 0 to 20 points (default 5)."
            ),
        }


class CoTeacherForm(forms.Form):
    username = forms.CharField(label=_("Co-teacher's username"), max_length=150)


class JoinCodeForm(forms.Form):
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"),
        min_value=1,
        max_value=365,
        required=False,
        help_text=_("Leave empty for a code that works until you revoke it."),
    )

    def expires_at(self) -> datetime | None:
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + timedelta(days=days) if days else None


class JoinForm(forms.Form):
    code = forms.CharField(label=_("Join code"), max_length=32)
    share_reflections = forms.BooleanField(
        label=_("Let the educators read my session notes and the text of my reflections"),
        required=False,
        help_text=_(
            "Without this box, your session notes and reflections stay private: educators see only "
            "the sessions' facts and scores and the recommendations you were given."
        ),
    )


class SharingForm(forms.Form):
    share_reflections = forms.BooleanField(required=False)


class MemberSearchForm(forms.Form):
    q = forms.CharField(label=_("Search members"), required=False, max_length=150)
    sort = forms.CharField(required=False, max_length=20)


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."), code="wrong_password")
        return password
