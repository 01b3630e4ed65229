"""Theme discovery on synthetic vectors (no model) and once through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from themer.cli import app
from themer.discover import discover, min_cluster_size_for
from themer.errors import StatsError

TOPICS = {
    "export": ["export to pdf fails", "pdf export is blank", "cannot export pdf reports"],
    "calendar": ["calendar sync drops events", "google calendar sync broken",
                 "calendar events missing"],
    "dark": ["dark mode please", "need a dark theme", "dark mode for night work"],
}


def _blobs(per_topic: int = 30, noise: int = 4, seed: int = 1
           ) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Three tight topics on the unit sphere plus unrelated statements (fewer than a cluster)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 32))
    rows, vectors = [], []
    for t, (topic, phrases) in enumerate(TOPICS.items()):
        for i in range(per_topic):
            rows.append((f"r{topic}{i}", f"{phrases[i % 3]} #{i}", "detractor" if t == 0
                         else "promoter"))
            vectors.append(centres[t] + 0.15 * rng.normal(size=32))
    for i in range(noise):
        rows.append((f"n{i}", f"something else entirely {i}", "passive"))
        vectors.append(rng.normal(size=32) * 3)
    matrix = np.asarray(vectors, dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    statements = pd.DataFrame({"response_id": [r[0] for r in rows],
                               "statement_id": [f"{r[0]}#0" for r in rows],
                               "statement": [r[1] for r in rows]})
    responses = pd.DataFrame({"response_id": [r[0] for r in rows] + ["silent"],
                              "category": [r[2] for r in rows] + ["promoter"]})
    return statements, matrix, responses


def test_finds_the_topics_names_them_and_reports_outliers() -> None:
    statements, vectors, responses = _blobs()
    found = discover(statements, vectors, responses, min_cluster_size=5)
    assert len(found.candidates) == 3
    for candidate in found.candidates:  # each holds one whole topic, never two
        topics = {m["response_id"][1:-1].rstrip("0123456789") for m in candidate.members
                  if m["response_id"].startswith("r")}
        assert len(topics) == 1
        assert sum(m["response_id"].startswith("r") for m in candidate.members) == 30
    labels = " ".join(c.label for c in found.candidates)
    for word in ("pdf", "calendar", "dark"):
        assert word in labels
    assert len({c.label for c in found.candidates}) == 3  # no duplicate names
    export = next(c for c in found.candidates if "pdf" in c.label or "export" in c.label)
    assert export.category_mix["detractor"] == 30
    assert export.share == pytest.approx(export.respondents / len(responses))
    assert 3 <= len(export.quotes) <= 5
    assert found.unclustered_rate <= found.outlier_rate


def test_same_input_in_any_order_gives_the_same_candidates() -> None:
    statements, vectors, responses = _blobs()
    first = discover(statements, vectors, responses, min_cluster_size=5)
    order = np.random.default_rng(3).permutation(len(statements))
    second = discover(statements.iloc[order].reset_index(drop=True), vectors[order], responses,
                      min_cluster_size=5)
    summary = [(c.id, c.label, c.size, sorted(m["statement_id"] for m in c.members))
               for c in first.candidates]
    assert summary == [(c.id, c.label, c.size, sorted(m["statement_id"] for m in c.members))
                       for c in second.candidates]
    assert first.outlier_rate == second.outlier_rate


def test_reassignment_threshold_controls_the_unclustered_share() -> None:
    statements, vectors, responses = _blobs(noise=0)
    strict = discover(statements, vectors, responses, min_cluster_size=5,
                      reassign_threshold=1.01)
    loose = discover(statements, vectors, responses, min_cluster_size=5,
                     reassign_threshold=-1.0)
    assert strict.unclustered_rate == strict.outlier_rate
    assert loose.unclustered_rate == 0.0


def test_bad_input() -> None:
    statements, vectors, responses = _blobs()
    with pytest.raises(StatsError):
        discover(statements, vectors[:-1], responses)
    with pytest.raises(StatsError):
        discover(statements.head(1), vectors[:1], responses)
    assert min_cluster_size_for(100) == 5
    assert min_cluster_size_for(100_000) == 100


def test_cli_contract(tmp_path: Path) -> None:
    texts = ["The PDF export fails every time.", "Exporting to PDF gives a blank page.",
             "PDF export is broken.", "Calendar sync drops our events.",
             "Google Calendar sync stopped working.", "Events vanish from the calendar sync.",
             "Please add a dark mode.", "A dark theme would help at night.",
             "Dark mode, please."]
    frame = pd.DataFrame({"response_id": [f"r{i}" for i in range(54)],
                          "score": [i % 11 for i in range(54)],
                          "comment": [texts[i % 9] + f" Ticket {i}." for i in range(54)]})
    path = tmp_path / "survey.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "discover.json"
    result = CliRunner().invoke(app, ["discover", str(path), "--all", "--min-cluster-size", "5",
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert {"n_statements", "outlier_rate", "unclustered_rate", "candidates"} <= set(data)
    assert data["candidates"]
    candidate = data["candidates"][0]
    assert {"id", "label", "keywords", "size", "share", "nps", "ci_low", "ci_high", "quotes",
            "nearest_areas", "members"} <= set(candidate)
    assert candidate["members"][0]["response_id"].startswith("r")


def test_candidates_keep_their_ids_as_data_grows() -> None:
    from themer.discover import track

    statements, vectors, responses = _blobs(per_topic=30)
    first = discover(statements, vectors, responses, min_cluster_size=5)
    more, more_vectors, more_responses = _blobs(per_topic=40, seed=1)  # same topics, more data
    rng = np.random.default_rng(9)  # plus a fourth, emerging topic
    centre = rng.normal(size=32)
    extra = centre + 0.15 * rng.normal(size=(20, 32))
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    grown = pd.concat([more, pd.DataFrame({
        "response_id": [f"e{i}" for i in range(20)],
        "statement_id": [f"e{i}#0" for i in range(20)],
        "statement": [f"offline mode on planes {i}" for i in range(20)]})], ignore_index=True)
    everyone = pd.concat([more_responses, pd.DataFrame({
        "response_id": [f"e{i}" for i in range(20)], "category": "detractor"})])
    second = track(discover(grown, np.vstack([more_vectors, extra]).astype(np.float32),
                            everyone, min_cluster_size=5), first.to_dict())
    assert {c.id for c in first.candidates} <= {c.id for c in second.candidates}
    tracked = [c for c in second.candidates if c.status == "tracked"]
    assert len(tracked) == 3
    assert all(c.previous_size is not None and 30 <= c.previous_size < c.size for c in tracked)
    (emerging,) = [c for c in second.candidates if c.status == "new"]
    assert "offline" in emerging.label or "planes" in emerging.label
    assert emerging.nps == pytest.approx(-100.0)
    orphan = discover(grown, np.vstack([more_vectors, extra]).astype(np.float32),
                      more_responses, min_cluster_size=5)  # its respondents are unknown
    assert [c.nps for c in orphan.candidates if "offline" in c.label] == [None]


def test_promote_adds_an_area_and_retagging_uses_it(tmp_path: Path,
                                                    encoder: object, splitter: object) -> None:
    from themer.discover import promote
    from themer.errors import TaxonomyError
    from themer.tagger import Tagger
    from themer.taxonomy import parse_taxonomy

    root = Path(__file__).resolve().parent.parent
    original = (root / "taxonomy.yaml").read_text(encoding="utf-8")
    candidate = {"id": "cand-x", "label": "offline / planes", "keywords": ["offline", "planes"],
                 "size": 12, "quotes": ["We need to work offline on planes.",
                                        "Offline mode for flights, please.",
                                        "Nothing works without wifi on a plane."]}
    discovery = tmp_path / "discover.json"
    discovery.write_text(json.dumps({"candidates": [candidate]}), encoding="utf-8")
    output = tmp_path / "taxonomy-v2.yaml"
    result = CliRunner().invoke(app, ["promote", str(discovery), "cand-x", "--id",
                                      "offline_mode", "--owner", "mobile", "--by", "ana",
                                      "--taxonomy", str(root / "taxonomy.yaml"), "-o",
                                      str(output)])
    assert result.exit_code == 0, result.output
    edited = output.read_text(encoding="utf-8")
    assert edited.startswith(original.split("version: 1")[0])  # comments and layout kept
    new = parse_taxonomy(edited)
    assert new.version == 2
    area = next(a for a in new.taxonomy.areas if a.id == "offline_mode")
    assert area.examples == candidate["quotes"]
    decision = json.loads((tmp_path / "taxonomy-v2.decisions.jsonl").read_text().splitlines()[0])
    assert (decision["action"], decision["area"], decision["by"]) == (
        "promote", "offline_mode", "ana")
    statement = pd.DataFrame({"response_id": ["r1"], "text:reason": [
        "We need to work offline on planes."]})
    before = Tagger.build(parse_taxonomy(original), encoder, splitter)  # type: ignore[arg-type]
    after = Tagger.build(new, encoder, splitter)  # type: ignore[arg-type]
    old_tags = before.tag_statements(before.split(statement))
    new_tags = after.tag_statements(after.split(statement))
    assert "offline_mode" not in set(old_tags["label"])
    assert "offline_mode" in set(new_tags.loc[new_tags["kind"] == "area", "label"])
    again = CliRunner().invoke(app, ["promote", str(discovery), "cand-x", "--id", "search",
                                     "--taxonomy", str(root / "taxonomy.yaml"), "-o",
                                     str(tmp_path / "clash.yaml")])
    assert again.exit_code == 2  # the id is taken: a clear error, no file
    assert not (tmp_path / "clash.yaml").exists()
    missing = CliRunner().invoke(app, ["promote", str(discovery), "cand-y", "--id", "x_y",
                                       "-o", str(tmp_path / "y.yaml")])
    assert "no candidate 'cand-y'" in missing.output
    with pytest.raises(TaxonomyError):
        promote("areas: []\n", candidate, "z")
