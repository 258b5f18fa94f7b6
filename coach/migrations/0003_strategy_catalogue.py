"""Seed the strategy catalogue: the ten techniques rated by Dunlosky et al. (2013).

The how-to texts are Metacoach's own short instructions. Re-running updates the texts and
ratings in place by slug, so an edited catalogue keeps its ids and its sessions.
"""

from django.db import migrations

SOURCE = (
    "Dunlosky, Rawson, Marsh, Nathan & Willingham (2013). Improving students' learning with effective "
    "learning techniques. Psychological Science in the Public Interest, 14(1), 4-58."
)

CATALOGUE = [
    (
        "practice-testing",
        "Practice testing",
        "high",
        "Test yourself instead of reading again.",
        "Close your notes and answer questions from memory: flashcards, past exam questions, or questions you "
        "write yourself. Check your answers afterwards and note what you missed; retrieving is what strengthens "
        "memory, even when you get it wrong.",
    ),
    (
        "distributed-practice",
        "Distributed practice",
        "high",
        "Spread study over several shorter sessions.",
        "Split the time you would cram into sessions on different days, and come back to earlier material after a "
        "gap of a day or more. The forgetting between sessions makes each return more effective.",
    ),
    (
        "elaborative-interrogation",
        "Elaborative interrogation",
        "moderate",
        "Ask yourself why each fact is true.",
        'For each statement you study, ask "why would this be so?" and answer it in your own words, linking it to '
        "what you already know. Works best when you have some background in the topic.",
    ),
    (
        "self-explanation",
        "Self-explanation",
        "moderate",
        "Explain each step to yourself as you go.",
        "While reading a text or working through an example, stop after each step and explain how it follows and "
        "how it connects to the previous one. Say it aloud or write it down.",
    ),
    (
        "interleaved-practice",
        "Interleaved practice",
        "moderate",
        "Mix different kinds of problems in one session.",
        "Instead of doing ten problems of one type in a row, shuffle problems of several types, so that you must "
        "first decide which method each one needs. It feels harder, and that is the point.",
    ),
    (
        "summarization",
        "Summarization",
        "low",
        "Write summaries of what you read.",
        "After each section, write a short summary in your own words without copying. It helps only if you can "
        "already write good summaries; test yourself on the summary afterwards.",
    ),
    (
        "highlighting",
        "Highlighting and underlining",
        "low",
        "Mark important passages while reading.",
        "Mark only the few key ideas in each section, then turn them into questions to test yourself. Highlighting "
        "alone feels productive but rarely improves results.",
    ),
    (
        "keyword-mnemonic",
        "Keyword mnemonic",
        "low",
        "Link new words to familiar ones with an image.",
        "For a new term, pick a familiar word that sounds like it and imagine a vivid scene joining the two. Useful "
        "for vocabulary with concrete meanings; the memories can fade quickly.",
    ),
    (
        "imagery-for-text",
        "Imagery for text",
        "low",
        "Picture what you read.",
        "While reading, form a mental image of each passage's content. It helps with text that describes things "
        "you can picture, much less with abstract material.",
    ),
    (
        "rereading",
        "Rereading",
        "low",
        "Read the material again.",
        "Read the text again after a break rather than straight away. Rereading makes material feel familiar, "
        "which is easy to mistake for knowing it: finish with a self-test.",
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
