"""Reads for the study timer: elapsed time, the Pomodoro phase, prompts for the chosen strategy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from learners.models import Learner, StudyTimer

POMODORO_FOCUS_MINUTES = 25
POMODORO_BREAK_MINUTES = 5

# What to do during a session, by strategy; the timer shows them in turn.
STRATEGY_PROMPTS: dict[str, tuple[Promise, ...]] = {
    "practice-testing": (
        _("Close your notes and write down everything you remember."),
        _("Answer a question from memory before you check the answer."),
        _("Check what you wrote against your notes and mark what you missed."),
    ),
    "distributed-practice": (
        _("Start by recalling what you studied in your last session on this topic."),
        _("Note when you will come back to this topic: in a day, then in a few days."),
    ),
    "elaborative-interrogation": (
        _("For each fact, ask yourself: why is this true?"),
        _("Explain how this idea connects to something you already know."),
    ),
    "self-explanation": (
        _("After each step, explain to yourself why it follows."),
        _("Say out loud what is new in this paragraph and how it fits the rest."),
    ),
    "interleaved-practice": (
        _("Switch to a different kind of problem now."),
        _("Before solving, name which method this problem needs and why."),
    ),
    "summarization": (
        _("Close the text and write a summary of it in your own words."),
        _("Keep only the main ideas: could you say them in three sentences?"),
    ),
    "highlighting": (
        _("Mark no more than one sentence per paragraph."),
        _("Turn one highlighted sentence into a question and answer it from memory."),
    ),
    "keyword-mnemonic": (
        _("Make a vivid image that links the keyword to its meaning."),
        _("Cover the meanings and recall them from the keywords."),
    ),
    "imagery-for-text": (
        _("Picture what the text describes, as a scene or a diagram."),
        _("Sketch the image you formed, then check it against the text."),
    ),
    "rereading": (
        _("Before you reread, write down what you remember from the first time."),
        _("After rereading, close the text and test yourself on one section."),
    ),
}
GENERAL_PROMPTS: tuple[Promise, ...] = (
    _("Is what you are doing now moving you towards your goal for this session?"),
    _("Could you explain what you just studied to a friend?"),
)


@dataclass(frozen=True)
class PomodoroPhase:
    on_break: bool
    round: int  # 1-based
    seconds_left: int


def timer_get(*, learner: Learner) -> StudyTimer | None:
    return (
        StudyTimer.objects.filter(learner=learner)
        .select_related("strategy", "recommendation", "learner")
        .first()
    )


def timer_elapsed_seconds(*, timer: StudyTimer, now: datetime | None = None) -> int:
    end = timer.paused_at or now or timezone.now()
    return max(0, int((end - timer.started_at).total_seconds()) - timer.paused_seconds)


def timer_prompts(*, strategy_slug: str) -> tuple[Promise, ...]:
    return STRATEGY_PROMPTS.get(strategy_slug, ()) + GENERAL_PROMPTS


def pomodoro_phase(*, elapsed_seconds: int) -> PomodoroPhase:
    cycle = (POMODORO_FOCUS_MINUTES + POMODORO_BREAK_MINUTES) * 60
    round_index, into = divmod(elapsed_seconds, cycle)
    focus = POMODORO_FOCUS_MINUTES * 60
    if into < focus:
        return PomodoroPhase(on_break=False, round=round_index + 1, seconds_left=focus - into)
    return PomodoroPhase(on_break=True, round=round_index + 1, seconds_left=cycle - into)
