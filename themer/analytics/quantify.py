"""Theme frequency and NPS corrected for tagging error (quantification), with honest intervals.

Counting hard tags is biased whenever the classifier is (Forman 2008, "Quantifying counts and
costs via classification"): a classifier with true positive rate ``tpr`` and false positive rate
``fpr`` tags a share ``q = tpr * theta + fpr * (1 - theta)`` of respondents when the true share
is ``theta``. The **adjusted count** inverts that::

    theta = clip((q - fpr) / (tpr - fpr), 0, 1)

Theme NPS is corrected as a mixture. Respondents tagged (T) are truly the theme's with
probability ``pi = tpr * theta / q``; the untagged (U) with ``rho = (1 - tpr) * theta / (1 - q)``
(q from the fitted theta). Their observed NPS are mixtures of the theme's (M) and the rest's::

    NPS_T = pi  * NPS_M + (1 - pi)  * NPS_notM
    NPS_U = rho * NPS_M + (1 - rho) * NPS_notM
    =>  NPS_M = ((1 - rho) * NPS_T - (1 - pi) * NPS_U) / (pi - rho),  clipped to [-100, 100]

so false positives do not drag the theme's NPS toward everyone else's. This assumes that, given
true membership, tagging errors do not depend on the respondent's score.

Intervals: a seeded parametric bootstrap (``DRAWS`` draws, ``SEED``): respondents are resampled
(one multinomial over the six (tagged, group) cells), tpr ~ Beta(tp + 1, fn + 1) and
fpr ~ Beta(fp + 1, tn + 1) from the counts the rates were measured on; the 95% percentile
interval, widened where needed to hold the point estimate. The correction is refused (raw
numbers, with the reason) when ``tpr - fpr < MIN_GAP``: the inversion then amplifies noise.

Cells are (2, 3) counts: row 0 untagged, row 1 tagged; columns promoter, passive, detractor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from themer.errors import Errors

__all__ = ["DRAWS", "MIN_GAP", "SEED", "ErrorCounts", "Estimate", "adjusted_share",
           "error_counts", "estimate_draws", "group_counts", "grouped_draws", "grouped_estimate",
           "mixture_estimate", "percentile_interval", "pool_estimates", "quantify",
           "quantify_grouped", "raw_estimate", "refusal"]

DRAWS = 400  # bootstrap draws per theme
SEED = 0
MIN_GAP = 0.2  # refuse to invert a classifier with tpr - fpr below this
Z95 = 1.959963984540054

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class ErrorCounts:
    """How a classifier did on one label, on rows it never trained on: the confusion counts."""

    tp: int
    fp: int
    fn: int
    tn: int

    def __post_init__(self) -> None:
        if min(self.tp, self.fp, self.fn, self.tn) < 0:
            raise Errors.THM423.error(counts=asdict(self))

    @property
    def tpr(self) -> float:
        """True positive rate (recall), 0-1; NaN without a positive row."""
        positives = self.tp + self.fn
        return self.tp / positives if positives else math.nan

    @property
    def fpr(self) -> float:
        """False positive rate, 0-1; NaN without a negative row."""
        negatives = self.fp + self.tn
        return self.fp / negatives if negatives else math.nan

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> ErrorCounts:
        return cls(**{k: int(value[k]) for k in ("tp", "fp", "fn", "tn")})


def error_counts(gold: NDArray[np.bool_], predicted: NDArray[np.bool_],
                 labels: Sequence[str]) -> dict[str, ErrorCounts]:
    """Per label, the confusion counts of ``predicted`` against ``gold`` ((n, L) indicators).

    The one function that turns labels + the tags made for them into error rates (trained
    heads out of fold, the labelling loop's labelled statements, the evaluation folds).
    """
    gold, predicted = np.asarray(gold, dtype=bool), np.asarray(predicted, dtype=bool)
    if gold.shape != predicted.shape or gold.ndim != 2 or gold.shape[1] != len(labels):
        raise Errors.THM424.error(gold=list(gold.shape), predicted=list(predicted.shape),
                                  labels=len(labels))
    tp = (gold & predicted).sum(axis=0)
    fp = (~gold & predicted).sum(axis=0)
    fn = (gold & ~predicted).sum(axis=0)
    tn = (~gold & ~predicted).sum(axis=0)
    return {str(label): ErrorCounts(int(tp[j]), int(fp[j]), int(fn[j]), int(tn[j]))
            for j, label in enumerate(labels)}


def adjusted_share(q: Any, tpr: Any, fpr: Any) -> Floats:
    """Adjusted count: (q - fpr) / (tpr - fpr) clipped to [0, 1]; NaN where tpr <= fpr."""
    q, tpr, fpr = (np.asarray(v, dtype=float) for v in (q, tpr, fpr))
    gap = tpr - fpr
    with np.errstate(invalid="ignore", divide="ignore"):
        theta = np.where(gap > 1e-9, (q - fpr) / np.where(gap > 1e-9, gap, 1.0), np.nan)
    out: Floats = np.clip(theta, 0.0, 1.0)
    return out


def mixture_estimate(cells: Any, tpr: Any, fpr: Any) -> tuple[Floats, Floats]:
    """(theta, NPS_M) from (..., 2, 3) cells and rates broadcast over the leading axes.

    NPS_M is NaN where it is not identifiable: theta = 0 (no theme respondents estimated),
    or the tagged and untagged groups hold the theme in (nearly) the same proportion.
    """
    cells = np.asarray(cells, dtype=float)
    tpr, fpr = np.asarray(tpr, dtype=float), np.asarray(fpr, dtype=float)
    n = cells.sum(axis=(-2, -1))
    n_u, n_t = cells[..., 0, :].sum(axis=-1), cells[..., 1, :].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        theta = adjusted_share(n_t / n, tpr, fpr)
        fitted = tpr * theta + fpr * (1 - theta)
        pi = np.where(fitted > 0, tpr * theta / fitted, 0.0)
        rho = np.where(fitted < 1, (1 - tpr) * theta / (1 - fitted), 0.0)
        v_t = np.where(n_t > 0, 100 * (cells[..., 1, 0] - cells[..., 1, 2]) / n_t, 0.0)
        v_u = np.where(n_u > 0, 100 * (cells[..., 0, 0] - cells[..., 0, 2]) / n_u, 0.0)
        det = pi - rho
        solved = ((1 - rho) * v_t - (1 - pi) * v_u) / np.where(det > 1e-6, det, 1.0)
        overall = (v_t * n_t + v_u * n_u) / n
    nps_m = np.where(theta >= 1.0, overall, np.where((det > 1e-6) & (theta > 0), solved, np.nan))
    out: Floats = np.clip(nps_m, -100.0, 100.0)
    return theta, out


def estimate_draws(cells: Any, counts: ErrorCounts | None, *, draws: int = DRAWS,
                   seed: int = SEED) -> tuple[Floats, Floats]:
    """Bootstrap draws (theta, NPS_M), each (draws,): resampled respondents and error rates.

    ``counts`` None: the raw numbers' draws (a perfect classifier, tpr 1 and fpr 0)."""
    cells = np.asarray(cells, dtype=np.int64)
    rng = np.random.default_rng(seed)
    n = int(cells.sum())
    resampled = rng.multinomial(n, cells.ravel() / n, size=draws).reshape(draws, 2, 3)
    if counts is None:
        return mixture_estimate(resampled, 1.0, 0.0)
    tpr = rng.beta(counts.tp + 1, counts.fn + 1, size=draws)
    fpr = rng.beta(counts.fp + 1, counts.tn + 1, size=draws)
    return mixture_estimate(resampled, tpr, fpr)


@dataclass(frozen=True)
class Estimate:
    """One theme's frequency (0-1) and NPS (points) with 95% intervals, and how they were made.

    ``estimate`` is "adjusted" (corrected for the measured error rates) or "raw" (hard tags
    counted); ``note`` says why a correction was not made. ``nps`` is None when no respondent
    is estimated to hold the theme.
    """

    estimate: str
    frequency: float
    freq_low: float
    freq_high: float
    nps: float | None
    nps_low: float | None
    nps_high: float | None
    note: str = ""


def _wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + Z95 ** 2 / (2 * n)) / (1 + Z95 ** 2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / (1 + Z95 ** 2 / n)
    return min(max(0.0, centre - half), p), max(min(1.0, centre + half), p)


def raw_estimate(cells: Any, note: str = "") -> Estimate:
    """The hard-tag counts: share tagged (Wilson interval) and NPS of the tagged (normal)."""
    cells = np.asarray(cells, dtype=np.int64)
    n, tagged = int(cells.sum()), cells[1]
    k = int(tagged.sum())
    low, high = _wilson(k, n)
    if k == 0:
        return Estimate("raw", 0.0, low, high, None, None, None, note)
    p, d = tagged[0] / k, tagged[2] / k
    score = 100.0 * (int(tagged[0]) - int(tagged[2])) / k
    half = Z95 * 100.0 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / k)
    return Estimate("raw", k / n, low, high, float(score), float(max(-100.0, score - half)),
                    float(min(100.0, score + half)), note)


