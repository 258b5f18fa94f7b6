"""A simulated population of learners, for benchmarks and tests.

The population is documented here so results on it can be read for what they are. Every
parameter below was set from what is known about students and learning techniques before any
recommendation was scored on it; none was tuned to make a learner look good.

Two designs share everything but the learner-specific parts (`QUIRK_DESIGNS`):
  - "families" (the default): idiosyncrasies come from a few latent sensitivities shared by
    families of strategies, learners' habits vary, self-reports are as weak as they are in
    studies of self-assessment;
  - "independent": the earlier population: an independent quirk per strategy, habits close to
    the survey average, self-reports of reliability 0.6. Nothing learned about one strategy
    carries over to another, so it is a stress case.

Learners. Each has three latent traits drawn from a correlated standard normal: prior knowledge,
self-regulation (planning, sticking to a schedule) and imagery (ease with mental pictures).
Prior knowledge and self-regulation correlate (0.3). Ability on the logit scale is
0.5 * knowledge + N(0, 0.45). The app only sees the traits through a one-off self-report
profile: trait + noise.
  - "families": noise sd `REPORT_NOISE` = (1.7, 2.3, 3.2), so the report correlates 0.5, 0.4
    and 0.3 with the trait. Self-assessments of ability correlate about 0.3 with measured
    ability across studies (Mabe & West 1982), higher when the question is specific and the
    domain familiar, as "how much do you already know about this course" is (0.5); self-reported
    study regulation agrees poorly with traces of what students actually do (Winne &
    Jamieson-Noel 2002) (0.4); imagery vividness questionnaires predict imagery-task
    performance weakly (McKelvie 1995) (0.3).
  - "independent": noise sd 0.8 on every trait (correlation 0.78), which is more than
    self-reports deliver.
The confidence rating before each session (below) is a second, per-session signal of knowledge.

Situations. Each session has a task kind (memorise facts, understand concepts, solve problems,
practise a skill, write; every learner has their own course mix, Dirichlet(2)), a difficulty
in [0, 1] (Beta(2, 2)), planned minutes (log-normal around 30, 5..180) and a confidence rating
before the session (1..5 Likert, driven by knowledge and difficulty, noisy).

Strategies, in catalogue order: practice testing, distributed practice (high utility);
elaborative interrogation, self-explanation, interleaved practice (moderate); summarization,
highlighting, keyword mnemonic, imagery for text, rereading (low). A strategy's effect on the
logit of the expected score is the sum of
  - a main effect that follows the published ratings on average (`MAIN_EFFECT`),
  - a task-kind effect (`TASK_EFFECT`: mnemonics help with facts and hurt elsewhere,
    interleaving helps problem solving, summarising helps writing, ...),
  - trait effects (`TRAIT_EFFECT`: spacing pays off for self-regulated learners, elaborative
    interrogation and interleaving need prior knowledge, imagery techniques need imagery),
  - a difficulty effect (`DIFFICULTY_EFFECT`: self-testing on too-hard material backfires,
    rereading helps least on hard material),
  - a per-learner quirk, independent of the traits and situations, drawn as below.
So the evidence is right on average and wrong for a fair share of learners and situations.

Quirks, "families". Techniques work through a few mechanisms (Dunlosky et al. 2013), and what
makes a technique work or fail for a person acts on the mechanism: test anxiety, tolerance of
effortful "desirable difficulties" and retrieval fluency act on every retrieval-based technique;
the habit of asking "why" and of connecting to what one knows acts on the elaborative ones;
reading fluency and the illusion of knowing act on passive re-exposure; visualisation acts on
imagery and mnemonics. So each learner has one latent sensitivity per family (`FAMILIES`):
  retrieval (practice testing, distributed practice, interleaved practice),
  elaborative (elaborative interrogation, self-explanation),
  passive re-exposure (rereading, highlighting, summarization),
  imagery (keyword mnemonic, imagery for text),
drawn N(0, `FAMILY_CORR`) and scaled by `FAMILY_SD` = 0.25, plus an independent part per
strategy, N(0, `SPECIFIC_SD` = 0.15). `FAMILY_LOADING` has 1.0 for the core of each family and
less where a technique works through two mechanisms: distributed practice 0.8 on retrieval (it
is also planning, already a trait effect); interleaved practice 0.7 on retrieval and 0.3 on
elaborative (it also trains telling problem types apart); summarization 0.7 on passive and 0.4
on elaborative (a good summary is generative, a poor one is re-reading); imagery for text 0.8 on
imagery and 0.3 on elaborative. The total quirk sd is then 0.24-0.29 per strategy, about the
size of the earlier independent quirks (0.3), so the two designs differ in structure more than
in how much learners differ; the shared part is 60-74% of the quirk variance, and quirks
correlate 0.56-0.74 within a family (`quirk_covariance`). `FAMILY_CORR`: retrieval and elaborative
+0.3 (both effortful and generative: who copes with one copes better with the other);
retrieval and passive -0.3, elaborative and passive -0.2 (learners for whom effortful work
backfires, e.g. the test-anxious, lose less with, or gain from, re-exposure); imagery 0 with the
rest (visualisation is a separate ability).
Quirks, "independent": N(0, `QUIRK_SD` = 0.3) per strategy, nothing shared.

Outcome. The self-test score / 100, drawn from a Beta distribution with mean
sigmoid(eta) and concentration 15 (sd about 0.12 at a mean of 0.6), rounded to whole percents.
`Population.true_mean` is that mean for every strategy, which is what recommendations are scored
against.

Behaviour. Learners pick strategies by habit, not by outcome: judgments of learning track the
fluency a technique gives, not its benefit (Kornell & Bjork 2007), so habits are independent of
quirks. Each learner's preference vector is Dirichlet(c * HABIT), and HABIT over-uses rereading
(30%), highlighting (18%) and summarization (12%) the way surveys of students report.
  - "families": c = `HABIT_CONCENTRATION` = 10. Then rereading is the most used strategy of
    55% of learners, as it was the top strategy of 55% of students surveyed by Karpicke, Butler
    & Roediger (2009); the median learner gives at least 5% of sessions to five strategies and
    most use several (Hartwig & Dunlosky 2012), while a minority leans on self-testing.
  - "independent": c = 20, learners close to the average (rereading is the most used strategy
    of 70% of them).
Habits do not depend on the task kind; real students pick flashcards for facts, which would
only make the situation features more informative than here.

Archetypes (`ARCHETYPES_DESIGN`, run as one more variant). The designs above have learners differ
along continuous, Gaussian dimensions, which a model that is linear in what a learner reports and
in their sessions so far can follow. Studies of learning patterns find instead a few kinds of
learner (Vermunt 1998; Vermunt & Vermetten 2004; Vermunt & Donche 2017 for a review of cluster
studies with the Inventory of Learning Styles): meaning-directed (deep processing: relating,
structuring, critical processing; self-regulated), reproduction-directed (stepwise processing:
memorising, rehearsing; regulated by the teacher and the test), application-directed (concrete
processing, use of what is learnt) and undirected (little processing of any kind, lack of
regulation, ambivalence). In this design every learner belongs to one of them, hidden from the
app, and the archetype carries what makes strategies work for them:
  - shares `ARCHETYPE_SHARE` 0.25, 0.35, 0.25, 0.15 (rounded; cluster studies put
    reproduction-directed students as the largest group and undirected ones as the smallest);
  - traits N(`ARCHETYPE_TRAITS`[a], TRAIT_CORR): meaning-directed learners know more and
    regulate themselves (+0.4, +0.5 sd), undirected ones the reverse (-0.4, -0.6), the others
    close to average; with the self-reports as noisy as in "families", the reported profiles of
    the four archetypes overlap almost entirely;
  - a response vector `ARCHETYPE_RESPONSE`[a] in place of the family quirks, plus an individual
    part N(0, `ARCHETYPE_SPECIFIC_SD` = 0.15) per strategy. The patterns literature describes
    what students do more than what works for them, so the vectors are this design's hypothesis,
    read from each pattern's description: elaborative interrogation, self-explanation and
    summarising pay off for meaning-directed learners (+0.45, +0.45, +0.25) and rereading,
    highlighting and mnemonics less (-0.30, -0.25, -0.25); reproduction-directed learners gain
    from a clear target, practice testing and mnemonics (+0.40, +0.30), and do elaborative work
    superficially (-0.35, -0.30, interleaving -0.25); application-directed learners gain from
    interleaving problems, self-explanation and testing (+0.40, +0.20, +0.15) and less from
    passive re-exposure (-0.20); undirected learners gain from imposed structure, a spacing
    schedule and tests (+0.45, +0.20), and lose with techniques that need regulation of their
    own (interleaving -0.35, elaborative interrogation -0.30, self-explanation -0.25). Each
    vector is then centred on its archetype's habits, so the mean outcome of a learner's
    habitual sessions says nothing of their archetype; only which strategies do well does.
    Between archetypes the response has sd 0.09-0.34 per strategy (largest for elaborative
    interrogation, self-explanation and interleaving), so with the individual part a quirk's sd
    is 0.18-0.37, against 0.24-0.29 in "families";
  - habits Dirichlet(`HABIT_CONCENTRATION` * habit_a), habit_a the survey habits tilted by
    `ARCHETYPE_HABIT_TILT` towards the pattern's processing: meaning-directed learners elaborate,
    explain and summarise more and reread and highlight less, reproduction-directed ones reread,
    highlight, use mnemonics and test themselves more, application-directed ones test and
    interleave more, undirected learners keep the survey habits.
So a learner's archetype, and with it their best strategy, is not a linear function of their
self-report nor of the mean of their first sessions: it shows in which strategies they pick and
how each of those does, the way similar learners resemble one another. The Bayes reference knows
the archetypes (`bench.bayes`). This design draws the same base traits, course mixes, report
noise and situations as "families" for one seed.

Variants (`SENSITIVITY`). How far a profile and a handful of sessions can move a recommendation
depends on a few assumptions the literature does not pin down. Each variant changes one of them
in the "families" design, so the bench can show how the best possible regret, and the learners,
move with it. Every part of a population (traits, quirks, course mix, reports, habits; situations,
choices and score noise of sessions) has its own random stream, so for one seed a variant has the
same learners and situations as "families" in all but the assumption it changes:
  - "smaller quirks": family and specific quirk sd halved (0.125, 0.075), for the reading that
    person-by-method interactions are small (the meshing hypothesis has no adequate support,
    Pashler et al. 2008);
  - "reliable self-reports": report noise sd 0.8 on every trait (correlation 0.78);
  - "even habits": every strategy equally likely in every session, as if learners spread their
    practice on purpose; a learner's first sessions then touch every family;
  - "precise self-tests": outcome concentration 40 (sd about 0.08 at a mean of 0.6), as a
    self-test of some forty questions would give.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from coach.engine.log import SessionLog

STRATEGIES = (
    "practice testing",
    "distributed practice",
    "elaborative interrogation",
    "self-explanation",
    "interleaved practice",
    "summarization",
    "highlighting",
    "keyword mnemonic",
    "imagery for text",
    "rereading",
)
UTILITY = ("high", "high", "moderate", "moderate", "moderate", "low", "low", "low", "low", "low")
TASK_KINDS = ("memorise facts", "understand concepts", "solve problems", "practise a skill", "write")
TRAITS = ("prior knowledge", "self-regulation", "imagery")
FEATURES = (
    *(f"task: {kind}" for kind in TASK_KINDS),
    "difficulty",
    "confidence before",
    *(f"self-report: {trait}" for trait in TRAITS),
    "hours planned",
)
N_STRATEGIES = len(STRATEGIES)
N_FEATURES = len(FEATURES)

MAIN_EFFECT = np.array([0.35, 0.30, 0.15, 0.18, 0.12, 0.0, -0.05, 0.0, 0.0, -0.05])
# Rows: strategies; columns: task kinds.
TASK_EFFECT = np.array(
    [
        [0.25, 0.00, 0.05, 0.10, -0.25],
        [0.15, 0.05, 0.00, 0.15, -0.10],
        [-0.05, 0.25, 0.10, -0.15, 0.05],
        [-0.15, 0.20, 0.25, 0.00, 0.00],
        [-0.15, -0.05, 0.30, 0.20, -0.20],
        [-0.15, 0.05, -0.20, -0.20, 0.40],
        [0.05, -0.05, -0.15, -0.20, 0.10],
        [0.35, -0.25, -0.30, -0.20, -0.20],
        [0.15, 0.05, -0.20, -0.10, 0.10],
        [0.10, 0.00, -0.15, -0.15, 0.10],
    ]
)
# Rows: strategies; columns: traits.
TRAIT_EFFECT = np.array(
    [
        [0.00, 0.15, 0.00],
        [0.00, 0.25, 0.00],
        [0.25, 0.00, 0.00],
        [0.15, 0.05, 0.00],
        [0.15, 0.00, 0.00],
        [0.00, 0.10, 0.00],
        [0.00, 0.00, 0.00],
        [0.00, 0.00, 0.25],
        [0.00, 0.00, 0.30],
        [-0.05, 0.00, 0.00],
    ]
)
# Per unit of difficulty above 0.5.
DIFFICULTY_EFFECT = np.array([-0.30, 0.0, 0.10, 0.20, 0.20, 0.0, -0.10, -0.10, 0.0, -0.20])
TASK_BASE = np.array([0.3, 0.0, -0.2, 0.1, -0.1])
HABIT = np.array([0.08, 0.05, 0.04, 0.05, 0.03, 0.12, 0.18, 0.07, 0.08, 0.30])
FAMILIES = ("retrieval", "elaborative", "passive re-exposure", "imagery")
# Rows: strategies; columns: families.
FAMILY_LOADING = np.array(
    [
        [1.0, 0.0, 0.0, 0.0],
        [0.8, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.7, 0.3, 0.0, 0.0],
        [0.0, 0.4, 0.7, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
        [0.0, 0.3, 0.0, 0.8],
        [0.0, 0.0, 1.0, 0.0],
    ]
)
FAMILY_CORR = np.array(
    [
        [1.0, 0.3, -0.3, 0.0],
        [0.3, 1.0, -0.2, 0.0],
        [-0.3, -0.2, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
)
FAMILY_SD = 0.25
SPECIFIC_SD = 0.15
HABIT_CONCENTRATION = 10.0
REPORT_NOISE = np.array([1.7, 2.3, 3.2])
# The "independent" design.
QUIRK_SD = 0.3
INDEPENDENT_HABIT_CONCENTRATION = 20.0
INDEPENDENT_REPORT_NOISE = 0.8
# The "archetypes" design. Rows: archetypes; columns: traits or strategies.
ARCHETYPES = ("meaning-directed", "reproduction-directed", "application-directed", "undirected")
ARCHETYPE_SHARE = np.array([0.25, 0.35, 0.25, 0.15])
ARCHETYPE_TRAITS = np.array([[0.4, 0.5, 0.0], [-0.2, -0.1, 0.0], [0.2, -0.1, 0.0], [-0.4, -0.6, 0.0]])
# Before centring on each archetype's habits (`archetype_response`).
ARCHETYPE_RESPONSE = np.array(
    [
        [0.00, 0.00, 0.45, 0.45, 0.15, 0.25, -0.25, -0.25, 0.00, -0.30],
        [0.40, 0.10, -0.35, -0.30, -0.25, -0.15, 0.10, 0.30, 0.00, 0.10],
        [0.15, 0.00, 0.00, 0.20, 0.40, -0.20, -0.20, -0.10, 0.10, -0.20],
        [0.20, 0.45, -0.30, -0.25, -0.35, -0.10, 0.00, 0.10, 0.00, 0.00],
    ]
)
ARCHETYPE_HABIT_TILT = np.array(
    [
        [1.0, 1.0, 2.5, 2.5, 1.5, 1.5, 0.6, 1.0, 1.0, 0.6],
        [1.5, 1.0, 0.5, 0.5, 1.0, 1.0, 1.3, 1.5, 1.0, 1.3],
        [2.0, 1.0, 1.0, 1.5, 2.5, 1.0, 1.0, 1.0, 1.0, 1.0],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    ]
)
ARCHETYPE_SPECIFIC_SD = 0.15
CONCENTRATION = 15.0
# Confidence before a session, 1..5: round(3 + 0.8 * knowledge - 2 * (difficulty - 0.5) + N(0, 0.8)).
CONFIDENCE_MODEL = (3.0, 0.8, 2.0, 0.8)
ABILITY_PER_KNOWLEDGE, ABILITY_SD = 0.5, 0.45  # ability = 0.5 * knowledge + N(0, 0.45)
TRAIT_CORR = np.array([[1.0, 0.3, 0.0], [0.3, 1.0, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Design:
    """The assumptions that decide how much a learner's profile and sessions reveal."""

    name: str
    quirks: str  # "families", "independent" or "archetypes"
    report_noise: tuple[float, ...]  # sd of the self-report noise on each trait
    habit_concentration: float  # c in Dirichlet(c * habit)
    habit: tuple[float, ...] = tuple(HABIT)
    family_sd: float = FAMILY_SD
    specific_sd: float = SPECIFIC_SD
    quirk_sd: float = QUIRK_SD  # "independent" only
    concentration: float = CONCENTRATION  # of the Beta noise on outcomes

    def quirk_covariance(self) -> np.ndarray:
        """The covariance (S, S) quirks are drawn from."""
        if self.quirks == "independent":
            return self.quirk_sd**2 * np.eye(N_STRATEGIES)
        if self.quirks == "archetypes":
            response = archetype_response()
            centred = response - ARCHETYPE_SHARE @ response
            between = centred.T @ (ARCHETYPE_SHARE[:, None] * centred)
            return between + ARCHETYPE_SPECIFIC_SD**2 * np.eye(N_STRATEGIES)
        shared = self.family_sd**2 * FAMILY_LOADING @ FAMILY_CORR @ FAMILY_LOADING.T
        return shared + self.specific_sd**2 * np.eye(N_STRATEGIES)


