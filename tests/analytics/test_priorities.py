from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from themer.analytics.priorities import Roadmap, load_roadmap, priorities, recovery_counts
from themer.analytics.themes import theme_table
from themer.errors import InputFileError
from themer.taxonomy import TaxonomyInfo, load_taxonomy

ROOT = Path(__file__).resolve().parents[2]


def _survey() -> tuple[pd.DataFrame, pd.DataFrame]:
    """40 respondents; reliability bugs (8 D + 2 passives), security misaligned (6 promoters),
    search preference (4 passives), api feature request (1 detractor)."""
    categories = (["detractor"] * 8 + ["passive"] * 2 + ["promoter"] * 6 + ["passive"] * 4
                  + ["detractor"] + ["promoter"] * 19)
    responses = pd.DataFrame({"response_id": [f"r{i}" for i in range(40)],
                              "category": categories, "survey_type": "relationship"})
    plan = ([("reliability", "bug")] * 10 + [("security", "misaligned_expectation")] * 6
            + [("search", "preference")] * 4 + [("api", "feature_request")])
    rows = []
    for i, (area, kind) in enumerate(plan):
        question = "improve" if i in (8, 9) else "reason"  # the 2 reliability passives
        rows += [(f"r{i}", f"r{i}:0", question, "area", area),
                 (f"r{i}", f"r{i}:0", question, "type", kind)]
    tags = pd.DataFrame(rows, columns=["response_id", "statement_id", "question", "kind",
                                       "label"])
    return responses, tags


def test_flags_routes_and_ranking() -> None:
    responses, tags = _survey()
    table = theme_table(responses, tags, min_n=1)
    roadmap = Roadmap(planned=["search"], effort={"reliability": "L", "security": "S",
                                                  "search": "S"})
    recovery = recovery_counts(tags, responses, "improve")
    assert recovery == {"reliability": 2}
    ranked = priorities(table, roadmap, recovery=recovery)
    by_theme = {p.theme: p for p in ranked}
    assert [p.theme for p in ranked] == ["reliability", "search", "api", "security"]
    assert [p.rank for p in ranked] == [1, 2, 3, 4]
    reliability = by_theme["reliability"]
    assert reliability.impact == pytest.approx(100 * 8 / 40)  # points at stake
    assert (reliability.quadrant, reliability.urgency, reliability.route) == (
        "big bet", "high", "roadmap")
    assert reliability.dominant_type == "bug"
    assert reliability.flags == []
    assert reliability.recovery_passives == 2
    assert "recovery path: 2 passive" in reliability.reason
    assert by_theme["security"].flags == ["misaligned expectation"]
    assert by_theme["security"].route == "marketing/sales"
    assert by_theme["security"].urgency == "low"
    assert by_theme["search"].flags == ["preference-driven", "already planned"]
    assert by_theme["search"].urgency == "medium"
    assert by_theme["api"].flags == ["edge case"]  # 1 of 40 respondents < 5%
    assert by_theme["api"].quadrant == "effort unknown"
    # Median points at stake of (20, 0, 0, 2.5) is 1.25: search (0 at stake) is low impact.
    assert by_theme["search"].quadrant == "nice to have"


def test_quadrants_follow_the_cut() -> None:
    responses, tags = _survey()
    table = theme_table(responses, tags, min_n=1)
    roadmap = Roadmap(effort={"reliability": "S", "api": "XL", "security": "M",
                              "search": "L"})
    quadrant = {p.theme: p.quadrant for p in priorities(table, roadmap, impact_cut=2.0)}
    assert quadrant == {"reliability": "quick win", "api": "big bet",
                        "security": "nice to have", "search": "skip"}


def _taxonomy_with(tmp_path: Path, extra: str) -> TaxonomyInfo:
    path = tmp_path / "taxonomy.yaml"
    path.write_text((ROOT / "taxonomy.yaml").read_text(encoding="utf-8") + extra,
                    encoding="utf-8")
    return load_taxonomy(path)


def test_roadmap_from_file_and_from_taxonomy(tmp_path: Path, taxonomy: TaxonomyInfo) -> None:
    shipped = load_roadmap(ROOT / "examples" / "roadmap.yaml", taxonomy)
    assert "search" in shipped.planned
    assert shipped.effort["mobile"] == "XL"
    assert shipped.launches[0].where == {"uses_automation": "1"}
    inline = _taxonomy_with(tmp_path, "roadmap:\n  planned: [billing]\n  effort: {billing: S}\n")
    assert load_roadmap(None, inline).planned == ["billing"]
    assert load_roadmap(None, taxonomy) == Roadmap()


@pytest.mark.parametrize(("text", "message"), [
    ("planned: [serch]\n", "lacks: \\['serch'\\]"),
    ("effort: {search: XXL}\n", "effort.search"),
    ("fixes:\n  - {name: x, date: not-a-date, theme: search}\n", "fixes.0.date"),
    ("owner: me\n", "owner"),
    ("planned: [search\n", "cannot read"),
])
def test_bad_roadmaps_name_the_file_and_key(tmp_path: Path, taxonomy: TaxonomyInfo, text: str,
                                            message: str) -> None:
    path = tmp_path / "roadmap.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError, match=message) as caught:
        load_roadmap(path, taxonomy)
    assert str(path) in str(caught.value)
    with pytest.raises(InputFileError, match="not found"):
        load_roadmap(tmp_path / "missing.yaml", taxonomy)
