"""Forms validate what a person typed; services validate the invariants again."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from coach.models import Strategy
from learners.models import (
    EARLIEST_SESSION_DATE,
    FUTURE_SLACK,
    GOAL_MINUTES_MAX,
    GOAL_MINUTES_MIN,
    MINUTES_MAX,
    SUBJECT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TIMEZONE_NAMES,
    PlannedSession,
    Recommendation,
    Reflection,
    StudySession,
    TaskKind,
    validate_not_future,
    validate_not_too_early,
)
from learners.selectors.sessions import SessionFilters
from learners.selfreport import ITEMS, SCALE
from learners.services.email_address import email_validate
from learners.services.sessions import ReflectionInput, SessionInput
from learners.services.study import TimerFinish, TimerStart


class SignupForm(UserCreationForm):
    """Django's own sign-up form (username, password1, password2, its password checks) and an
    e-mail address, required and not used by anyone else, so the password can be recovered."""

    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("We send a link to confirm it, and a reset link if you forget your password."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    # Filled by static/js/timezone.js with the browser's zone; without JavaScript, UTC until changed.
    timezone = forms.CharField(
        required=False, max_length=64, widget=forms.HiddenInput(attrs={"data-detect-timezone": ""})
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def clean_email(self) -> str:
        return _email_cleaned(self.cleaned_data["email"], user_id=None)

    def clean_timezone(self) -> str:
        # Not a reason to refuse a sign-up: an unknown zone falls back to UTC, editable in settings.
        name = self.cleaned_data["timezone"]
        return name if name in TIMEZONE_NAMES else "UTC"


def timezone_choices(current: str = "") -> list[tuple[str, str]]:
    """Area/City names, which people recognise, and UTC; the learner's own zone if it is another."""
    names = {n for n in TIMEZONE_NAMES if "/" in n and not n.startswith("Etc/")} | {"UTC"}
    if current in TIMEZONE_NAMES:
        names.add(current)
    return [(n, n.replace("_", " ")) for n in sorted(names)]