DESIGNS = {
    "families": Design("families", "families", tuple(REPORT_NOISE), HABIT_CONCENTRATION),
    "independent": Design(
        "independent",
        "independent",
        (INDEPENDENT_REPORT_NOISE,) * len(TRAITS),
        INDEPENDENT_HABIT_CONCENTRATION,
    ),
}
QUIRK_DESIGNS = tuple(DESIGNS)
_FAMILIES = DESIGNS["families"]
SENSITIVITY = (
    replace(_FAMILIES, name="smaller quirks", family_sd=FAMILY_SD / 2, specific_sd=SPECIFIC_SD / 2),
    replace(_FAMILIES, name="reliable self-reports", report_noise=(INDEPENDENT_REPORT_NOISE,) * len(TRAITS)),
    # A huge concentration makes every learner's habits the uniform vector itself.
    replace(
        _FAMILIES, name="even habits", habit=(1.0 / N_STRATEGIES,) * N_STRATEGIES, habit_concentration=1e6
    ),
    replace(_FAMILIES, name="precise self-tests", concentration=40.0),
)


ARCHETYPES_DESIGN = replace(_FAMILIES, name="archetypes", quirks="archetypes")
# Every population the bench runs beside "families" and "independent".
VARIANTS = (*SENSITIVITY, ARCHETYPES_DESIGN)


