from __future__ import annotations

import pandas as pd
import pytest

from themer.analytics.themes import theme_table
from themer.errors import StatsError


def responses(scores: dict[str, int], survey_type: str = "relationship") -> pd.DataFrame:
    cat = {s: "promoter" if s >= 9 else "passive" if s >= 7 else "detractor" for s in range(11)}
    return pd.DataFrame({"response_id": list(scores), "score": list(scores.values()),
                         "category": [cat[s] for s in scores.values()],
                         "survey_type": survey_type})


def tag(rid: str, sid: str, kind: str, label: str) -> dict[str, str]:
    return {"response_id": rid, "statement_id": sid, "kind": kind, "label": label}


def test_hand_computed_table() -> None:
    frame = responses({"a": 10, "b": 9, "c": 8, "d": 3, "e": 0, "f": 10})
    tags = pd.DataFrame([
        tag("a", "a1", "area", "search"), tag("a", "a1", "type", "praise"),
        tag("a", "a2", "area", "search"), tag("a", "a2", "type", "praise"),  # same person twice
        tag("d", "d1", "area", "search"), tag("d", "d1", "type", "bug"),
        tag("e", "e1", "area", "billing"), tag("e", "e1", "type", "bug"),
        tag("c", "c1", "area", "unassigned"), tag("c", "c1", "type", "other"),
    ])
    table = theme_table(frame, tags, min_n=2)
    # overall: P=3 (a,b,f), passive=1 (c), D=2 (d,e): NPS = 100 * 1/6
    assert table.overall.nps == pytest.approx(100 / 6)
    rows = {(r.theme, r.kind): r for r in table.themes}
    search = rows[("search", "area")]
    assert (search.n, search.promoters, search.detractors) == (2, 1, 1)
    assert search.nps == 0.0
    assert search.frequency == pytest.approx(2 / 6)
    # NPS without a and d: b, c, e, f -> P=2, D=1 of 4 = 25 -> impact = 16.67 - 25
    assert search.impact == pytest.approx(100 / 6 - 25)
    assert search.points_at_stake == pytest.approx(100 / 6)
    assert not search.small_n
    bug = rows[("bug", "type")]
    assert (bug.n, bug.nps, bug.small_n) == (2, -100.0, False)
    assert rows[("billing/bug", "area_type")].n == 1
    assert rows[("billing/bug", "area_type")].small_n
    assert ("unassigned", "area") not in rows
    assert table.unassigned["area"] == {"statements": 1, "share": 0.2}  # 1 of 5 statements
    nps_order = [r.nps for r in table.themes]
    assert nps_order == sorted(nps_order)


def test_never_pools_survey_types_silently() -> None:
    frame = pd.concat([responses({"a": 9}), responses({"b": 3}, "transactional")])
    empty = pd.DataFrame(columns=["response_id", "statement_id", "kind", "label"])
    with pytest.raises(StatsError, match="never pooled silently"):
        theme_table(frame, empty)
    frame.attrs["pooled"] = True
    assert theme_table(frame, empty).overall.n == 2


def test_respondents_without_comments_count_in_n() -> None:
    frame = responses({"a": 10, "b": 0})
    tags = pd.DataFrame([tag("a", "a1", "area", "search")])
    table = theme_table(frame, tags)
    assert table.overall.n == 2
    assert table.themes[0].frequency == 0.5