class TimezoneForm(forms.Form):
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Times, days, weeks and streaks are shown and counted in this zone."),
    )

    def __init__(self, *args: Any, current: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["timezone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = timezone_choices(current)
        field.error_messages["invalid_choice"] = _(
            "“%(value)s” is not a time zone we know. Choose one from the list, such as Europe/London."
        )


def _email_cleaned(email: str, *, user_id: int | None) -> str:
    try:
        return email_validate(email=email, user_id=user_id)
    except ValidationError as exc:
        raise forms.ValidationError(exc.messages, code="taken") from exc


class EmailChangeForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def __init__(self, *args: Any, user_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_id = user_id

    def clean_email(self) -> str:
        return _email_cleaned(self.cleaned_data["email"], user_id=self.user_id)


class LoginForm(AuthenticationForm):
    """Django's login form; the name field also takes the e-mail address (learners.backends)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username or e-mail address")
        self.error_messages = {
            **self.error_messages,
            "invalid_login": _(
                "That username or e-mail address and password do not match an account. "
                "Both are case-sensitive except the e-mail address."
            ),
        }


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


# templates/includes/subject_suggestions.html renders the list, from the view's `subject_suggestions`.
SUBJECT_SUGGESTIONS_ID = "subject-suggestions"


def subject_input() -> forms.TextInput:
    # No autocomplete="off": it would also stop browsers restoring the field on going back.
    return forms.TextInput(attrs={"list": SUBJECT_SUGGESTIONS_ID})


class StrategyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Strategy) -> str:
        return f"{obj.label} ({obj.get_utility_display().lower()})"


TOO_LONG = ngettext_lazy(
    "Shorten this to %(limit_value)d character or fewer; it has %(show_value)d.",
    "Shorten this to %(limit_value)d characters or fewer; it has %(show_value)d.",
    "limit_value",
)


class CountedCharField(forms.CharField):
    """Free text with a limit, a message that names it, and a live counter under the field.

    templates/includes/field.html adds the counter and static/js/forms.js keeps it live. No
    `maxlength` attribute: a browser would cut a pasted text at the limit without a word; the
    counter shows the overflow instead, and without JavaScript the server's message does.
    """

    counted = True

    def __init__(self, *, max_length: int = TEXT_MAX_LENGTH, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs["error_messages"] = {"max_length": TOO_LONG, **kwargs.get("error_messages", {})}
        super().__init__(max_length=max_length, **kwargs)

    def to_python(self, value: Any) -> str:
        # Browsers send a line break as CR LF; one character, as the page's counter counts it.
        return str(super().to_python(value)).replace("\r\n", "\n")

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


def _textarea(rows: int = 2) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


OUT_OF_DATE = _("This page was out of date, so nothing was saved. Check the form and save it again.")


class SubmissionKeyInput(forms.TextInput):
    """A hidden text box rather than `type=hidden`: going back to a page, browsers restore what was
    typed into a form, even into a page they fetch again, but never a hidden input. Once
    static/js/forms.js has marked the key as typed, it comes back with the learner's entries."""

    def __init__(self) -> None:
        super().__init__(attrs={"hidden": True})

    @property
    def is_hidden(self) -> bool:
        return True

    def use_required_attribute(self, initial: Any) -> bool:
        return False


class SubmissionKeyField(forms.UUIDField):
    """The one-time key of a rendered form; a page that lost it is given a new one to submit with."""

    widget = SubmissionKeyInput

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            uuid.UUID(str(data))
        except ValueError:
            return initial
        return data


class SubmittedOnce(forms.Form):
    """A form that saves once: submitted again (back and resubmit, a double click), it saves nothing.

    The key is issued when the form is rendered; the service records it with what it saved.
    """

    submission_key = SubmissionKeyField(
        initial=uuid.uuid4, error_messages={"required": OUT_OF_DATE, "invalid": OUT_OF_DATE}
    )

    def submitted_key(self) -> uuid.UUID:
        key: uuid.UUID = self.cleaned_data["submission_key"]
        return key


DIFFICULTY_LEVELS = [
    (1, _("very easy")),
    (2, _("easy")),
    (3, _("moderate")),
    (4, _("hard")),
    (5, _("very hard")),
]
FOCUS_LEVELS = [
    (1, _("constantly distracted")),
    (2, _("often distracted")),
    (3, _("sometimes distracted")),
    (4, _("mostly focused")),
    (5, _("fully focused")),
]


class LevelField(forms.TypedChoiceField):
    """A 1–5 rating as a select whose every level says what it means."""

    def __init__(self, *, levels: list[tuple[int, Any]], **kwargs: Any) -> None:
        choices = [(n, format_lazy("{} · {}", n, label)) for n, label in levels]
        super().__init__(choices=choices, coerce=int, initial=3, **kwargs)


class HowItWentFields(forms.Form):
    """Difficulty and focus, asked alike by the log form and the timer."""

    difficulty = LevelField(label=_("Difficulty"), levels=DIFFICULTY_LEVELS)
    focus = LevelField(label=_("Focus"), levels=FOCUS_LEVELS)


REFLECTION_PROMPTS = ["plan", "monitor", "evaluate", "next_time"]


class ReflectionFields(forms.Form):
    """The reflection prompts, asked alike by the log form and the timer."""

    plan = CountedCharField(label=_("Plan: what did you set out to do, and how?"), widget=_textarea())
    monitor = CountedCharField(
        label=_("Monitor: when did you notice it was working, or not?"), widget=_textarea()
    )
    evaluate = CountedCharField(
        label=_("Evaluate: how well did the strategy work for you today?"), widget=_textarea()
    )
    next_time = CountedCharField(
        label=_("Next time: what will you change?"),
        help_text=_("You will see it when you start your next session."),
        widget=_textarea(),
    )

    def reflection_input(self) -> ReflectionInput:
        return ReflectionInput(**{name: self.cleaned_data[name] for name in REFLECTION_PROMPTS})


class StudySessionForm(HowItWentFields, forms.ModelForm):
    strategy = StrategyChoiceField(queryset=Strategy.objects.order_by("position"), label=_("Strategy"))
    started_at = forms.DateTimeField(
        label=_("Started at"),
        validators=[validate_not_too_early, validate_not_future],
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "min": f"{EARLIEST_SESSION_DATE:%Y-%m-%d}T00:00"},
            format="%Y-%m-%dT%H:%M",
        ),
    )
    subject = CountedCharField(
        label=_("Subject"), max_length=SUBJECT_MAX_LENGTH, required=True, widget=subject_input()
    )
    notes = CountedCharField(
        label=capfirst(StudySession._meta.get_field("notes").verbose_name), widget=_textarea(3)
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
            "confidence": forms.NumberInput(attrs={"min": 0, "max": 100}),
            "score": forms.NumberInput(attrs={"min": 0, "max": 100}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        now = timezone.localtime().replace(second=0, microsecond=0)
        # The date picker offers nothing later than now (with the slack the check allows).
        self.fields["started_at"].widget.attrs["max"] = f"{now + FUTURE_SLACK:%Y-%m-%dT%H:%M}"
        if not self.is_bound and not self.instance.pk:
            self.initial.setdefault("started_at", now)

    def to_input(self) -> SessionInput:
        return SessionInput(**{name: self.cleaned_data[name] for name in self.Meta.fields})


class StudySessionNewForm(SubmittedOnce, StudySessionForm):
    """A new session: submitted twice, it is saved once."""


class ReflectionForm(ReflectionFields, forms.ModelForm):
    class Meta:
        model = Reflection
        fields = REFLECTION_PROMPTS

    def to_input(self) -> ReflectionInput:
        return self.reflection_input()


class SituationForm(forms.Form):
    """Another situation to ask the engine about: a subject and a kind of task."""

    subject = forms.CharField(label=_("Subject"), max_length=100, required=False, widget=subject_input())
    task_kind = forms.ChoiceField(
        label=_("Kind of task"), choices=[("", _("Any kind of task")), *TaskKind.choices], required=False
    )


class DismissForm(forms.Form):
    reason = forms.CharField(label=_("Why not now? (optional)"), max_length=200, required=False)


def kept_plan_field() -> forms.TypedChoiceField:
    """Whether the learner kept the 'next time' plan of their last reflection: three answers, as
    an unticked box could not tell "no" from "not answered"."""
    return forms.TypedChoiceField(
        label=_("Did you keep it?"),
        choices=[("", _("Not sure")), ("yes", _("Yes, I kept it")), ("no", _("No, not this time"))],
        coerce=lambda v: v == "yes",
        empty_value=None,
        required=False,
    )


class KeptPlanForm(forms.Form):
    """The log form's question about the last 'next time' plan (the timer asks it when it starts)."""

    kept_previous_plan = kept_plan_field()


class TimerStartForm(forms.Form):
    subject = CountedCharField(
        label=_("Subject"), max_length=SUBJECT_MAX_LENGTH, required=True, widget=subject_input()
    )
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
    kept_previous_plan = kept_plan_field()
    recommendation = forms.IntegerField(widget=forms.HiddenInput, required=False)
    planned = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def to_input(
        self, *, recommendation: Recommendation | None, planned: PlannedSession | None = None
    ) -> TimerStart:
        data = self.cleaned_data
        return TimerStart(
            subject=data["subject"],
            task_kind=data["task_kind"],
            strategy=data["strategy"],
            confidence=data["confidence"],
            pomodoro=data["pomodoro"],
            kept_previous_plan=data["kept_previous_plan"],
            recommendation=recommendation,
            planned=planned,
        )


class TimerFinishForm(SubmittedOnce, HowItWentFields, ReflectionFields):
    minutes = forms.IntegerField(
        label=_("Minutes studied"),
        min_value=1,
        max_value=MINUTES_MAX,
        required=False,
        help_text=_("From the timer; correct it if needed, or leave it empty to save the timer's minutes."),
    )
    score = forms.IntegerField(
        label=_("Self-test score (0–100)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Test yourself now; you can also add it later."),
    )

    def __init__(self, *args: Any, clock_minutes: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        minutes = self.fields["minutes"]
        if clock_minutes is not None:
            # What an empty field saves, shown in it; static/js/timer.js keeps it with the clock.
            minutes.widget.attrs["placeholder"] = clock_minutes
            if not self.is_bound:
                minutes.initial = clock_minutes
        if not self.is_bound:
            minutes.widget.attrs["data-follows-clock"] = "true"

    def to_input(self) -> tuple[TimerFinish, ReflectionInput]:
        data = self.cleaned_data
        finish = TimerFinish(
            minutes=data["minutes"], difficulty=data["difficulty"], score=data["score"], focus=data["focus"]
        )
        return finish, self.reflection_input()


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


SORT_CHOICES = [
    ("newest", _("Newest first")),
    ("oldest", _("Oldest first")),
    ("score", _("Highest score first")),
    ("minutes", _("Longest first")),
]


class SessionFilterForm(forms.Form):
    """The session list's filters, sent by GET; every field may stay empty."""

    search = forms.CharField(label=_("Search subjects and notes"), max_length=100, required=False)
    subject = forms.CharField(
        label=_("Subject"), max_length=SUBJECT_MAX_LENGTH, required=False, widget=subject_input()
    )
    strategy = StrategyChoiceField(
        queryset=Strategy.objects.order_by("position"),
        label=_("Strategy"),
        required=False,
        empty_label=_("Any strategy"),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    sort = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The last day is before the first one."))
        return data

    def filters(self) -> SessionFilters:
        """What was asked, or no filter at all while the form has errors (they are shown)."""
        if not self.is_bound or not self.is_valid():
            return SessionFilters()
        data = self.cleaned_data
        return SessionFilters(
            subject=data["subject"],
            strategy=data["strategy"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            search=data["search"],
            sort=data["sort"] or "newest",
        )


class GoalForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX_LENGTH, widget=subject_input())
    weekly_minutes = forms.IntegerField(
        label=_("Goal: minutes a week"),
        min_value=GOAL_MINUTES_MIN,
        max_value=GOAL_MINUTES_MAX,
        error_messages={
            "min_value": _("Set a goal of at least %(limit_value)s minutes a week."),
            "max_value": _("Set a goal of at most %(limit_value)s minutes a week (40 hours)."),
        },
    )
    exam_date = forms.DateField(
        label=_("Exam date (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class SubjectRenameForm(forms.Form):
    """Renaming a subject; a name the learner already uses merges the two."""

    old = forms.ChoiceField(label=_("Subject"))
    new = forms.CharField(
        label=_("New name, or a subject to merge it into"),
        max_length=SUBJECT_MAX_LENGTH,
        widget=subject_input(),
    )

    def __init__(self, *args: Any, subjects: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["old"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(s, s) for s in sorted(subjects, key=str.casefold)]
