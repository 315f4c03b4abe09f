"""The two summary figures every report here prints: a mean and a nearest-rank percentile."""

from __future__ import annotations

from collections.abc import Sequence


def mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def pct(xs: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) as the nearest value of the sample; NaN for an empty one."""
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else float("nan")
