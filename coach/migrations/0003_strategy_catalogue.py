"""Seed the strategy catalogue: the ten techniques rated by Dunlosky et al. (2013).

The how-to texts are Metacoach's own short instructions. Names, summaries and how-tos are marked
for translation: the catalogue stores English, and pages show `Strategy.label` and its siblings. Re-running updates the texts and
ratings in place by slug, so an edited catalogue keeps its ids and its sessions.
"""

from django.db import migrations
from django.utils.translation import gettext_noop as _

SOURCE = (
    "Dunlosky, Rawson, Marsh, Nathan & Willingham (2013). Improving students' learning with effective "
    "learning techniques. Psychological Science in the Public Interest, 14(1), 4-58."
)

CATALOGUE = [
    (
        "practice-testing",
        _("Practice testing"),
        "high",
        _("Test yourself instead of reading again."),
        _(
            "Close your notes and answer questions from memory: flashcards, past exam questions, or "
            "questions you write yourself. Check your answers afterwards and note what you missed; "
            "retrieving is what strengthens memory, even when you get it wrong."
        ),
    ),
    (
        "distributed-practice",
        _("Distributed practice"),
        "high",
        _("Spread study over several shorter sessions."),
        _(
            "Split the time you would cram into sessions on different days, and come back to earlier "
            "material after a gap of a day or more. The forgetting between sessions makes each return more "
            "effective."
        ),
    ),
    (
        "elaborative-interrogation",
        _("Elaborative interrogation"),
        "moderate",
        _("Ask yourself why each fact is true."),
        _(
            'For each statement you study, ask "why would this be so?" and answer it in your own words, '
            "linking it to what you already know. Works best when you have some background in the topic."
        ),
    ),
    (
        "self-explanation",
        _("Self-explanation"),
        "moderate",
        _("Explain each step to yourself as you go."),
        _(
            "While reading a text or working through an example, stop after each step and explain how it "
            "follows and how it connects to the previous one. Say it aloud or write it down."
        ),
    ),
    (
        "interleaved-practice",
        _("Interleaved practice"),
        "moderate",
        _("Mix different kinds of problems in one session."),
        _(
            "Instead of doing ten problems of one type in a row, shuffle problems of several types, so that "
            "you must first decide which method each one needs. It feels harder, and that is the point."
        ),
    ),
    (
        "summarization",
        _("Summarization"),
        "low",
        _("Write summaries of what you read."),
        _(
            "After each section, write a short summary in your own words without copying. It helps only if "
            "you can already write good summaries; test yourself on the summary afterwards."
        ),
    ),
    (
        "highlighting",
        _("Highlighting and underlining"),
        "low",
        _("Mark important passages while reading."),
        _(
            "Mark only the few key ideas in each section, then turn them into questions to test yourself. "
            "Highlighting alone feels productive but rarely improves results."
        ),
    ),
    (
        "keyword-mnemonic",
        _("Keyword mnemonic"),
        "low",
        _("Link new words to familiar ones with an image."),
        _(
            "For a new term, pick a familiar word that sounds like it and imagine a vivid scene joining the "
            "two. Useful for vocabulary with concrete meanings; the memories can fade quickly."
        ),
    ),
    (
        "imagery-for-text",
        _("Imagery for text"),
        "low",
        _("Picture what you read."),
        _(
            "While reading, form a mental image of each passage's content. It helps with text that describes"
            " things you can picture, much less with abstract material."
        ),
    ),
    (
        "rereading",
        _("Rereading"),
        "low",
        _("Read the material again."),
        _(
            "Read the text again after a break rather than straight away. Rereading makes material feel "
            "familiar, which is easy to mistake for knowing it: finish with a self-test."
        ),
    ),
]


def seed(apps, schema_editor):
    Strategy = apps.get_model("coach", "Strategy")
    for position, (slug, name, utility, summary, how_to) in enumerate(CATALOGUE):
        Strategy.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "utility": utility,
                "summary": summary,
                "how_to": how_to,
                "evidence_source": SOURCE,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("coach", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