def percentile_interval(values: Floats, point: float, lo: float, hi: float
                        ) -> tuple[float, float]:
    """95% percentile interval of bootstrap draws, widened to hold ``point``; (lo, hi) when
    most draws are not estimable."""
    finite = values[np.isfinite(values)]
    if len(finite) < len(values) / 2:  # mostly unidentifiable: say nothing is known
        return lo, hi
    low, high = np.clip(np.percentile(finite, [2.5, 97.5]), lo, hi)
    return min(float(low), point), max(float(high), point)


def refusal(counts: ErrorCounts | None, min_gap: float = MIN_GAP) -> str:
    """Why these error rates cannot correct a count ("" when they can)."""
    if counts is None:
        return "no measured error rates for this label"
    if counts.tp + counts.fn == 0 or counts.fp + counts.tn == 0:
        return "error rates measured without both positive and negative rows"
    if counts.tpr - counts.fpr < min_gap:
        return (f"classifier too weak to invert (tpr {counts.tpr:.2f} - fpr {counts.fpr:.2f} "
                f"< {min_gap})")
    return ""


def quantify(cells: Any, counts: ErrorCounts | None, *, draws: int = DRAWS, seed: int = SEED,
             min_gap: float = MIN_GAP) -> Estimate:
    """The corrected estimate of one theme, or the raw one with the reason it is not corrected.

    ``cells``: (2, 3) respondent counts, row 1 tagged with the theme (columns promoter,
    passive, detractor); ``counts``: the classifier's confusion counts on that label.
    """
    cells = np.asarray(cells, dtype=np.int64)
    if cells.shape != (2, 3) or cells.min() < 0 or cells.sum() == 0:
        raise Errors.THM425.error(shape=list(cells.shape))
    reason = refusal(counts, min_gap)
    if reason or counts is None:
        return raw_estimate(cells, reason)
    theta, nps_m = mixture_estimate(cells, counts.tpr, counts.fpr)
    point_theta = float(theta)
    theta_draws, nps_draws = estimate_draws(cells, counts, draws=draws, seed=seed)
    freq_low, freq_high = percentile_interval(theta_draws, point_theta, 0.0, 1.0)
    if not np.isfinite(nps_m):
        note = "no respondent estimated to hold the theme: NPS not estimable"
        return Estimate("adjusted", point_theta, freq_low, freq_high, None, None, None, note)
    point_nps = float(nps_m)
    nps_low, nps_high = percentile_interval(nps_draws, point_nps, -100.0, 100.0)
    return Estimate("adjusted", point_theta, freq_low, freq_high, point_nps, nps_low, nps_high)