def archetype_habits() -> np.ndarray:
    """The mean habits (A, S) of each archetype: the survey habits, tilted."""
    tilted = HABIT * ARCHETYPE_HABIT_TILT
    return tilted / tilted.sum(axis=1, keepdims=True)


def archetype_response() -> np.ndarray:
    """Each archetype's logit offsets (A, S), centred on its mean habits: the habitual sessions
    of every archetype average out the same."""
    centre = np.einsum("as,as->a", archetype_habits(), ARCHETYPE_RESPONSE)
    return ARCHETYPE_RESPONSE - centre[:, None]


def design_named(design: str | Design) -> Design:
    """`design` itself, or the design of that name in `DESIGNS`."""
    if isinstance(design, Design):
        return design
    if design not in DESIGNS:
        raise ValueError(f"design must be a Design or one of {QUIRK_DESIGNS}, got {design!r}")
    return DESIGNS[design]


_TASK = slice(0, 5)
_DIFFICULTY, _CONFIDENCE = 5, 6
_PROFILE = slice(7, 10)
_HOURS = 10


@dataclass(frozen=True)
class Population:
    """Ground truth for learners 0..n-1: latent traits, quirks, habits and course mix."""

    traits: np.ndarray  # (n, 3)
    ability: np.ndarray  # (n,)
    quirks: np.ndarray  # (n, S) logit offsets
    habits: np.ndarray  # (n, S) probabilities of picking each strategy
    task_mix: np.ndarray  # (n, 5) probabilities of each task kind
    profile: np.ndarray  # (n, 3) self-reported traits, as the app sees them
    family: np.ndarray | None = None  # (n, F) latent family sensitivities; None if independent
    archetype: np.ndarray | None = None  # (n,) index into ARCHETYPES; None but in "archetypes"
    design: Design = DESIGNS["families"]

    @property
    def n_learners(self) -> int:
        return int(self.ability.shape[0])

    def draw_situations(self, learner_ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One fresh situation (context row) per entry of `learner_ids`: (m, N_FEATURES)."""
        ids = np.asarray(learner_ids, dtype=np.int64)
        m = ids.shape[0]
        mix = self.task_mix[ids]
        kind = (rng.random((m, 1)) > np.cumsum(mix, axis=1)).sum(axis=1).clip(0, len(TASK_KINDS) - 1)
        difficulty = rng.beta(2.0, 2.0, m)
        minutes = np.exp(rng.normal(np.log(30.0), 0.5, m)).clip(5.0, 180.0)
        knowledge = self.traits[ids, 0]
        base, per_knowledge, per_difficulty, noise = CONFIDENCE_MODEL
        likert = np.rint(
            base + per_knowledge * knowledge - per_difficulty * (difficulty - 0.5) + rng.normal(0.0, noise, m)
        )
        context = np.zeros((m, N_FEATURES))
        context[np.arange(m), kind] = 1.0
        context[:, _DIFFICULTY] = difficulty
        context[:, _CONFIDENCE] = (likert.clip(1.0, 5.0) - 1.0) / 4.0
        context[:, _PROFILE] = self.profile[ids]
        context[:, _HOURS] = minutes / 60.0
        return context

    def true_logit(self, learner_ids: np.ndarray, context: np.ndarray) -> np.ndarray:
        """Logit of the expected score, (m, S), of every strategy in each situation."""
        ids = np.asarray(learner_ids, dtype=np.int64)
        context = np.asarray(context, dtype=np.float64)
        task = context[:, _TASK]
        difficulty = context[:, _DIFFICULTY] - 0.5
        minutes = context[:, _HOURS] * 60.0
        situation = (
            0.4 + self.ability[ids] + task @ TASK_BASE - 1.2 * difficulty + 0.25 * np.log(minutes / 30.0)
        )
        strategy = (
            MAIN_EFFECT
            + task @ TASK_EFFECT.T
            + self.traits[ids] @ TRAIT_EFFECT.T
            + difficulty[:, None] * DIFFICULTY_EFFECT
            + self.quirks[ids]
        )
        return situation[:, None] + strategy

    def true_mean(self, learner_ids: np.ndarray, context: np.ndarray) -> np.ndarray:
        """Expected score in [0, 1], (m, S), of every strategy in each situation."""
        return 1.0 / (1.0 + np.exp(-self.true_logit(learner_ids, context)))

    def draw_outcomes(self, mean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Realised scores for expected scores `mean` (any shape): Beta noise, whole percents."""
        concentration = self.design.concentration
        a = mean * concentration
        return np.rint(100.0 * rng.beta(a, concentration - a)) / 100.0

    def sessions(self, learner_ids: np.ndarray, n_sessions: int, rng: np.random.Generator) -> SessionLog:
        """`n_sessions` sessions for each learner, picked by habit; rows grouped by learner."""
        ids = np.repeat(np.asarray(learner_ids, dtype=np.int64), n_sessions)
        # Separate streams, so a design with other habits or noisier scores meets the same situations.
        situation_rng, pick_rng, outcome_rng = rng.spawn(3)
        context = self.draw_situations(ids, situation_rng)
        cdf = np.cumsum(self.habits[ids], axis=1)
        strategy = (pick_rng.random((ids.shape[0], 1)) > cdf).sum(axis=1).clip(0, N_STRATEGIES - 1)
        mean = self.true_mean(ids, context)[np.arange(ids.shape[0]), strategy]
        return SessionLog(
            learner=ids, strategy=strategy, context=context, outcome=self.draw_outcomes(mean, outcome_rng)
        )


def make_population(
    n_learners: int, rng: np.random.Generator, design: str | Design = "families"
) -> Population:
    """Draw `n_learners` learners as documented in the module docstring under `design` (a
    `Design` or the name of one in `DESIGNS`)."""
    design = design_named(design)
    # One stream per part: designs that change one part (quirk size, report noise, habits) then
    # draw the very same learners in every other respect, so their results compare pairwise.
    trait_rng, quirk_rng, mix_rng, report_rng, habit_rng = rng.spawn(5)
    traits = trait_rng.multivariate_normal(np.zeros(3), TRAIT_CORR, n_learners)
    ability_noise = trait_rng.normal(0.0, ABILITY_SD, n_learners)
    family = archetype = None
    habit_alpha = design.habit_concentration * np.asarray(design.habit)
    if design.quirks == "independent":
        quirks = design.quirk_sd * quirk_rng.standard_normal((n_learners, N_STRATEGIES))
    elif design.quirks == "archetypes":
        archetype = quirk_rng.choice(len(ARCHETYPES), size=n_learners, p=ARCHETYPE_SHARE)
        specific = ARCHETYPE_SPECIFIC_SD * quirk_rng.standard_normal((n_learners, N_STRATEGIES))
        quirks = archetype_response()[archetype] + specific
        traits = traits + ARCHETYPE_TRAITS[archetype]
        habit_alpha = design.habit_concentration * archetype_habits()[archetype]
    else:
        family = quirk_rng.multivariate_normal(np.zeros(len(FAMILIES)), FAMILY_CORR, n_learners)
        specific = design.specific_sd * quirk_rng.standard_normal((n_learners, N_STRATEGIES))
        quirks = design.family_sd * family @ FAMILY_LOADING.T + specific
    noise = report_rng.standard_normal(traits.shape) * np.asarray(design.report_noise)
    if archetype is None:
        habits = habit_rng.dirichlet(habit_alpha, n_learners)
    else:
        # Dirichlet draws through Gamma ones, so each learner has the habits of their own kind.
        habits = habit_rng.standard_gamma(habit_alpha)
        habits /= habits.sum(axis=1, keepdims=True)
    return Population(
        traits=traits,
        ability=ABILITY_PER_KNOWLEDGE * traits[:, 0] + ability_noise,
        quirks=quirks,
        habits=habits,
        task_mix=mix_rng.dirichlet(np.full(len(TASK_KINDS), 2.0), n_learners),
        profile=traits + noise,
        family=family,
        archetype=archetype,
        design=design,
    )


def quirk_covariance(design: str | Design = "families") -> np.ndarray:
    """The covariance (S, S) quirks are drawn from under `design`."""
    return design_named(design).quirk_covariance()


def report_noise(design: str | Design = "families") -> np.ndarray:
    """The sd (3,) of the self-report noise on each trait under `design`."""
    return np.asarray(design_named(design).report_noise, dtype=np.float64)


def simulate(
    n_learners: int, n_sessions: int, seed: int = 0, design: str | Design = "families"
) -> tuple[SessionLog, Population]:
    """A seeded population under `design` and `n_sessions` habitual sessions of each learner."""
    rng = np.random.default_rng(seed)
    population = make_population(n_learners, rng, design)
    return population.sessions(np.arange(n_learners), n_sessions, rng), population
