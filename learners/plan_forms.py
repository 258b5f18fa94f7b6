"""Forms of the study plan: accept a spaced plan for a subject, move a planned session, and the
daily reminder's settings."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from coach.models import Strategy
from learners.forms import StrategyChoiceField, subject_input
from learners.models import SUBJECT_MAX_LENGTH
from learners.services.plan import PLAN_STRATEGY_SLUGS


class PlanAcceptForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX_LENGTH, widget=subject_input())
    strategy = StrategyChoiceField(
        queryset=Strategy.objects.filter(slug__in=PLAN_STRATEGY_SLUGS).order_by("position"),
        label=_("Strategy"),
        to_field_name="slug",
        error_messages={"invalid_choice": _("A study plan is for spaced practice or practice testing.")},
    )
    recommendation = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: it shares pages with other forms that have a subject field.
        kwargs.setdefault("auto_id", "plan_%s")
        super().__init__(*args, **kwargs)

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"].strip()
        if not subject:
            raise forms.ValidationError(_("Enter the subject to plan."), code="blank")
        return subject


class PlanMoveForm(forms.Form):
    planned_for = forms.DateField(
        label=_("New day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["planned_for"].widget.attrs["min"] = f"{today:%Y-%m-%d}"

    def clean_planned_for(self) -> date:
        day: date = self.cleaned_data["planned_for"]
        if day < self.today:
            raise forms.ValidationError(
                _("%(date)s has passed. Choose a day from today on."),
                code="past",
                params={"date": date_format(day, "DATE_FORMAT")},
            )
        return day


class ReminderForm(forms.Form):
    reminder_enabled = forms.BooleanField(label=_("E-mail me a reminder each day"), required=False)
    reminder_time = forms.TimeField(
        label=_("At (your local time)"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("Enter a time such as 18:00.")},
    )