def group_counts(grouped: Sequence[ErrorCounts | None], min_gap: float = MIN_GAP
                 ) -> list[ErrorCounts | None]:
    """The counts each NPS group is corrected with: its own when they can correct, else the
    groups' pooled counts (a group with no measured positive, say), else None (raw)."""
    known = [g for g in grouped if g is not None]
    pooled = ErrorCounts(*(sum(getattr(g, k) for g in known) for k in ("tp", "fp", "fn", "tn")))
    fallback = pooled if not refusal(pooled, min_gap) else None
    return [g if g is not None and not refusal(g, min_gap) else fallback for g in grouped]


def _group_rates(grouped: Sequence[ErrorCounts | None], min_gap: float
                 ) -> tuple[Floats, Floats, list[ErrorCounts | None]]:
    """Point tpr, fpr per NPS group (1 and 0 where raw), and the counts behind them."""
    chosen = group_counts(grouped, min_gap)
    tpr = np.array([1.0 if c is None else c.tpr for c in chosen])
    fpr = np.array([0.0 if c is None else c.fpr for c in chosen])
    return tpr, fpr, chosen


def grouped_estimate(cells: Any, tpr: Any, fpr: Any) -> tuple[Floats, Floats]:
    """(theta, NPS_M) from (..., 2, 3) cells and (..., 3) rates measured per NPS group.

    The adjusted count runs within each group (promoters, passives, detractors): a
    classifier whose errors depend on the score -- complaints that are not bugs tagged
    "bug" -- biases the pooled mixture correction, not this one. NPS_M is the NPS of the
    estimated theme respondents; NaN when none is estimated.
    """
    cells = np.asarray(cells, dtype=float)
    per_group = cells.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(per_group > 0, cells[..., 1, :] / np.where(per_group > 0, per_group, 1),
                     0.0)
        mass = np.nan_to_num(adjusted_share(q, tpr, fpr)) * per_group
        total = mass.sum(axis=-1)
        theta: Floats = total / per_group.sum(axis=-1)
        score: Floats = np.clip(np.where(total > 0, 100 * (mass[..., 0] - mass[..., 2]) / total,
                                         np.nan), -100.0, 100.0)
    return theta, score


