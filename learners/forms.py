"""Forms validate what a person typed; services validate the invariants again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coach.models import Strategy
from learners.models import Reflection, StudySession, validate_not_future
from learners.services.sessions import ReflectionInput, SessionInput


class SignupForm(UserCreationForm):
    """Django's own sign-up form: username, password1, password2, with its password checks."""


class StrategyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Strategy) -> str:
        return f"{obj.name} ({obj.get_utility_display().lower()})"


class StudySessionForm(forms.ModelForm):
    strategy = StrategyChoiceField(queryset=Strategy.objects.order_by("position"), label=_("Strategy"))
    started_at = forms.DateTimeField(
        label=_("Started at"),
        validators=[validate_not_future],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    class Meta:
        model = StudySession
        fields = [
            "subject",
            "task_kind",
            "strategy",
            "started_at",
            "minutes",
            "difficulty",
            "confidence",
            "score",
            "focus",
            "notes",
        ]
        widgets = {
            "minutes": forms.NumberInput(attrs={"min": 1, "max": 600}),
            "difficulty": forms.NumberInput(attrs={"min": 1, "max": 5}),
            "confidence": forms.NumberInput(attrs={"min": 0, "max": 100}),
            "score": forms.NumberInput(attrs={"min": 0, "max": 100}),
            "focus": forms.NumberInput(attrs={"min": 1, "max": 5}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "difficulty": _("1 = very easy, 5 = very hard."),
            "focus": _("1 = constantly distracted, 5 = fully focused."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.instance.pk:
            self.initial.setdefault("started_at", timezone.localtime().replace(second=0, microsecond=0))

    def to_input(self) -> SessionInput:
        return SessionInput(**{name: self.cleaned_data[name] for name in self.Meta.fields})


class ReflectionForm(forms.ModelForm):
    class Meta:
        model = Reflection
        fields = ["what_worked", "next_time"]
        widgets = {
            "what_worked": forms.Textarea(attrs={"rows": 2}),
            "next_time": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"what_worked": _("What worked?"), "next_time": _("What will you change next time?")}

    def to_input(self) -> ReflectionInput:
        return ReflectionInput(**{name: self.cleaned_data[name] for name in self.Meta.fields})
