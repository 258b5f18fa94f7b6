"""Constants of the intervals the engine reports, shared by its policy, evaluation and callers."""

from __future__ import annotations

Z90 = 1.645  # two-sided 90% normal quantile: predicted-score intervals are 90%