def grouped_draws(cells: Any, grouped: Sequence[ErrorCounts | None], *, draws: int = DRAWS,
                  seed: int = SEED, min_gap: float = MIN_GAP) -> tuple[Floats, Floats]:
    """Bootstrap draws (theta, NPS_M) of ``grouped_estimate``: resampled respondents, and
    per-group rates drawn from their Beta posteriors (groups that cannot correct stay raw)."""
    cells = np.asarray(cells, dtype=np.int64)
    tpr, fpr, chosen = _group_rates(grouped, min_gap)
    rng = np.random.default_rng(seed)
    n = int(cells.sum())
    resampled = rng.multinomial(n, cells.ravel() / n, size=draws).reshape(draws, 2, 3)
    tpr_d = np.tile(tpr, (draws, 1))
    fpr_d = np.tile(fpr, (draws, 1))
    for g, counts in enumerate(chosen):
        if counts is not None:
            tpr_d[:, g] = rng.beta(counts.tp + 1, counts.fn + 1, size=draws)
            fpr_d[:, g] = rng.beta(counts.fp + 1, counts.tn + 1, size=draws)
    return grouped_estimate(resampled, tpr_d, fpr_d)


def quantify_grouped(cells: Any, grouped: Sequence[ErrorCounts | None], *, draws: int = DRAWS,
                     seed: int = SEED, min_gap: float = MIN_GAP) -> Estimate:
    """The corrected estimate from error counts measured per NPS group (promoter, passive,
    detractor order); a group whose counts cannot correct keeps its raw count."""
    cells = np.asarray(cells, dtype=np.int64)
    if cells.shape != (2, 3) or cells.min() < 0 or cells.sum() == 0 or len(grouped) != 3:
        raise Errors.THM425.error(shape=list(cells.shape))
    tpr, fpr, chosen = _group_rates(grouped, min_gap)
    if all(c is None for c in chosen):
        return raw_estimate(cells, "no NPS group's error rates can correct the count")
    theta, score = grouped_estimate(cells, tpr, fpr)
    theta_d, score_d = grouped_draws(cells, grouped, draws=draws, seed=seed, min_gap=min_gap)
    low, high = percentile_interval(theta_d, float(theta), 0.0, 1.0)
    if not np.isfinite(score):
        return Estimate("adjusted", float(theta), low, high, None, None, None,
                        "no respondent estimated to hold the theme: NPS not estimable")
    nps_low, nps_high = percentile_interval(score_d, float(score), -100.0, 100.0)
    return Estimate("adjusted", float(theta), low, high, float(score), nps_low, nps_high)


def pool_estimates(sizes: Sequence[int], thetas: Any, scores: Any) -> tuple[Floats, Floats]:
    """Pool per-part estimates (e.g. cross-validation folds) into one per draw.

    ``sizes``: respondents per part; ``thetas``/``scores``: (parts, ...) shares and NPS (NaN
    allowed where not estimable). Frequency = size-weighted share; NPS = average weighted by
    each part's estimated theme respondents (size x theta).
    """
    weights = np.asarray(sizes, dtype=float).reshape(-1, *([1] * (np.ndim(thetas) - 1)))
    thetas, scores = np.asarray(thetas, dtype=float), np.asarray(scores, dtype=float)
    frequency: Floats = (weights * thetas).sum(axis=0) / weights.sum()
    mass = np.where(np.isfinite(scores), weights * thetas, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled: Floats = np.where(mass.sum(axis=0) > 0,
                                  (mass * np.nan_to_num(scores)).sum(axis=0) / mass.sum(axis=0),
                                  np.nan)
    return frequency, pooled
