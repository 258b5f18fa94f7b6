"""Forms validate what a person typed; services validate the invariants again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coach.models import Strategy
from learners.models import (
    MINUTES_MAX,
    Recommendation,
    Reflection,
    StudySession,
    TaskKind,
    validate_not_future,
)
from learners.selfreport import ITEMS, SCALE
from learners.services.sessions import ReflectionInput, SessionInput
from learners.services.study import TimerFinish, TimerStart


class SignupForm(UserCreationForm):
    """Django's own sign-up form: username, password1, password2, with its password checks."""


class StrategyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Strategy) -> str:
        return f"{obj.label} ({obj.get_utility_display().lower()})"


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


class SituationForm(forms.Form):
    """Another situation to ask the engine about: a subject and a kind of task."""

    subject = forms.CharField(label=_("Subject"), max_length=100, required=False)
    task_kind = forms.ChoiceField(
        label=_("Kind of task"), choices=[("", _("Any kind of task")), *TaskKind.choices], required=False
    )


class DismissForm(forms.Form):
    reason = forms.CharField(label=_("Why not now? (optional)"), max_length=200, required=False)


class TimerStartForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=100)
    task_kind = forms.ChoiceField(label=_("Kind of task"), choices=TaskKind.choices)
    strategy = StrategyChoiceField(queryset=Strategy.objects.order_by("position"), label=_("Strategy"))
    confidence = forms.IntegerField(
        label=_("Confidence: what self-test score do you expect afterwards? (0–100)"),
        min_value=0,
        max_value=100,
        help_text=_("The share of questions you expect to answer right."),
    )
    pomodoro = forms.BooleanField(
        label=_("Pomodoro: 25 minutes of focus, then a 5-minute break"), required=False
    )
    kept_previous_plan = forms.TypedChoiceField(
        label=_("Did you keep it?"),
        choices=[("", _("Not sure")), ("yes", _("Yes, I kept it")), ("no", _("No, not this time"))],
        coerce=lambda v: v == "yes",
        empty_value=None,
        required=False,
    )
    recommendation = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def to_input(self, *, recommendation: Recommendation | None) -> TimerStart:
        data = self.cleaned_data
        return TimerStart(
            subject=data["subject"],
            task_kind=data["task_kind"],
            strategy=data["strategy"],
            confidence=data["confidence"],
            pomodoro=data["pomodoro"],
            kept_previous_plan=data["kept_previous_plan"],
            recommendation=recommendation,
        )


class TimerFinishForm(forms.Form):
    minutes = forms.IntegerField(
        label=_("Minutes studied"),
        min_value=1,
        max_value=MINUTES_MAX,
        help_text=_("From the timer; correct it if needed."),
    )
    score = forms.IntegerField(
        label=_("Self-test score (0–100)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Test yourself now; you can also add it later."),
    )
    difficulty = forms.TypedChoiceField(
        label=_("Difficulty"),
        choices=[(i, str(i)) for i in range(1, 6)],
        coerce=int,
        initial=3,
        help_text=_("1 = very easy, 5 = very hard."),
    )
    focus = forms.TypedChoiceField(
        label=_("Focus"),
        choices=[(i, str(i)) for i in range(1, 6)],
        coerce=int,
        initial=3,
        help_text=_("1 = constantly distracted, 5 = fully focused."),
    )
    plan = forms.CharField(
        label=_("Plan: what did you set out to do, and how?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    monitor = forms.CharField(
        label=_("Monitor: when did you notice it was working, or not?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    evaluate = forms.CharField(
        label=_("Evaluate: how well did the strategy work for you today?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    next_time = forms.CharField(
        label=_("What will you change next time?"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def to_input(self) -> tuple[TimerFinish, ReflectionInput]:
        data = self.cleaned_data
        finish = TimerFinish(
            minutes=data["minutes"], difficulty=data["difficulty"], score=data["score"], focus=data["focus"]
        )
        reflection = ReflectionInput(
            plan=data["plan"], monitor=data["monitor"], evaluate=data["evaluate"], next_time=data["next_time"]
        )
        return finish, reflection


class SelfReportForm(forms.Form):
    """One radio group per statement of the questionnaire."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in ITEMS:
            self.fields[item.key] = forms.TypedChoiceField(
                label=str(item.text), choices=SCALE, coerce=int, widget=forms.RadioSelect
            )

    def answers(self) -> dict[str, int]:
        return {item.key: self.cleaned_data[item.key] for item in ITEMS}


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    next = forms.CharField(required=False, widget=forms.HiddenInput)
