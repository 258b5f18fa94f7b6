"""The verbs and the extension IRIs our statements use.

Verbs come from the ADL registry (http://adlnet.gov/expapi/verbs/):

- a study session is `completed`: "the actor finished or concluded the activity normally" — a
  logged session is one the learner finished (the timer saves it when they stop). `experienced`
  would say less (no completion), `attempted` would suggest it may be unfinished;
- a reflection is `commented`: "the actor provided digital or written annotations on or about an
  object", the text going in `result.response`; the registry has no "reflected";
- an edited or deleted session's earlier statement is `voided` (the xAPI spec's own verb).

Extension IRIs live under the instance's base URL (`settings.XAPI_BASE_URL`) at
`/xapi/extensions/<name>`, and each resolves to a page that documents it (`learners.views.xapi`).
The names below are part of the format: never rename one, add a new one instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

XAPI_VERSION = "1.0.3"


@dataclass(frozen=True)
class Verb:
    id: str
    en: str
    zh: str

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "display": {"en-US": self.en, "zh-CN": self.zh}}


COMPLETED = Verb("http://adlnet.gov/expapi/verbs/completed", "completed", "完成")
COMMENTED = Verb("http://adlnet.gov/expapi/verbs/commented", "commented", "评论")
VOIDED = Verb("http://adlnet.gov/expapi/verbs/voided", "voided", "作废")


@dataclass(frozen=True)
class Extension:
    """An extension of ours: its name in the IRI, where it sits, its value and what it means."""

    name: str
    where: str
    value: Promise
    meaning: Promise


EXTENSIONS = {
    extension.name: extension
    for extension in (
        Extension(
            "strategy",
            "context.extensions",
            _("a string: the strategy's key in the catalogue, such as practice-testing"),
            _("The study strategy the learner used in the session."),
        ),
        Extension(
            "recommended-strategy",
            "context.extensions",
            _("a string: a strategy's key, present only when the session followed a recommendation"),
            _(
                "The strategy Metacoach recommended for the session, "
                "when the learner started from a recommendation."
            ),
        ),
        Extension(
            "confidence-before",
            "context.extensions",
            _("an integer from 0 to 100"),
            _(
                "The share of questions the learner expected to answer right in a self-test afterwards, "
                "asked before the session."
            ),
        ),
        Extension(
            "task-kind",
            "context.extensions",
            _("one of memorise, understand, solve, practise, write"),
            _(
                "The kind of task studied: memorise facts, understand concepts, solve problems, "
                "practise a skill or write."
            ),
        ),
        Extension(
            "difficulty",
            "context.extensions",
            _("an integer from 1 (easy) to 5 (hard)"),
            _("How hard the learner found the material."),
        ),
        Extension(
            "focus",
            "context.extensions",
            _("an integer from 1 (distracted) to 5 (fully focused)"),
            _("How focused the learner was during the session."),
        ),
        Extension(
            "reflection",
            "result.extensions",
            _(
                "an object with the keys plan, monitor, evaluate, what_worked and next_time (text), "
                "each present only when answered"
            ),
            _(
                "The learner's answers to the reflection prompts, by prompt; "
                "only in statements whose reader may read them."
            ),
        ),
        Extension(
            "kept-previous-plan",
            "result.extensions",
            _("true or false"),
            _("Whether the learner kept the plan they wrote for next time at their previous session."),
        ),
    )
}


def extension_iri(base_url: str, name: str) -> str:
    if name not in EXTENSIONS:
        raise KeyError(name)
    return f"{base_url}/xapi/extensions/{name}"
