"""A simulated population of learners, for benchmarks and tests.

The population is documented here so results on it can be read for what they are.

Learners. Each has three latent traits drawn from a correlated standard normal: prior knowledge,
self-regulation (planning, sticking to a schedule) and imagery (ease with mental pictures).
Prior knowledge and self-regulation correlate (0.3). Ability on the logit scale is
0.5 * knowledge + N(0, 0.45). The app only sees the traits through a one-off self-report
profile: trait + N(0, 0.8), reliability about 0.6.

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
  - a per-learner quirk, N(0, 0.3) per strategy, independent of everything else.
So the evidence is right on average and wrong for a fair share of learners and situations.

Outcome. The self-test score / 100, drawn from a Beta distribution with mean
sigmoid(eta) and concentration 15 (sd about 0.12 at a mean of 0.6), rounded to whole percents.
`Population.true_mean` is that mean for every strategy, which is what recommendations are scored
against.

Behaviour. Learners pick strategies by habit, not by outcome: each has a preference vector
drawn from Dirichlet(20 * HABIT), and HABIT over-uses rereading (30%), highlighting (18%) and
summarization (12%) the way surveys of students report.
"""

from __future__ import annotations

from dataclasses import dataclass

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
QUIRK_SD = 0.3
CONCENTRATION = 15.0
TRAIT_CORR = np.array([[1.0, 0.3, 0.0], [0.3, 1.0, 0.0], [0.0, 0.0, 1.0]])

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
        likert = np.rint(3.0 + 0.8 * knowledge - 2.0 * (difficulty - 0.5) + rng.normal(0.0, 0.8, m))
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
        a = mean * CONCENTRATION
        return np.rint(100.0 * rng.beta(a, CONCENTRATION - a)) / 100.0

    def sessions(self, learner_ids: np.ndarray, n_sessions: int, rng: np.random.Generator) -> SessionLog:
        """`n_sessions` sessions for each learner, picked by habit; rows grouped by learner."""
        ids = np.repeat(np.asarray(learner_ids, dtype=np.int64), n_sessions)
        context = self.draw_situations(ids, rng)
        cdf = np.cumsum(self.habits[ids], axis=1)
        strategy = (rng.random((ids.shape[0], 1)) > cdf).sum(axis=1).clip(0, N_STRATEGIES - 1)
        mean = self.true_mean(ids, context)[np.arange(ids.shape[0]), strategy]
        return SessionLog(
            learner=ids, strategy=strategy, context=context, outcome=self.draw_outcomes(mean, rng)
        )


def make_population(n_learners: int, rng: np.random.Generator) -> Population:
    """Draw `n_learners` learners as documented in the module docstring."""
    traits = rng.multivariate_normal(np.zeros(3), TRAIT_CORR, n_learners)
    return Population(
        traits=traits,
        ability=0.5 * traits[:, 0] + rng.normal(0.0, 0.45, n_learners),
        quirks=rng.normal(0.0, QUIRK_SD, (n_learners, N_STRATEGIES)),
        habits=rng.dirichlet(20.0 * HABIT, n_learners),
        task_mix=rng.dirichlet(np.full(len(TASK_KINDS), 2.0), n_learners),
        profile=traits + rng.normal(0.0, 0.8, traits.shape),
    )


def simulate(n_learners: int, n_sessions: int, seed: int = 0) -> tuple[SessionLog, Population]:
    """A seeded population and `n_sessions` habitual sessions of each of its learners."""
    rng = np.random.default_rng(seed)
    population = make_population(n_learners, rng)
    return population.sessions(np.arange(n_learners), n_sessions, rng), population
