"""How far the theme table's frequency and NPS are from the gold table, raw and corrected.

For each label: the gold frequency (share of rows with the gold label) and gold NPS (of those
rows), against the raw estimate (hard tags counted) and the quantification-corrected one
(:mod:`themer.analytics.quantify`), with the corrected interval's coverage of the gold value.

The rows come in *parts*, each with the error counts to correct it with: one part for a
fixed head (its ``head.json`` counts), one per held-out fold in cross-validation (counts from
that fold's training rows only, so nothing leaks). Part estimates are pooled draw by draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from themer.analytics.quantify import (
    DRAWS,
    MIN_GAP,
    SEED,
    ErrorCounts,
    estimate_draws,
    group_counts,
    grouped_draws,
    grouped_estimate,
    mixture_estimate,
    percentile_interval,
    pool_estimates,
    raw_estimate,
    refusal,
)

__all__ = ["Part", "theme_estimate_errors"]

# (rows, counts per label, counts per label and NPS group: promoter, passive, detractor)
Part = tuple[NDArray[np.intp], Mapping[str, ErrorCounts], Mapping[str, Sequence[ErrorCounts]]]
METHODS = ("shown", "mixture")
NAMES = ("raw", "corrected", "mixture")  # corrected: what the theme table shows
GROUP = {"promoter": 0, "passive": 1, "detractor": 2}


def _cells(tagged: NDArray[np.bool_], group: NDArray[np.int64]) -> NDArray[np.int64]:
    cells = np.zeros((2, 3), dtype=np.int64)
    np.add.at(cells, (tagged.astype(np.int64), group), 1)
    return cells


def _part(cells: NDArray[np.int64], pooled: ErrorCounts | None,
          grouped: Sequence[ErrorCounts] | None, method: str, min_gap: float, draws: int,
          seed: int) -> tuple[float, float, Any, Any, bool]:
    """(theta, NPS, theta draws, NPS draws, corrected?) of one part by one method.

    mixture: pooled rates, mixture-corrected NPS. shown: what the theme table shows --
    per-NPS-group rates when measured, else the adjusted count with the tagged NPS."""
    if method == "shown" and grouped and any(group_counts(grouped, min_gap)):
        theta, score = grouped_estimate(cells, *_rates(grouped, min_gap))
        t, v = grouped_draws(cells, grouped, draws=draws, seed=seed, min_gap=min_gap)
        return float(theta), float(score), t, v, True
    usable = pooled if not refusal(pooled, min_gap) else None
    tpr, fpr = (usable.tpr, usable.fpr) if usable is not None else (1.0, 0.0)
    theta, score = mixture_estimate(cells, tpr, fpr)
    t, v = estimate_draws(cells, usable, draws=draws, seed=seed)
    if method == "shown":  # the adjusted count, and the NPS of the tagged respondents
        score, v = mixture_estimate(cells, 1.0, 0.0)[1], estimate_draws(
            cells, None, draws=draws, seed=seed)[1]
    return float(theta), float(score), t, v, usable is not None


def _rates(grouped: Sequence[ErrorCounts], min_gap: float) -> tuple[Any, Any]:
    chosen = group_counts(grouped, min_gap)
    return (np.array([1.0 if c is None else c.tpr for c in chosen]),
            np.array([0.0 if c is None else c.fpr for c in chosen]))


def _corrected(label: str, column: NDArray[np.bool_], group: NDArray[np.int64],
               parts: Sequence[Part], method: str, min_gap: float, draws: int, seed: int
               ) -> dict[str, Any]:
    """The corrected estimate of one label, pooled over the parts, with its interval."""
    sizes, thetas, scores, theta_draws, nps_draws, adjusted = [], [], [], [], [], 0
    for index, (rows, rates, by_group) in enumerate(parts):
        found = _part(_cells(column[rows], group[rows]), rates.get(label),
                      by_group.get(label), method, min_gap, draws, seed + index)
        sizes.append(len(rows))
        thetas.append(found[0])
        scores.append(found[1])
        theta_draws.append(found[2])
        nps_draws.append(found[3])
        adjusted += found[4]
    theta, score = pool_estimates(sizes, thetas, scores)
    theta_d, score_d = pool_estimates(sizes, theta_draws, nps_draws)
    freq_low, freq_high = percentile_interval(theta_d, float(theta), 0.0, 1.0)
    known = bool(np.isfinite(score))
    nps_low, nps_high = (percentile_interval(score_d, float(score), -100.0, 100.0) if known
                         else (None, None))
    return {"estimate": ("adjusted" if adjusted == len(parts) else
                         "raw" if adjusted == 0 else "mixed"),
            "frequency": float(theta), "freq_low": freq_low, "freq_high": freq_high,
            "nps": float(score) if known else None, "nps_low": nps_low, "nps_high": nps_high}


def _inside(value: float | None, low: float | None, high: float | None) -> bool | None:
    if value is None or low is None or high is None:
        return None
    return low - 1e-9 <= value <= high + 1e-9


def _median(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.median(kept)) if kept else None


def _share(values: list[bool | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def theme_estimate_errors(gold: NDArray[np.bool_], predicted: NDArray[np.bool_],
                          categories: Sequence[str], labels: Sequence[str],
                          parts: Sequence[Part], *, min_gap: float = MIN_GAP,
                          draws: int = DRAWS, seed: int = SEED) -> dict[str, Any]:
    """Frequency (points) and NPS errors against gold, raw vs corrected, and interval coverage.

    Medians over labels; coverage = share of labels whose gold value lies in the interval.
    """
    group = np.asarray([GROUP[c] for c in categories], dtype=np.int64)
    everyone = np.arange(len(group))
    per_label: dict[str, dict[str, Any]] = {}
    for j, label in enumerate(labels):
        truth = gold[:, j]
        gold_cells = _cells(truth, group)
        gold_nps = raw_estimate(gold_cells).nps
        raw = raw_estimate(_cells(predicted[:, j], group))
        freq = float(truth.mean())
        row: dict[str, Any] = {
            "gold_frequency": freq, "gold_nps": gold_nps,
            "raw": {"frequency": raw.frequency, "freq_low": raw.freq_low,
                    "freq_high": raw.freq_high, "nps": raw.nps, "nps_low": raw.nps_low,
                    "nps_high": raw.nps_high}}
        for method in METHODS:
            row["corrected" if method == "shown" else method] = _corrected(
                label, predicted[:, j], group, parts or [(everyone, {}, {})], method, min_gap,
                draws, seed)
        for name in NAMES:
            est = row[name]
            est["freq_error"] = 100 * abs(est["frequency"] - freq)
            est["nps_error"] = (abs(est["nps"] - gold_nps)
                                if est["nps"] is not None and gold_nps is not None else None)
            est["freq_covered"] = _inside(freq, est["freq_low"], est["freq_high"])
            est["nps_covered"] = _inside(gold_nps, est["nps_low"], est["nps_high"])
        per_label[label] = row
    rows = list(per_label.values())

    def summary(name: str) -> dict[str, float | None]:
        return {"freq_error": _median([r[name]["freq_error"] for r in rows]),
                "nps_error": _median([r[name]["nps_error"] for r in rows]),
                "freq_coverage": _share([r[name]["freq_covered"] for r in rows]),
                "nps_coverage": _share([r[name]["nps_covered"] for r in rows])}

    return {**{name: summary(name) for name in NAMES},
            "adjusted_labels": sum(r["corrected"]["estimate"] == "adjusted" for r in rows),
            "per_label": per_label,
            "units": "freq_error in points (100 x share), nps_error in NPS points, medians "
                     "over labels; coverage: share of labels whose gold value is inside the "
                     "95% interval"}