def test_error_rates_correct_the_shown_numbers_and_keep_the_raw_ones() -> None:
    from themer.analytics.quantify import ErrorCounts

    scores = {f"r{i}": (0 if i < 40 else 10) for i in range(100)}
    frame = responses(scores)
    # 30 tagged with search: 20 detractors (true) + 10 promoters (false positives)
    tagged = [f"r{i}" for i in range(20)] + [f"r{i}" for i in range(40, 50)]
    others = [r for r in scores if r not in tagged]
    tags = pd.DataFrame([tag(r, f"{r}.1", "area", "search") for r in tagged]
                        + [tag(r, f"{r}.1", "type", "bug") for r in tagged]
                        + [tag(r, f"{r}.1", "area", "unassigned") for r in others])
    rates = {"area": {"search": ErrorCounts(tp=80, fp=10, fn=20, tn=890)}}
    table = theme_table(frame, tags, min_n=2, error_rates=rates,
                        rate_notes={"type": "zero-shot has no measured error rates"})
    rows = {(r.theme, r.kind): r for r in table.themes}
    search, bug = rows[("search", "area")], rows[("bug", "type")]
    assert search.estimate == "adjusted"
    assert "tpr 0.80" in search.method
    assert (search.n, search.frequency_raw, search.nps_raw) == (30, 0.3, pytest.approx(-33.33,
                                                                                        abs=0.01))
    # adjusted count: (0.3 - 0.0112) / (0.8 - 0.0112)
    assert search.frequency == pytest.approx((0.3 - 10 / 900) / (0.8 - 10 / 900))
    # pooled rates only: the NPS shown is the tagged respondents' (method says so)
    assert search.nps == pytest.approx(search.nps_raw)
    assert "NPS of the tagged respondents" in search.method
    assert search.ci_low <= search.nps <= search.ci_high
    assert search.freq_ci_low <= search.frequency <= search.freq_ci_high
    assert bug.estimate == "raw"
    assert "zero-shot" in bug.method
    assert (bug.frequency, bug.nps) == (bug.frequency_raw, bug.nps_raw)
    assert rows[("search/bug", "area_type")].estimate == "raw"
    assert "area x type" in rows[("search/bug", "area_type")].method


def test_respondents_without_a_comment_are_not_exposed_to_false_positives() -> None:
    from themer.analytics.quantify import ErrorCounts, quantify

    scores = {f"r{i}": (0 if i % 2 else 10) for i in range(200)}
    frame = responses(scores)
    writers = [f"r{i}" for i in range(100)]  # r100..r199 left no comment
    tagged = writers[:30]
    tags = pd.DataFrame([tag(r, f"{r}.1", "area", "search") for r in tagged]
                        + [tag(r, f"{r}.1", "area", "unassigned") for r in writers[30:]])
    counts = ErrorCounts(tp=80, fp=10, fn=20, tn=890)
    table = theme_table(frame, tags, min_n=2, error_rates={"area": {"search": counts}})
    search = next(r for r in table.themes if r.theme == "search")
    among_writers = quantify([[35, 0, 35], [15, 0, 15]], counts)
    assert search.frequency == pytest.approx(among_writers.frequency / 2)
    assert search.nps == pytest.approx(0.0)  # the tagged respondents' NPS


def test_error_rates_per_nps_group_correct_the_nps() -> None:
    from themer.analytics.quantify import ErrorCounts

    scores = {f"r{i}": (0 if i < 40 else 10) for i in range(100)}
    frame = responses(scores)
    # search truly: 20 detractors; tagged: those 20 and 10 promoters (false positives)
    tagged = [f"r{i}" for i in range(20)] + [f"r{i}" for i in range(40, 50)]
    tags = pd.DataFrame([tag(r, f"{r}.1", "area", "search" if r in tagged else "unassigned")
                         for r in scores])
    # measured per group: among promoters the classifier tags 1 in 6 non-search rows
    grouped = [ErrorCounts(tp=5, fp=100, fn=0, tn=500), ErrorCounts(tp=5, fp=0, fn=0, tn=50),
               ErrorCounts(tp=100, fp=0, fn=0, tn=100)]
    table = theme_table(frame, tags, min_n=2,
                        group_rates={"area": {"search": grouped}})
    search = next(r for r in table.themes if r.theme == "search")
    assert search.estimate == "adjusted"
    assert "each NPS group" in search.method
    assert search.nps_raw == pytest.approx(-100 / 3)
    assert search.nps == pytest.approx(-100.0, abs=1e-6)  # the promoters were false positives
    assert search.frequency == pytest.approx(0.2, abs=1e-6)
    assert search.ci_low <= search.nps <= search.ci_high
